"""mnist_hrnn in JAX with Flax NNX and optax: nnx.OptimizedLSTMCell under nnx.RNN (a lax.scan over time; the cell's
kernel (in, 4 * units) without bias, recurrent kernel (units, 4 * units) with the bias: Keras's layout and count),
logits out (softmax fused into the loss); optax.rmsprop is Keras's rule (eps_in_sqrt=True, initial_scale 0)."""
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_linear, keras_lstm


class MnistHRNN(nnx.Module):
    def __init__(self, hp, rngs):
        self.row_lstm = keras_lstm(hp.pixels, hp.row_hidden, rngs)
        self.col_lstm = keras_lstm(hp.row_hidden, hp.col_hidden, rngs)
        self.dense = keras_linear(hp.col_hidden, hp.classes, rngs)

    def __call__(self, x):
        batch, rows, cols, pixels = x.shape
        row_h = self.row_lstm(x.reshape(batch * rows, cols, pixels))  # every row of the batch at once
        col_h = self.col_lstm(row_h.reshape(batch, rows, -1))  # the sequence of row encodings
        return self.dense(col_h)  # logits


def build(hp, rngs):
    model = MnistHRNN(hp, rngs)
    optimizer = optax.rmsprop(learning_rate=hp.learning_rate, decay=hp.rho, eps=hp.epsilon,
                              initial_scale=0.0, eps_in_sqrt=True, centered=False, momentum=None)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
