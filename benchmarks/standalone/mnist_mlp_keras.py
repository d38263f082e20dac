"""mnist_mlp in plain Keras 3, the Keras example's script: backend from the third argument."""
import os
import sys

from common import arguments, clock, mnist_small, pin, report

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

keras.utils.set_random_seed(0)
x_train, y_train, _, _ = mnist_small()
model = keras.Sequential([
    keras.Input((784,)),
    keras.layers.Dense(512, activation="relu"), keras.layers.Dropout(0.2),
    keras.layers.Dense(512, activation="relu"), keras.layers.Dropout(0.2),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3, rho=0.9, epsilon=1e-7),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])


class EpochTimer(keras.callbacks.Callback):
    """The seed project's per-epoch logger: fit has no validation data, so an epoch is its training batches, and
    its logs (plain numbers by on_epoch_end) mean the device has finished them."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = clock()

    def on_epoch_end(self, epoch, logs=None):
        times.append(clock() - self.start)


times = []
model.fit(x_train, y_train, batch_size=128, epochs=epochs, shuffle=True, verbose=0, callbacks=[EpochTimer()])
report(times)
sys.stdout.flush()
