"""mnist_mlp in JAX with Flax NNX and optax: logits out (softmax fused into the loss); optax.rmsprop is Keras's rule
(epsilon inside the root, eps_in_sqrt=True, initial_scale 0)."""
import jax.numpy as jnp
import optax
from flax import nnx


class MnistMLP(nnx.Module):
    def __init__(self, hp, rngs):
        glorot, zeros = nnx.initializers.glorot_uniform(), nnx.initializers.zeros_init()
        self.dense1 = nnx.Linear(hp.inputs, hp.hidden, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense2 = nnx.Linear(hp.hidden, hp.hidden, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense3 = nnx.Linear(hp.hidden, hp.classes, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dropout = nnx.Dropout(hp.dropout, rngs=rngs)

    def __call__(self, x):
        x = self.dropout(nnx.relu(self.dense1(x)))
        x = self.dropout(nnx.relu(self.dense2(x)))
        return self.dense3(x)  # logits


def build(hp, rngs):
    model = MnistMLP(hp, rngs)
    optimizer = optax.rmsprop(learning_rate=hp.learning_rate, decay=hp.rho, eps=hp.epsilon,
                              initial_scale=0.0, eps_in_sqrt=True, centered=False, momentum=None)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
