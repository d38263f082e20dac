"""imdb_bilstm in JAX with Flax NNX and optax: two nnx.RNN scans over OptimizedLSTMCell (a lax.scan each; the
cell's kernel (in, 4 * units) without bias, recurrent kernel (units, 4 * units) with the bias: Keras's layout and
count), the backward one with reverse=True (its carry ends after the first step, as Keras's go_backwards), the
logit out (the sigmoid fused into the loss), Keras's Adam rule (dlbench.frameworks.jax.optim.keras_adam)."""
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_embedding, keras_linear, keras_lstm
from dlbench.frameworks.jax.optim import keras_adam


class ImdbBiLSTM(nnx.Module):
    def __init__(self, hp, rngs):
        self.embedding = keras_embedding(hp.max_features, hp.embedding_dim, rngs)
        self.forward = keras_lstm(hp.embedding_dim, hp.units, rngs)
        self.backward = keras_lstm(hp.embedding_dim, hp.units, rngs, reverse=True)
        self.dropout = nnx.Dropout(hp.dropout, rngs=rngs)
        self.dense = keras_linear(2 * hp.units, 1, rngs)

    def __call__(self, ids):
        x = self.embedding(ids)
        x = jnp.concatenate([self.forward(x), self.backward(x)], axis=1)  # [forward last, backward last]
        x = self.dropout(x)
        return self.dense(x)[:, 0]  # the logit


def build(hp, rngs):
    model = ImdbBiLSTM(hp, rngs)
    optimizer = keras_adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.sigmoid_binary_cross_entropy(logits, labels.astype(jnp.float32)).mean()


def correct(logits, labels):
    return ((logits > 0).astype(jnp.int32) == labels).sum()
