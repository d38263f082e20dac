"""imdb_gru in JAX with Flax NNX and optax. nnx.GRUCell has no bias on its recurrent projection (cuDNN's GRU has
one, inside the reset gate's product), so the cell here is nnx.GRUCell with that bias added and Keras's gate order
z, r, h, run under nnx.RNN (a lax.scan over the 150 steps). Logits out (softmax fused into the loss), Keras's Adam
rule (dlbench.frameworks.jax.optim.keras_adam)."""
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_embedding, keras_linear
from dlbench.frameworks.jax.optim import keras_adam


class CudnnGRUCell(nnx.GRUCell):
    """The cuDNN / Keras reset_after GRU cell: kernel (in, 3 * units) with the input bias, recurrent kernel
    (units, 3 * units) with the recurrent bias; gates z, r, h."""

    def __init__(self, units_in, units, rngs):
        glorot, orthogonal, zeros = (nnx.initializers.glorot_uniform(), nnx.initializers.orthogonal(),
                                     nnx.initializers.zeros_init())
        super().__init__(units_in, units, kernel_init=glorot, recurrent_kernel_init=orthogonal, bias_init=zeros,
                         rngs=rngs)
        self.dense_h = nnx.Linear(units, 3 * units, use_bias=True, kernel_init=orthogonal, bias_init=zeros, rngs=rngs)

    def __call__(self, carry, inputs):
        h = carry
        x_z, x_r, x_h = jnp.split(self.dense_i(inputs), 3, axis=-1)
        h_z, h_r, h_h = jnp.split(self.dense_h(h), 3, axis=-1)
        z = nnx.sigmoid(x_z + h_z)
        r = nnx.sigmoid(x_r + h_r)
        n = jnp.tanh(x_h + r * h_h)  # reset after the recurrent bias
        h = z * h + (1.0 - z) * n
        return h, h


class ImdbGRU(nnx.Module):
    def __init__(self, hp, rngs):
        self.embed = keras_embedding(hp.num_words, hp.embed, rngs)
        self.gru = nnx.RNN(CudnnGRUCell(hp.embed, hp.hidden, rngs), return_carry=True)
        self.dense = keras_linear(hp.hidden, hp.classes, rngs)

    def __call__(self, x):
        x = self.embed(x)  # (batch, 150, 125)
        h, _ = self.gru(x)  # the last output, (batch, 100)
        return self.dense(h)  # logits


def build(hp, rngs):
    model = ImdbGRU(hp, rngs)
    optimizer = keras_adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
