"""mnist_cnn in Keras 2 (2.3.1 on cntk and theano, keras-mxnet 2.2.4.3 on mxnet; KERAS_BACKEND picks): keras.py's
model in the Keras 2 API. The adapter has set keras.backend.image_data_format() to channels_first (the layout all
three backends convolve in natively); the Input shape and every layer follow it, except Flatten(data_format=
"channels_last"), which flattens in memory order, (C, H, W), as in keras.py and the cifar workloads (the default
would transpose every batch to (H, W, C) first). Adadelta: Keras 2.3.1's rule is Keras 3's (epsilon inside both roots);
keras-mxnet's is MXNet's AdaDelta, the same rule without a learning rate (w <- w + d: the spec's lr is 1.0, so the
same updates). epsilon is set to the spec's 1e-7 explicitly (keras-mxnet would default to 1e-8)."""
import keras
from keras import layers


def build(hp):
    if keras.backend.image_data_format() == "channels_first":
        inputs = keras.Input(shape=(hp.channels, hp.rows, hp.cols))
    else:
        inputs = keras.Input(shape=(hp.rows, hp.cols, hp.channels))
    x = layers.Conv2D(hp.filters1, hp.kernel, padding="valid", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(inputs)
    x = layers.Conv2D(hp.filters2, hp.kernel, padding="valid", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.MaxPooling2D(pool_size=hp.pool, strides=hp.pool)(x)
    x = layers.Dropout(hp.dropout1)(x)
    x = layers.Flatten(data_format="channels_last")(x)  # memory order, as the native versions flatten
    x = layers.Dense(hp.hidden, activation="relu", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.Dropout(hp.dropout2)(x)
    outputs = layers.Dense(hp.classes, activation="softmax", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="mnist_cnn")
    model.compile(
        optimizer=keras.optimizers.Adadelta(lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon, decay=0.0),
        loss=keras.losses.sparse_categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model
