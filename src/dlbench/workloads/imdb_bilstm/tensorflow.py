"""imdb_bilstm in native TensorFlow: a tf.Module with its own variables (no Keras); two LSTMs written with
tf.Variables (Keras's layout and gate order i, f, c, o; each runs its 100 steps in a tf.scan, a while loop in the
graph), the backward one with go_backwards (its last state follows the first step, as Keras's), the logit out
(the sigmoid fused into the loss), Keras's Adam rule written out in dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import LSTM, Dense, Embedding
from dlbench.frameworks.tensorflow.optim import KerasAdam


class ImdbBiLSTM(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="imdb_bilstm")
        self.embedding = Embedding(hp.max_features, hp.embedding_dim, generator, "embedding")
        self.forward = LSTM(hp.embedding_dim, hp.units, generator, "forward_lstm")
        self.backward = LSTM(hp.embedding_dim, hp.units, generator, "backward_lstm", go_backwards=True)
        self.rate = hp.dropout
        self.dense = Dense(2 * hp.units, 1, generator, "dense")

    def __call__(self, ids, training):
        x = self.embedding(ids)
        x = tf.concat([self.forward(x), self.backward(x)], axis=1)  # [forward last, backward last]
        x = tf.nn.dropout(x, self.rate) if training else x
        return self.dense(x)[:, 0]  # the logit


def build(hp, generator):
    model = ImdbBiLSTM(hp, generator)
    optimizer = KerasAdam(model.trainable_variables, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(labels, tf.float32), logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.cast(logits > 0, labels.dtype), labels), tf.float32))
