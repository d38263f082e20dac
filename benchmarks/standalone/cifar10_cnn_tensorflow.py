"""cifar10_cnn in plain TensorFlow: variables, GradientTape, tf.function, on channels-last images; the NumPy shift
and flip augmentation on each batch; Keras's RMSprop rule with Keras 2's per-step decay written inline; the epoch's
loss and accuracy summed in variables inside the step."""
import math

from common import arguments, augment, cifar10, clock, pin, report

epochs, threads, _ = arguments()
pin(threads)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(threads)
tf.random.set_seed(0)
generator = tf.random.Generator.from_seed(0)


def glorot(shape):
    receptive = math.prod(shape[:-2])
    limit = math.sqrt(6.0 / ((shape[-2] + shape[-1]) * receptive))
    return tf.Variable(generator.uniform(shape, -limit, limit)), tf.Variable(tf.zeros([shape[-1]]))


weights = [*glorot((3, 3, 3, 32)), *glorot((3, 3, 32, 32)), *glorot((3, 3, 32, 64)), *glorot((3, 3, 64, 64)),
           *glorot((2304, 512)), *glorot((512, 10))]
velocity = [tf.Variable(tf.zeros_like(w)) for w in weights]
step = tf.Variable(0.0)
loss_sum, correct = tf.Variable(0.0), tf.Variable(0.0)


def conv(x, i, padding):
    return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, weights[i], 1, padding), weights[i + 1]))


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        h = tf.nn.max_pool2d(conv(conv(x, 0, "SAME"), 2, "VALID"), 2, 2, "VALID")
        h = tf.nn.dropout(h, 0.25)
        h = tf.nn.max_pool2d(conv(conv(h, 4, "SAME"), 6, "VALID"), 2, 2, "VALID")
        h = tf.nn.dropout(h, 0.25)
        h = tf.nn.dropout(tf.nn.relu(tf.reshape(h, [tf.shape(h)[0], -1]) @ weights[8] + weights[9]), 0.5)
        logits = h @ weights[10] + weights[11]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    lr = 1e-4 / (1.0 + 1e-6 * step)
    for w, v, g in zip(weights, velocity, tape.gradient(loss, weights)):
        v.assign(0.9 * v + 0.1 * tf.square(g))
        w.assign_sub(lr * g / tf.sqrt(v + 1e-7))
    step.assign_add(1.0)
    loss_sum.assign_add(loss * tf.cast(tf.shape(y)[0], tf.float32))
    correct.assign_add(tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=y.dtype), y), tf.float32)))


x_train, y_train = cifar10()
rng = np.random.RandomState(0)
times = []
for epoch in range(epochs):
    start = clock()
    loss_sum.assign(0.0)
    correct.assign(0.0)
    order = rng.permutation(len(x_train))
    for i in range(0, len(order), 32):
        index = order[i:i + 32]
        train_step(tf.constant(augment(x_train[index], rng)), tf.constant(y_train[index]))
    loss_sum.numpy(), correct.numpy()
    times.append(clock() - start)
report(times)
