"""The two layers the native TensorFlow versions of the workloads share, written with tf.Variables.

Native TensorFlow has no layers outside Keras (tf.keras is Keras 3), so these play the part that torch.nn.Linear /
Conv2d and flax.nnx.Linear / Conv play in the other versions. Kernels glorot_uniform, biases zero, as Keras.
"""
import tensorflow as tf

from dlbench.frameworks.tf_optim import glorot_uniform


class Dense(tf.Module):
    def __init__(self, units_in, units_out, generator, name):
        super().__init__(name=name)
        self.kernel = tf.Variable(glorot_uniform(generator, (units_in, units_out)), name="kernel")
        self.bias = tf.Variable(tf.zeros([units_out]), name="bias")

    def __call__(self, x):
        return tf.matmul(x, self.kernel) + self.bias


class Conv2D(tf.Module):
    """A square convolution on NHWC images, stride 1, padding "SAME" or "VALID"."""

    def __init__(self, channels_in, channels_out, kernel, padding, generator, name):
        super().__init__(name=name)
        self.kernel = tf.Variable(glorot_uniform(generator, (kernel, kernel, channels_in, channels_out)), name="kernel")
        self.bias = tf.Variable(tf.zeros([channels_out]), name="bias")
        self.padding = padding

    def __call__(self, x):
        return tf.nn.bias_add(tf.nn.conv2d(x, self.kernel, strides=1, padding=self.padding), self.bias)
