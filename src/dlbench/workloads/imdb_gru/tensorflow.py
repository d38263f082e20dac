"""imdb_gru in native TensorFlow: a tf.Module with its own variables (no Keras); the cuDNN-style GRU cell is written
out in Keras's layout and gate order z, r, h (the input projection of all 150 steps in one matmul, the recurrence in
a tf.scan, a while loop in the graph), logits out (softmax fused into the loss), Keras's Adam rule written out in
dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Dense, Embedding
from dlbench.frameworks.tensorflow.optim import KerasAdam, glorot_uniform, orthogonal


class GRU(tf.Module):
    """Keras's GRU(reset_after=True): kernel (in, 3 * units), recurrent kernel (units, 3 * units), bias (2, 3 * units)
    (input row, recurrent row); returns the last hidden state."""

    def __init__(self, units_in, units, generator, name):
        super().__init__(name=name)
        self.units = units
        self.kernel = tf.Variable(glorot_uniform(generator, (units_in, 3 * units)), name="kernel")
        self.recurrent_kernel = tf.Variable(orthogonal(generator, (units, 3 * units)), name="recurrent_kernel")
        self.bias = tf.Variable(tf.zeros([2, 3 * units]), name="bias")

    def step(self, h, x):
        x_z, x_r, x_h = tf.split(x, 3, axis=1)
        h_z, h_r, h_h = tf.split(tf.matmul(h, self.recurrent_kernel) + self.bias[1], 3, axis=1)
        z = tf.sigmoid(x_z + h_z)
        r = tf.sigmoid(x_r + h_r)
        n = tf.tanh(x_h + r * h_h)  # reset after the recurrent bias
        return z * h + (1.0 - z) * n

    def __call__(self, x):
        inputs = tf.einsum("btf,fg->tbg", x, self.kernel) + self.bias[0]  # time major: (time, batch, 3 * units)
        hs = tf.scan(self.step, inputs, initializer=tf.zeros([tf.shape(x)[0], self.units]))
        return hs[-1]


class ImdbGRU(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="imdb_gru")
        self.embed = Embedding(hp.num_words, hp.embed, generator, "embed")
        self.gru = GRU(hp.embed, hp.hidden, generator, "gru")
        self.dense = Dense(hp.hidden, hp.classes, generator, "dense")

    def __call__(self, x, training):
        x = self.embed(x)  # (batch, 150, 125)
        h = self.gru(x)  # the last output, (batch, 100)
        return self.dense(h)  # logits


def build(hp, generator):
    model = ImdbGRU(hp, generator)
    optimizer = KerasAdam(model.trainable_variables, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
