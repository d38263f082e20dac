"""mnist_hrnn in native TensorFlow: a tf.Module with its own variables (no Keras); the LSTM cell is written out
(dlbench.frameworks.tensorflow.layers.LSTM: Keras's layout and gate order i, f, c, o; every step's input projection in one
matmul, the 28 steps in a tf.scan, a while loop in the graph, as every other TensorFlow LSTM here and every other
framework's loop: no unrolling in the default tier), logits out (softmax fused into the loss), Keras's RMSprop rule
written out in dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import LSTM, Dense
from dlbench.frameworks.tensorflow.optim import KerasRMSprop


class MnistHRNN(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="mnist_hrnn")
        self.row_lstm = LSTM(hp.pixels, hp.row_hidden, generator, "row_lstm")
        self.col_lstm = LSTM(hp.row_hidden, hp.col_hidden, generator, "col_lstm")
        self.dense = Dense(hp.col_hidden, hp.classes, generator, "dense")

    def __call__(self, x, training):
        batch, rows, cols, pixels = tf.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
        row_h = self.row_lstm(tf.reshape(x, [batch * rows, cols, pixels]))  # every row of the batch at once
        col_h = self.col_lstm(tf.reshape(row_h, [batch, rows, -1]))  # the sequence of row encodings
        return self.dense(col_h)  # logits


def build(hp, generator):
    model = MnistHRNN(hp, generator)
    optimizer = KerasRMSprop(model.trainable_variables, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
