"""mnist_hrnn in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). On the CPU
every backend runs Keras's own LSTM loop (a lax.scan on jax, a tf.while_loop on tensorflow, a Python loop on torch:
Keras uses the fused cuDNN kernel on a GPU only).

The row LSTM is wrapped as Keras 2 ran TimeDistributed (the original example's, with the batch size unknown): the
rows of every image become the batch, (batch * 28, 28, 1), the LSTM runs once over them, and its last states go back
to (batch, 28, 128), as the native versions do. Keras 3's layers.TimeDistributed, on a static time axis, calls the
LSTM once per row in a Python loop instead (28 LSTM calls per batch, 784 serial steps: the same function, 28 times
the launches; tests/test_rnn_launches.py). Same weights, same parameter count.

On torch this makes the epoch slower, not faster: Keras 3.15's CPU LSTM on torch slices its input projection once per
step, and each slice's backward zero-fills and adds back the whole (28, batch * 28, 512) tensor. That is Keras's
cost for the same work, and it is what a keras-torch user of this model pays."""
import keras
from keras import layers, ops


class TimeDistributed(layers.TimeDistributed):
    """layers.TimeDistributed on Keras 2's reshape path: the time axis folded into the batch, the wrapped layer
    called once, the result unfolded."""

    def call(self, inputs, training=None, mask=None):
        steps = inputs.shape[1]
        outputs = self.layer(ops.reshape(inputs, (-1,) + tuple(inputs.shape[2:])), training=training)
        return ops.reshape(outputs, (-1, steps) + tuple(outputs.shape[1:]))


def lstm(units):
    return layers.LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                       kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                       bias_initializer="zeros", unit_forget_bias=True)


def build(hp):
    inputs = keras.Input(shape=(hp.rows, hp.cols, hp.pixels))
    x = TimeDistributed(lstm(hp.row_hidden))(inputs)  # every row of the batch at once -> its last hidden state
    x = lstm(hp.col_hidden)(x)  # the sequence of row encodings -> its last hidden state
    outputs = layers.Dense(hp.classes, activation="softmax", kernel_initializer="glorot_uniform", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs, name="mnist_hrnn")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=hp.learning_rate, rho=hp.rho, momentum=0.0,
                                           epsilon=hp.epsilon, centered=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model
