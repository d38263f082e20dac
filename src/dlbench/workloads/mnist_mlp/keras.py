"""mnist_mlp in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks)."""
import keras
from keras import layers


INIT = dict(kernel_initializer="glorot_uniform", bias_initializer="zeros")


def build(hp):
    inputs = keras.Input(shape=(hp.inputs,))
    x = layers.Dense(hp.hidden, activation="relu", **INIT)(inputs)
    x = layers.Dropout(hp.dropout)(x)
    x = layers.Dense(hp.hidden, activation="relu", **INIT)(x)
    x = layers.Dropout(hp.dropout)(x)
    outputs = layers.Dense(hp.classes, activation="softmax", **INIT)(x)
    model = keras.Model(inputs, outputs, name="mnist_mlp")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=hp.learning_rate, rho=hp.rho, momentum=0.0,
                                           epsilon=hp.epsilon, centered=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model
