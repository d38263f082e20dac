"""mnist_mlp in native TensorFlow: a tf.Module with its own variables (no Keras), logits out (softmax fused into
the loss), Keras's RMSprop rule written out in dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Dense
from dlbench.frameworks.tensorflow.optim import KerasRMSprop


class MnistMLP(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="mnist_mlp")
        self.dense1 = Dense(hp.inputs, hp.hidden, generator, "dense1")
        self.dense2 = Dense(hp.hidden, hp.hidden, generator, "dense2")
        self.dense3 = Dense(hp.hidden, hp.classes, generator, "dense3")
        self.rate = hp.dropout

    def __call__(self, x, training):
        x = tf.nn.relu(self.dense1(x))
        x = tf.nn.dropout(x, self.rate) if training else x
        x = tf.nn.relu(self.dense2(x))
        x = tf.nn.dropout(x, self.rate) if training else x
        return self.dense3(x)  # logits


def build(hp, generator):
    model = MnistMLP(hp, generator)
    optimizer = KerasRMSprop(model.trainable_variables, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
