"""cifar10_cnn in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). The
layers take the backend's image_data_format, which dlbench sets before build(). Flatten(data_format="channels_last")
flattens in memory order: under channels_first, Keras's default Flatten would transpose every batch to (H, W, C)."""
import keras
from keras import layers


def build(hp):
    if keras.config.image_data_format() == "channels_first":
        inputs = keras.Input(shape=(hp.channels, hp.height, hp.width))
    else:
        inputs = keras.Input(shape=(hp.height, hp.width, hp.channels))
    x = layers.Conv2D(hp.filters1, hp.kernel, padding="same", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(inputs)
    x = layers.Conv2D(hp.filters1, hp.kernel, padding="valid", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.MaxPooling2D(pool_size=hp.pool, strides=hp.pool, padding="valid")(x)
    x = layers.Dropout(hp.conv_dropout)(x)
    x = layers.Conv2D(hp.filters2, hp.kernel, padding="same", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.Conv2D(hp.filters2, hp.kernel, padding="valid", activation="relu",
                      kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.MaxPooling2D(pool_size=hp.pool, strides=hp.pool, padding="valid")(x)
    x = layers.Dropout(hp.conv_dropout)(x)
    x = layers.Flatten(data_format="channels_last")(x)  # memory order, as the native versions flatten
    x = layers.Dense(hp.hidden, activation="relu", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    x = layers.Dropout(hp.dense_dropout)(x)
    outputs = layers.Dense(hp.classes, activation="softmax",
                           kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="cifar10_cnn")
    # Keras 2's decay=1e-6: Keras 3 ignores a `decay` argument, so it is the schedule it stood for.
    learning_rate = keras.optimizers.schedules.InverseTimeDecay(hp.learning_rate, decay_steps=1,
                                                                 decay_rate=hp.decay)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate, rho=hp.rho, momentum=0.0,
                                           epsilon=hp.epsilon, centered=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model
