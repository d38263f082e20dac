"""mnist_cnn in JAX with Flax NNX and optax: NHWC images, logits out (softmax fused into the loss); optax.adadelta is
Keras's rule (epsilon inside both roots)."""
import jax.numpy as jnp
import optax
from flax import nnx


class MnistCNN(nnx.Module):
    def __init__(self, hp, rngs):
        glorot, zeros = nnx.initializers.glorot_uniform(), nnx.initializers.zeros_init()
        kernel = (hp.kernel, hp.kernel)
        self.conv1 = nnx.Conv(hp.channels, hp.filters1, kernel, padding="VALID", kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv2 = nnx.Conv(hp.filters1, hp.filters2, kernel, padding="VALID", kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense1 = nnx.Linear(hp.flat, hp.hidden, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense2 = nnx.Linear(hp.hidden, hp.classes, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dropout1 = nnx.Dropout(hp.dropout1, rngs=rngs)
        self.dropout2 = nnx.Dropout(hp.dropout2, rngs=rngs)
        self.pool = (hp.pool, hp.pool)

    def __call__(self, x):
        x = nnx.relu(self.conv1(x))
        x = nnx.relu(self.conv2(x))
        x = nnx.max_pool(x, self.pool, strides=self.pool, padding="VALID")
        x = self.dropout1(x)
        x = x.reshape(x.shape[0], -1)  # (H, W, C) order
        x = self.dropout2(nnx.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp, rngs):
    model = MnistCNN(hp, rngs)
    optimizer = optax.adadelta(learning_rate=hp.learning_rate, rho=hp.rho, eps=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
