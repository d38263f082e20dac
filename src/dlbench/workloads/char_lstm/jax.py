"""char_lstm in JAX with Flax NNX and optax: nnx.OptimizedLSTMCell under nnx.RNN (a lax.scan over the 40 steps;
Keras's kernel layout and count), logits out (softmax fused into the loss); optax.rmsprop is Keras's rule
(eps_in_sqrt=True, initial_scale 0)."""
import jax
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_linear, keras_lstm


class CharLSTM(nnx.Module):
    def __init__(self, hp, rngs):
        self.lstm = keras_lstm(hp.symbols, hp.units, rngs)
        self.dense = keras_linear(hp.units, hp.symbols, rngs)

    def __call__(self, x):
        h = self.lstm(x)  # the last hidden state
        return self.dense(h)  # logits


def build(hp, rngs):
    model = CharLSTM(hp, rngs)
    optimizer = optax.rmsprop(learning_rate=hp.learning_rate, decay=hp.rho, eps=hp.epsilon,
                              initial_scale=0.0, eps_in_sqrt=True, centered=False, momentum=None)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()


def probabilities(logits):
    return jax.nn.softmax(logits, axis=1)
