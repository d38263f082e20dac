"""Keras 3's optimizer rules and initialisers written for native TensorFlow, without Keras.

Since TensorFlow 2.16, tf.keras is Keras 3: a native TensorFlow version that used tf.keras optimizers or
initialisers would be running Keras. These few lines keep the native version native.
"""
import math

import tensorflow as tf


def glorot_uniform(generator, shape):
    """U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)), for a dense (in, out) kernel."""
    fan_in, fan_out = shape[0], shape[-1]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return generator.uniform(shape, -limit, limit, dtype=tf.float32)


class KerasRMSprop(tf.Module):
    """v <- rho v + (1 - rho) g^2;  w <- w - lr g / sqrt(v + epsilon)   (no momentum, not centred)."""

    def __init__(self, variables, lr, rho, epsilon):
        super().__init__(name="rmsprop")
        self.lr, self.rho, self.epsilon = lr, rho, epsilon
        self.velocities = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]

    def apply(self, gradients, variables):
        for g, v, velocity in zip(gradients, variables, self.velocities):
            velocity.assign(self.rho * velocity + (1.0 - self.rho) * tf.square(g))
            v.assign_sub(self.lr * g / tf.sqrt(velocity + self.epsilon))
