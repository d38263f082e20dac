"""cifar10_vgg in native TensorFlow on channels-last (NHWC) images: a tf.Module with its own variables (no Keras),
logits out (softmax fused into the loss), Keras's plain-momentum SGD rule written out in
dlbench.frameworks.tensorflow.optim. relu after each pool, as the spec."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Conv2D, Dense
from dlbench.frameworks.tensorflow.optim import KerasSGD


class Cifar10VGG(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="cifar10_vgg")
        self.conv1 = Conv2D(hp.channels, hp.filters1, hp.kernel, "SAME", generator, "conv1")
        self.conv2 = Conv2D(hp.filters1, hp.filters1, hp.kernel, "SAME", generator, "conv2")
        self.conv3 = Conv2D(hp.filters1, hp.filters2, hp.kernel, "SAME", generator, "conv3")
        self.conv4 = Conv2D(hp.filters2, hp.filters2, hp.kernel, "SAME", generator, "conv4")
        self.dense1 = Dense(hp.flat, hp.hidden, generator, "dense1")
        self.dense2 = Dense(hp.hidden, hp.classes, generator, "dense2")
        self.conv_rate, self.dense_rate = hp.conv_dropout, hp.dense_dropout
        self.pool = hp.pool

    def __call__(self, x, training):
        x = tf.nn.relu(self.conv1(x))
        x = tf.nn.relu(tf.nn.max_pool2d(self.conv2(x), self.pool, self.pool, padding="VALID"))
        x = tf.nn.dropout(x, self.conv_rate) if training else x
        x = tf.nn.relu(self.conv3(x))
        x = tf.nn.relu(tf.nn.max_pool2d(self.conv4(x), self.pool, self.pool, padding="VALID"))
        x = tf.nn.dropout(x, self.conv_rate) if training else x
        x = tf.reshape(x, [tf.shape(x)[0], -1])  # (H, W, C) order
        x = tf.nn.relu(self.dense1(x))
        x = tf.nn.dropout(x, self.dense_rate) if training else x
        return self.dense2(x)  # logits


def build(hp, generator):
    model = Cifar10VGG(hp, generator)
    optimizer = KerasSGD(model.trainable_variables, lr=hp.learning_rate, momentum=hp.momentum)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
