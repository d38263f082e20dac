"""char_embed_lstm in JAX with Flax NNX and optax: nnx.Embed, nnx.OptimizedLSTMCell under nnx.RNN (a lax.scan),
nnx.BatchNorm with Keras's momentum and epsilon (running statistics in BatchStat, counted as Keras counts them);
logits out of both heads (softmax fused into the loss); Keras's Adam rule (dlbench.frameworks.jax.optim) with Keras
2's per-step decay as an optax schedule."""
import jax
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import keras_embedding, keras_linear, keras_lstm
from dlbench.frameworks.jax.optim import inverse_time_decay, keras_adam
from dlbench.workloads.char_embed_lstm import SPEC

WEIGHTS = (SPEC.hp.main_weight, SPEC.hp.aux_weight)  # the loss weights of (main, aux): 1.0, 0.2


class CharEmbedLSTM(nnx.Module):
    def __init__(self, hp, rngs):
        self.embedding = keras_embedding(hp.symbols, hp.embedding, rngs)
        self.lstm = keras_lstm(hp.embedding, hp.units, rngs)
        self.aux = keras_linear(hp.units, hp.symbols, rngs)
        self.dense1 = keras_linear(hp.units, hp.hidden1, rngs, use_bias=False)
        self.norm1 = nnx.BatchNorm(hp.hidden1, momentum=hp.bn_momentum, epsilon=hp.bn_epsilon, rngs=rngs)
        self.dense2 = keras_linear(hp.hidden1, hp.hidden2, rngs, use_bias=False)
        self.norm2 = nnx.BatchNorm(hp.hidden2, momentum=hp.bn_momentum, epsilon=hp.bn_epsilon, rngs=rngs)
        self.main = keras_linear(hp.hidden2, hp.symbols, rngs)

    def __call__(self, ids):
        h = self.lstm(self.embedding(ids))  # the last hidden state
        x = nnx.relu(self.norm1(self.dense1(h)))
        x = nnx.relu(self.norm2(self.dense2(x)))
        return self.main(x), self.aux(h)  # logits of (main, aux)


def build(hp, rngs):
    model = CharEmbedLSTM(hp, rngs)
    optimizer = keras_adam(inverse_time_decay(hp.learning_rate, hp.decay), beta_1=hp.beta_1, beta_2=hp.beta_2,
                           epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(outputs, main_labels, aux_labels):
    main, aux = outputs
    return (WEIGHTS[0] * optax.softmax_cross_entropy_with_integer_labels(main, main_labels).mean()
            + WEIGHTS[1] * optax.softmax_cross_entropy_with_integer_labels(aux, aux_labels).mean())


def correct(outputs, main_labels, aux_labels):
    return (jnp.argmax(outputs[0], axis=1) == main_labels).sum()


def probabilities(outputs):
    return jax.nn.softmax(outputs[0], axis=1)
