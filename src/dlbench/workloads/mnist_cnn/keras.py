"""mnist_cnn in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). The adapter
has set keras.config.image_data_format() to the backend's layout; the Input shape and every layer follow it, except
Flatten(data_format="channels_last"), which flattens in memory order (as the cifar workloads): under channels_first
Keras's default Flatten would transpose every batch to (H, W, C) first."""
import keras
from keras import layers


def build(hp):
    if keras.config.image_data_format() == "channels_first":
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
        optimizer=keras.optimizers.Adadelta(learning_rate=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model
