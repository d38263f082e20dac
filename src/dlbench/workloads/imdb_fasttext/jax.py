"""imdb_fasttext in JAX with Flax NNX and optax: nnx.Embed, the mean over all positions (padding included), the
logit out (the sigmoid fused into the loss), Keras's Adam rule (dlbench.frameworks.jax.optim.keras_adam; JAX's
gradients are dense: every row, every step)."""
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_embedding, keras_linear
from dlbench.frameworks.jax.optim import keras_adam


class ImdbFastText(nnx.Module):
    def __init__(self, hp, rngs):
        self.embedding = keras_embedding(hp.max_features, hp.embedding_dim, rngs)
        self.dense = keras_linear(hp.embedding_dim, 1, rngs)

    def __call__(self, ids):
        x = self.embedding(ids)
        x = x.mean(axis=1)  # GlobalAveragePooling1D: every position, padding included
        return self.dense(x)[:, 0]  # the logit


def build(hp, rngs):
    model = ImdbFastText(hp, rngs)
    optimizer = keras_adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.sigmoid_binary_cross_entropy(logits, labels.astype(jnp.float32)).mean()


def correct(logits, labels):
    return ((logits > 0).astype(jnp.int32) == labels).sum()
