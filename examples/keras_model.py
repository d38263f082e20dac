"""A Keras model file for `dlbench run --model examples/keras_model.py`: a small classifier on generated data.

dlbench executes this file as your own code in each trial's worker, once per Keras backend (keras-jax,
keras-tensorflow, keras-torch): it imports keras, never a backend. See docs/your-model.md.
"""
import keras
import numpy as np
from keras import layers

BATCH_SIZE = 64  # optional: --batch-size overrides it
EPOCHS = 4       # optional: --epochs overrides it

FEATURES, CLASSES = 20, 4


def build():
    """A compiled keras.Model (a Functional or Sequential model with an Input), tracking accuracy."""
    inputs = keras.Input(shape=(FEATURES,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(CLASSES, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def data():
    """((x_train, y_train), (x_val, y_val)) as NumPy arrays: four Gaussian blobs, seeded, so every backend and every
    repeat sees the same samples."""
    rng = np.random.RandomState(0)
    centres = rng.normal(0.0, 0.3, size=(CLASSES, FEATURES))

    def blobs(n):
        labels = rng.randint(0, CLASSES, size=n)
        return (centres[labels] + rng.normal(size=(n, FEATURES))).astype("float32"), labels

    return blobs(2048), blobs(512)
