"""mnist_mlp in plain JAX + Flax NNX + optax, as the Flax tutorials write a training loop, the epoch's loss and
accuracy summed from the jitted step (what Keras's fit reports). NumPy batches go into an nnx.jit step called
through nnx.cached_partial, as Flax's performance guide advises (the model's graph traversed once)."""
from common import arguments, clock, mnist_small, pin, report

epochs, threads, _ = arguments()
pin(threads)
import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402


class MLP(nnx.Module):
    def __init__(self, rngs):
        init = dict(kernel_init=nnx.initializers.glorot_uniform(), bias_init=nnx.initializers.zeros_init(), rngs=rngs)
        self.l1, self.l2, self.l3 = nnx.Linear(784, 512, **init), nnx.Linear(512, 512, **init), nnx.Linear(512, 10, **init)
        self.dropout = nnx.Dropout(0.2, rngs=rngs)

    def __call__(self, x):
        x = self.dropout(nnx.relu(self.l1(x)))
        x = self.dropout(nnx.relu(self.l2(x)))
        return self.l3(x)


x_train, y_train, _, _ = mnist_small()
model = MLP(nnx.Rngs(params=0, dropout=1))
optimizer = nnx.Optimizer(model, optax.rmsprop(1e-3, decay=0.9, eps=1e-7, eps_in_sqrt=True), wrt=nnx.Param)


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
    for i in range(0, len(order), 128):
        index = order[i:i + 128]
        sums.append(step(x_train[index], y_train[index]))
    loss_sum, correct = np.sum(jax.device_get(sums), axis=0)
    jax.block_until_ready(nnx.state(model))
    times.append(clock() - start)
report(times)
