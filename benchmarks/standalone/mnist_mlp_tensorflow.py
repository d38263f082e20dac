"""mnist_mlp in plain TensorFlow: variables, GradientTape, tf.function (Keras's RMSprop rule written inline), the
epoch's loss and accuracy summed in variables inside the step (what Keras's fit reports)."""
import math

from common import arguments, clock, mnist_small, pin, report

epochs, threads, _ = arguments()
pin(threads)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(threads)
tf.random.set_seed(0)
generator = tf.random.Generator.from_seed(0)


def dense(n_in, n_out):
    limit = math.sqrt(6.0 / (n_in + n_out))
    return tf.Variable(generator.uniform((n_in, n_out), -limit, limit)), tf.Variable(tf.zeros([n_out]))


weights = [*dense(784, 512), *dense(512, 512), *dense(512, 10)]
velocity = [tf.Variable(tf.zeros_like(w)) for w in weights]


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        h = tf.nn.dropout(tf.nn.relu(x @ weights[0] + weights[1]), 0.2)
        h = tf.nn.dropout(tf.nn.relu(h @ weights[2] + weights[3]), 0.2)
        logits = h @ weights[4] + weights[5]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    for w, v, g in zip(weights, velocity, tape.gradient(loss, weights)):
        v.assign(0.9 * v + 0.1 * tf.square(g))
        w.assign_sub(1e-3 * g / tf.sqrt(v + 1e-7))
    loss_sum.assign_add(loss * tf.cast(tf.shape(y)[0], tf.float32))
    correct.assign_add(tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=y.dtype), y), tf.float32)))


loss_sum, correct = tf.Variable(0.0), tf.Variable(0.0)
x_train, y_train, _, _ = mnist_small()
rng = np.random.RandomState(0)
times = []
for epoch in range(epochs):
    start = clock()
    loss_sum.assign(0.0)
    correct.assign(0.0)
    order = rng.permutation(len(x_train))
    for i in range(0, len(order), 128):
        index = order[i:i + 128]
        train_step(tf.constant(x_train[index]), tf.constant(y_train[index]))
    loss_sum.numpy(), correct.numpy()
    times.append(clock() - start)
report(times)
