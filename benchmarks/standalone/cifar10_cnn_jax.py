"""cifar10_cnn in plain JAX + Flax NNX + optax, as the Flax tutorials write a training loop: channels-last images,
the NumPy shift and flip augmentation on each batch, optax.rmsprop (Keras's rule: epsilon inside the root) with Keras
2's per-step decay as a schedule, the epoch's loss and accuracy summed in the jitted step, called through
nnx.cached_partial as Flax's performance guide advises."""
from common import arguments, augment, cifar10, clock, pin, report

epochs, threads, _ = arguments()
pin(threads)
import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402


class CNN(nnx.Module):
    def __init__(self, rngs):
        init = dict(kernel_init=nnx.initializers.glorot_uniform(), bias_init=nnx.initializers.zeros_init(), rngs=rngs)
        self.conv1 = nnx.Conv(3, 32, (3, 3), padding="SAME", **init)
        self.conv2 = nnx.Conv(32, 32, (3, 3), padding="VALID", **init)
        self.conv3 = nnx.Conv(32, 64, (3, 3), padding="SAME", **init)
        self.conv4 = nnx.Conv(64, 64, (3, 3), padding="VALID", **init)
        self.dense1 = nnx.Linear(2304, 512, **init)
        self.dense2 = nnx.Linear(512, 10, **init)
        self.conv_dropout = nnx.Dropout(0.25, rngs=rngs)
        self.dense_dropout = nnx.Dropout(0.5, rngs=rngs)

    def __call__(self, x):
        x = nnx.relu(self.conv2(nnx.relu(self.conv1(x))))
        x = self.conv_dropout(nnx.max_pool(x, (2, 2), strides=(2, 2), padding="VALID"))
        x = nnx.relu(self.conv4(nnx.relu(self.conv3(x))))
        x = self.conv_dropout(nnx.max_pool(x, (2, 2), strides=(2, 2), padding="VALID"))
        x = self.dense_dropout(nnx.relu(self.dense1(x.reshape(x.shape[0], -1))))
        return self.dense2(x)


x_train, y_train = cifar10()
model = CNN(nnx.Rngs(params=0, dropout=1))
optimizer = nnx.Optimizer(model, optax.rmsprop(lambda step: 1e-4 / (1.0 + 1e-6 * step), decay=0.9, eps=1e-7,
                                               eps_in_sqrt=True), wrt=nnx.Param)


@nnx.jit
def train_step(model, optimizer, x, y):
    def loss_fn(model):
        logits = model(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits
    (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
    optimizer.update(model, grads)
    return loss * y.shape[0], (logits.argmax(axis=1) == y).sum()


model.train()
step = nnx.cached_partial(train_step, model, optimizer)
rng = np.random.RandomState(0)
times = []
for epoch in range(epochs):
    start = clock()
    order = rng.permutation(len(x_train))
    sums = []
    for i in range(0, len(order), 32):
        index = order[i:i + 32]
        sums.append(step(augment(x_train[index], rng), y_train[index]))
    loss_sum, correct = np.sum(jax.device_get(sums), axis=0)
    jax.block_until_ready(nnx.state(model))
    times.append(clock() - start)
report(times)
