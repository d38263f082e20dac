"""cifar10_vgg in Keras 2 (2.3.1 on cntk and theano, keras-mxnet 2.2.4.3 on mxnet; KERAS_BACKEND picks): keras.py's
model in the Keras 2 API. The layers take the backend's image_data_format, which dlbench sets to channels_first
before build(). relu after each pool, as the spec. Flatten(data_format="channels_last") flattens in memory order, as
in keras.py. SGD with momentum: Keras 2.3.1's rule and keras-mxnet's (MXNet's sgd_mom_update) are Keras 3's,
    m <- momentum * m - lr * g;  w <- w + m."""
import keras
from keras import layers


def build(hp):
    if keras.backend.image_data_format() == "channels_first":
        inputs = keras.Input(shape=(hp.channels, hp.height, hp.width))
    else:
        inputs = keras.Input(shape=(hp.height, hp.width, hp.channels))
    x = layers.Conv2D(hp.filters1, hp.kernel, padding="same", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(inputs)
    x = layers.Conv2D(hp.filters1, hp.kernel, padding="same",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.MaxPooling2D(pool_size=hp.pool, strides=hp.pool, padding="valid")(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(hp.conv_dropout)(x)
    x = layers.Conv2D(hp.filters2, hp.kernel, padding="same", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.Conv2D(hp.filters2, hp.kernel, padding="same",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.MaxPooling2D(pool_size=hp.pool, strides=hp.pool, padding="valid")(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(hp.conv_dropout)(x)
    x = layers.Flatten(data_format="channels_last")(x)  # memory order, as the native versions flatten
    x = layers.Dense(hp.hidden, activation="relu", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.Dropout(hp.dense_dropout)(x)
    outputs = layers.Dense(hp.classes, activation="softmax",
                           kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="cifar10_vgg")
    model.compile(
        optimizer=keras.optimizers.SGD(lr=hp.learning_rate, momentum=hp.momentum, decay=0.0,
                                       nesterov=False),
        loss=keras.losses.sparse_categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model
