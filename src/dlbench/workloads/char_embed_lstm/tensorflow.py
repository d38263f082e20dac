"""char_embed_lstm in native TensorFlow: a tf.Module with its own variables (no Keras); Embedding and the LSTM cell
from dlbench.frameworks.tensorflow.layers (the 40 steps in a tf.scan), BatchNorm written out here with Keras's rule; logits
out of both heads (softmax fused into the loss); Keras's Adam rule with Keras 2's per-step decay
(dlbench.frameworks.tensorflow.optim)."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import LSTM, Dense, Embedding
from dlbench.frameworks.tensorflow.optim import KerasAdam
from dlbench.workloads.char_embed_lstm import SPEC

WEIGHTS = (SPEC.hp.main_weight, SPEC.hp.aux_weight)  # the loss weights of (main, aux): 1.0, 0.2


class BatchNorm(tf.Module):
    """Keras's BatchNormalization over the last axis: training normalises by the batch's mean and biased variance
    and moves the moving statistics (moving = momentum * moving + (1 - momentum) * batch); inference uses them."""

    def __init__(self, units, momentum, epsilon, name):
        super().__init__(name=name)
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = tf.Variable(tf.ones([units]), name="gamma")
        self.beta = tf.Variable(tf.zeros([units]), name="beta")
        self.moving_mean = tf.Variable(tf.zeros([units]), trainable=False, name="moving_mean")
        self.moving_variance = tf.Variable(tf.ones([units]), trainable=False, name="moving_variance")

    def __call__(self, x, training):
        if training:
            mean, variance = tf.nn.moments(x, axes=[0])
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return tf.nn.batch_normalization(x, mean, variance, self.beta, self.gamma, self.epsilon)


class CharEmbedLSTM(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="char_embed_lstm")
        self.embedding = Embedding(hp.symbols, hp.embedding, generator, "embedding")
        self.lstm = LSTM(hp.embedding, hp.units, generator, "lstm")
        self.aux = Dense(hp.units, hp.symbols, generator, "aux")
        self.dense1 = Dense(hp.units, hp.hidden1, generator, "dense1", use_bias=False)
        self.norm1 = BatchNorm(hp.hidden1, hp.bn_momentum, hp.bn_epsilon, "norm1")
        self.dense2 = Dense(hp.hidden1, hp.hidden2, generator, "dense2", use_bias=False)
        self.norm2 = BatchNorm(hp.hidden2, hp.bn_momentum, hp.bn_epsilon, "norm2")
        self.main = Dense(hp.hidden2, hp.symbols, generator, "main")

    def __call__(self, ids, training):
        h = self.lstm(self.embedding(ids))  # the last hidden state
        x = tf.nn.relu(self.norm1(self.dense1(h), training))
        x = tf.nn.relu(self.norm2(self.dense2(x), training))
        return self.main(x), self.aux(h)  # logits of (main, aux)


def build(hp, generator):
    model = CharEmbedLSTM(hp, generator)
    optimizer = KerasAdam(model.trainable_variables, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon, decay=hp.decay)
    return model, optimizer


def loss_fn(outputs, main_labels, aux_labels):
    main, aux = outputs
    def cross_entropy(labels, logits):
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return WEIGHTS[0] * cross_entropy(main_labels, main) + WEIGHTS[1] * cross_entropy(aux_labels, aux)


def correct(outputs, main_labels, aux_labels):
    predicted = tf.argmax(outputs[0], axis=1, output_type=main_labels.dtype)
    return tf.reduce_sum(tf.cast(tf.equal(predicted, main_labels), tf.float32))


def probabilities(outputs):
    return tf.nn.softmax(outputs[0], axis=1)
