"""mnist_hrnn in JAX with Flax NNX and optax: nnx.OptimizedLSTMCell under nnx.RNN (a lax.scan over time; the cell's
kernel (in, 4 * units) without bias, recurrent kernel (units, 4 * units) with the bias: Keras's layout and count),
logits out (softmax fused into the loss); optax.rmsprop is Keras's rule (eps_in_sqrt=True, initial_scale 0)."""
import jax.numpy as jnp
import optax
from flax import nnx


def unit_forget_bias(units):
    """Keras's unit_forget_bias: zeros, with the forget gate's slice (gate order i, f, g, o) at 1."""
    def init(key, shape, dtype=jnp.float32):
        return jnp.zeros(shape, dtype).at[units:2 * units].set(1.0)
    return init


def keras_lstm(units_in, units, rngs):
    """Flax's fused LSTM cell initialised as Keras's LSTM, scanned over the sequence's time axis."""
    cell = nnx.OptimizedLSTMCell(units_in, units, gate_fn=nnx.sigmoid, activation_fn=nnx.tanh,
                                 kernel_init=nnx.initializers.glorot_uniform(),
                                 recurrent_kernel_init=nnx.initializers.orthogonal(),
                                 bias_init=unit_forget_bias(units), rngs=rngs)
    return nnx.RNN(cell, return_carry=True)


class MnistHRNN(nnx.Module):
    def __init__(self, hp, rngs):
        glorot, zeros = nnx.initializers.glorot_uniform(), nnx.initializers.zeros_init()
        self.row_lstm = keras_lstm(hp.pixels, hp.row_hidden, rngs)
        self.col_lstm = keras_lstm(hp.row_hidden, hp.col_hidden, rngs)
        self.dense = nnx.Linear(hp.col_hidden, hp.classes, kernel_init=glorot, bias_init=zeros, rngs=rngs)

    def __call__(self, x):
        batch, rows, cols, pixels = x.shape
        (_, row_h), _ = self.row_lstm(x.reshape(batch * rows, cols, pixels))  # every row of the batch at once
        (_, col_h), _ = self.col_lstm(row_h.reshape(batch, rows, -1))  # the sequence of row encodings
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
