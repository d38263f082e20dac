"""char_lstm in native TensorFlow: a tf.Module with its own variables (no Keras); the LSTM cell written out in
dlbench.frameworks.tensorflow.layers (Keras's layout and gate order i, f, c, o; the 40 steps in a tf.scan, a while loop in
the graph), logits out (softmax fused into the loss), Keras's RMSprop rule written out in
dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import LSTM, Dense
from dlbench.frameworks.tensorflow.optim import KerasRMSprop


class CharLSTM(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="char_lstm")
        self.lstm = LSTM(hp.symbols, hp.units, generator, "lstm")
        self.dense = Dense(hp.units, hp.symbols, generator, "dense")

    def __call__(self, x, training):
        h = self.lstm(x)  # the last hidden state
        return self.dense(h)  # logits


def build(hp, generator):
    model = CharLSTM(hp, generator)
    optimizer = KerasRMSprop(model.trainable_variables, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))


def probabilities(logits):
    return tf.nn.softmax(logits, axis=1)
