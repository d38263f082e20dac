"""mnist_cnn in native TensorFlow: a tf.Module with its own variables (no Keras) on NHWC images (TensorFlow's CPU
convolutions want channels-last), logits out (softmax fused into the loss), Keras's Adadelta rule written out in
dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Conv2D, Dense
from dlbench.frameworks.tensorflow.optim import KerasAdadelta


class MnistCNN(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="mnist_cnn")
        self.conv1 = Conv2D(hp.channels, hp.filters1, hp.kernel, "VALID", generator, "conv1")
        self.conv2 = Conv2D(hp.filters1, hp.filters2, hp.kernel, "VALID", generator, "conv2")
        self.dense1 = Dense(hp.flat, hp.hidden, generator, "dense1")
        self.dense2 = Dense(hp.hidden, hp.classes, generator, "dense2")
        self.rate1, self.rate2 = hp.dropout1, hp.dropout2
        self.pool = hp.pool

    def __call__(self, x, training):
        x = tf.nn.relu(self.conv1(x))
        x = tf.nn.relu(self.conv2(x))
        x = tf.nn.max_pool2d(x, self.pool, self.pool, padding="VALID")
        x = tf.nn.dropout(x, self.rate1) if training else x
        x = tf.reshape(x, [tf.shape(x)[0], -1])  # (H, W, C) order
        x = tf.nn.relu(self.dense1(x))
        x = tf.nn.dropout(x, self.rate2) if training else x
        return self.dense2(x)  # logits


def build(hp, generator):
    model = MnistCNN(hp, generator)
    optimizer = KerasAdadelta(model.trainable_variables, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
