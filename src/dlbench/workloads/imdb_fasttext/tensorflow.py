"""imdb_fasttext in native TensorFlow: a tf.Module with its own variables (no Keras); the embedding lookup is a
tf.gather (its gradient an IndexedSlices, densified by the Adam update: every row, every step), the mean over all
positions (padding included), the logit out (the sigmoid fused into the loss), Keras's Adam rule written out in
dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Dense, Embedding
from dlbench.frameworks.tensorflow.optim import KerasAdam


class ImdbFastText(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="imdb_fasttext")
        self.embedding = Embedding(hp.max_features, hp.embedding_dim, generator, "embedding")
        self.dense = Dense(hp.embedding_dim, 1, generator, "dense")

    def __call__(self, ids, training):
        x = self.embedding(ids)
        x = tf.reduce_mean(x, axis=1)  # GlobalAveragePooling1D: every position, padding included
        return self.dense(x)[:, 0]  # the logit


def build(hp, generator):
    model = ImdbFastText(hp, generator)
    optimizer = KerasAdam(model.trainable_variables, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(labels, tf.float32), logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.cast(logits > 0, labels.dtype), labels), tf.float32))
