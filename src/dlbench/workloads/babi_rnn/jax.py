"""babi_rnn in JAX with Flax NNX and optax: nnx.OptimizedLSTMCell under nnx.RNN (a lax.scan over the 552 steps;
Keras's layout and count), logits out (softmax fused into the loss), Keras's Adam rule
(dlbench.frameworks.jax.optim.keras_adam)."""
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_embedding, keras_linear, keras_lstm
from dlbench.frameworks.jax.optim import keras_adam


class BabiRNN(nnx.Module):
    def __init__(self, hp, rngs):
        self.story_embed = keras_embedding(hp.vocab_size, hp.embed, rngs)
        self.query_embed = keras_embedding(hp.vocab_size, hp.embed, rngs)
        self.query_lstm = keras_lstm(hp.embed, hp.embed, rngs)
        self.story_lstm = keras_lstm(hp.embed, hp.hidden, rngs)
        self.dense = keras_linear(hp.hidden, hp.vocab_size, rngs)
        self.dropout = nnx.Dropout(hp.dropout, rngs=rngs)  # one module, a fresh mask at each of its three uses

    def __call__(self, story, query):
        s = self.dropout(self.story_embed(story))  # (batch, 552, 50)
        q = self.dropout(self.query_embed(query))  # (batch, 5, 50)
        q = self.query_lstm(q)  # the question's encoding: the last hidden state, (batch, 50)
        q = q[:, None, :]  # RepeatVector: broadcast over the story's 552 steps
        x = self.story_lstm(s + q)
        x = self.dropout(x)
        return self.dense(x)  # logits


def build(hp, rngs):
    model = BabiRNN(hp, rngs)
    optimizer = keras_adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, answers):
    return optax.softmax_cross_entropy_with_integer_labels(logits, answers).mean()


def correct(logits, answers):
    return (jnp.argmax(logits, axis=1) == answers).sum()
