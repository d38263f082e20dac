"""cifar10_cnn in JAX with Flax NNX and optax, on channels-last (NHWC) images: logits out (softmax fused into the
loss); optax.rmsprop is Keras's rule (epsilon inside the root, eps_in_sqrt=True, initial_scale 0) and takes Keras
2's decay as a schedule function of the update count."""
import jax.numpy as jnp
import optax
from flax import nnx


class Cifar10CNN(nnx.Module):
    def __init__(self, hp, rngs):
        glorot, zeros = nnx.initializers.glorot_uniform(), nnx.initializers.zeros_init()
        kernel = (hp.kernel, hp.kernel)
        self.conv1 = nnx.Conv(hp.channels, hp.filters1, kernel, padding="SAME",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv2 = nnx.Conv(hp.filters1, hp.filters1, kernel, padding="VALID",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv3 = nnx.Conv(hp.filters1, hp.filters2, kernel, padding="SAME",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv4 = nnx.Conv(hp.filters2, hp.filters2, kernel, padding="VALID",
                              kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense1 = nnx.Linear(hp.flat, hp.hidden, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.dense2 = nnx.Linear(hp.hidden, hp.classes, kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.conv_dropout = nnx.Dropout(hp.conv_dropout, rngs=rngs)
        self.dense_dropout = nnx.Dropout(hp.dense_dropout, rngs=rngs)
        self.pool = (hp.pool, hp.pool)

    def __call__(self, x):
        x = nnx.relu(self.conv1(x))
        x = nnx.relu(self.conv2(x))
        x = self.conv_dropout(nnx.max_pool(x, self.pool, strides=self.pool, padding="VALID"))
        x = nnx.relu(self.conv3(x))
        x = nnx.relu(self.conv4(x))
        x = self.conv_dropout(nnx.max_pool(x, self.pool, strides=self.pool, padding="VALID"))
        x = x.reshape(x.shape[0], -1)  # (H, W, C) order
        x = self.dense_dropout(nnx.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp, rngs):
    model = Cifar10CNN(hp, rngs)

    def learning_rate(step):  # Keras 2's decay: optax counts updates from 0
        return hp.learning_rate / (1.0 + hp.decay * step)

    optimizer = optax.rmsprop(learning_rate=learning_rate, decay=hp.rho, eps=hp.epsilon,
                              initial_scale=0.0, eps_in_sqrt=True, centered=False, momentum=None)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
