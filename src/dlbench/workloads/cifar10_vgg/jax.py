"""cifar10_vgg in JAX with Flax NNX and optax, on channels-last (NHWC) images: logits out (softmax fused into the
loss); optax.sgd with plain momentum (trace t <- momentum * t + g; w <- w - lr * t: Keras's rule for a constant lr).
relu after each pool, as the spec."""
import jax.numpy as jnp
import optax
from flax import nnx


class Cifar10VGG(nnx.Module):
    def __init__(self, hp, rngs):
        glorot, zeros = nnx.initializers.glorot_uniform(), nnx.initializers.zeros_init()
        kernel = (hp.kernel, hp.kernel)
        self.conv1 = nnx.Conv(hp.channels, hp.filters1, kernel, padding="SAME",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv2 = nnx.Conv(hp.filters1, hp.filters1, kernel, padding="SAME",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv3 = nnx.Conv(hp.filters1, hp.filters2, kernel, padding="SAME",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv4 = nnx.Conv(hp.filters2, hp.filters2, kernel, padding="SAME",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense1 = nnx.Linear(hp.flat, hp.hidden, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense2 = nnx.Linear(hp.hidden, hp.classes, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv_dropout = nnx.Dropout(hp.conv_dropout, rngs=rngs)
        self.dense_dropout = nnx.Dropout(hp.dense_dropout, rngs=rngs)
        self.pool = (hp.pool, hp.pool)

    def __call__(self, x):
        x = nnx.relu(self.conv1(x))
        x = nnx.relu(nnx.max_pool(self.conv2(x), self.pool, strides=self.pool, padding="VALID"))
        x = self.conv_dropout(x)
        x = nnx.relu(self.conv3(x))
        x = nnx.relu(nnx.max_pool(self.conv4(x), self.pool, strides=self.pool, padding="VALID"))
        x = self.conv_dropout(x)
        x = x.reshape(x.shape[0], -1)  # (H, W, C) order
        x = self.dense_dropout(nnx.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp, rngs):
    model = Cifar10VGG(hp, rngs)
    optimizer = optax.sgd(learning_rate=hp.learning_rate, momentum=hp.momentum, nesterov=False)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
