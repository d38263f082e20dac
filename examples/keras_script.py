"""An ordinary Keras training script, unchanged for dlbench: `dlbench run --script examples/keras_script.py -- --epochs 3`
runs it once per Keras backend and records the epochs of its fit call. It also runs on its own:
`KERAS_BACKEND=jax python examples/keras_script.py --epochs 3`.
"""
import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--batch-size", type=int, default=64)
args = parser.parse_args()

# Four Gaussian blobs in 20 dimensions, seeded: the same data on every backend.
rng = np.random.RandomState(0)
centres = rng.normal(0.0, 0.3, size=(4, 20))
labels = rng.randint(0, 4, size=2560)
features = (centres[labels] + rng.normal(size=(2560, 20))).astype("float32")
x_train, y_train, x_val, y_val = features[:2048], labels[:2048], features[2048:], labels[2048:]

model = keras.Sequential([
    keras.Input(shape=(20,)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(4, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_data=(x_val, y_val),
          verbose=2)
print("validation:", model.evaluate(x_val, y_val, verbose=0))
