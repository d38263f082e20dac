"""cifar10_cnn in plain Keras 3, the Keras example's script with its augmentation as a PyDataset (Keras 3's form of
`fit(datagen.flow(...))`): backend from the third argument. The image layout is the one each backend's convolutions
want (channels-first on torch), as dlbench sets it: this compares the harness, not a layout choice."""
import os
import sys

from common import arguments, augment, cifar10, clock, pin, report

epochs, threads, backend = arguments()
pin(threads)
os.environ["KERAS_BACKEND"] = backend
if backend == "torch":
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.set_flush_denormal(True)
elif backend == "tensorflow":
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

keras.utils.set_random_seed(0)
channels_first = backend == "torch"
keras.config.set_image_data_format("channels_first" if channels_first else "channels_last")
x_train, y_train = cifar10(channels_first)


class Augmented(keras.utils.PyDataset):
    """Shuffled batches of 32, shifted and flipped; reshuffled after every epoch."""

    def __init__(self, rng):
        super().__init__()
        self.rng = rng
        self.order = rng.permutation(len(x_train))

    def __len__(self):
        return -(-len(x_train) // 32)

    def __getitem__(self, i):
        index = self.order[i * 32:(i + 1) * 32]
        return augment(x_train[index], self.rng, channels_first), y_train[index]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(x_train))


model = keras.Sequential([
    keras.Input(x_train.shape[1:]),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Dropout(0.25),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Dropout(0.25),
    layers.Flatten(data_format="channels_last"),  # memory order: no transpose per batch under channels_first
    layers.Dense(512, activation="relu"),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.RMSprop(
                  learning_rate=keras.optimizers.schedules.InverseTimeDecay(1e-4, decay_steps=1, decay_rate=1e-6),
                  rho=0.9, epsilon=1e-7),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])


class EpochTimer(keras.callbacks.Callback):
    """Per-epoch seconds: fit has no validation data, so an epoch is its training batches, and its logs (plain
    numbers by on_epoch_end) mean the device has finished them."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = clock()

    def on_epoch_end(self, epoch, logs=None):
        times.append(clock() - self.start)


times = []
model.fit(Augmented(np.random.RandomState(0)), epochs=epochs, verbose=0, callbacks=[EpochTimer()])
report(times)
sys.stdout.flush()
