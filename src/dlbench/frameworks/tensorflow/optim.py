"""Keras 3's optimizer rules and initialisers written for native TensorFlow, without Keras.

Since TensorFlow 2.16, tf.keras is Keras 3: a native TensorFlow version that used tf.keras optimizers or
initialisers would be running Keras. These few lines keep the native version native. Every optimizer takes Keras 2's
`decay` (per-step inverse-time decay): lr_t = lr / (1 + decay * t), t the number of updates before this one.
"""
import math

import tensorflow as tf


def glorot_uniform(generator, shape):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)); a conv kernel (h, w, in, out) counts its receptive
    field in both fans, as Keras does."""
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return generator.uniform(shape, -limit, limit, dtype=tf.float32)


def orthogonal(generator, shape, gain=1.0):
    """Keras's Orthogonal: the Q of a QR decomposition of a normal matrix, signs fixed by R's diagonal."""
    rows, cols = math.prod(shape[:-1]), shape[-1]
    flat = generator.normal((max(rows, cols), min(rows, cols)), dtype=tf.float32)
    q, r = tf.linalg.qr(flat)
    q = q * tf.sign(tf.linalg.diag_part(r))
    if rows < cols:
        q = tf.transpose(q)
    return gain * tf.reshape(q, shape)


class _Optimizer(tf.Module):
    def __init__(self, lr, decay, name):
        super().__init__(name=name)
        self.lr, self.decay = lr, decay
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.slots = []

    def slot(self, variables):
        return [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]

    def learning_rate(self):
        return self.lr / (1.0 + self.decay * tf.cast(self.iterations, tf.float32))

    def apply(self, gradients, variables):
        lr = self.learning_rate()
        for i, (g, v) in enumerate(zip(gradients, variables)):
            self.update(i, g, v, lr)
        self.iterations.assign_add(1)


class KerasRMSprop(_Optimizer):
    """v <- rho v + (1 - rho) g^2;  w <- w - lr g / sqrt(v + epsilon)   (no momentum, not centred)."""

    def __init__(self, variables, lr, rho, epsilon, decay=0.0):
        super().__init__(lr, decay, "rmsprop")
        self.rho, self.epsilon = rho, epsilon
        self.velocities = self.slot(variables)

    def update(self, i, g, v, lr):
        velocity = self.velocities[i]
        velocity.assign(self.rho * velocity + (1.0 - self.rho) * tf.square(g))
        v.assign_sub(lr * g / tf.sqrt(velocity + self.epsilon))


class KerasAdadelta(_Optimizer):
    """a <- rho a + (1 - rho) g^2;  d <- -sqrt(b + eps) / sqrt(a + eps) g;  b <- rho b + (1 - rho) d^2;
    w <- w + lr d."""

    def __init__(self, variables, lr, rho, epsilon, decay=0.0):
        super().__init__(lr, decay, "adadelta")
        self.rho, self.epsilon = rho, epsilon
        self.grad_avgs, self.delta_avgs = self.slot(variables), self.slot(variables)

    def update(self, i, g, v, lr):
        grad_avg, delta_avg = self.grad_avgs[i], self.delta_avgs[i]
        grad_avg.assign(self.rho * grad_avg + (1.0 - self.rho) * tf.square(g))
        delta = -tf.sqrt(delta_avg + self.epsilon) / tf.sqrt(grad_avg + self.epsilon) * g
        delta_avg.assign(self.rho * delta_avg + (1.0 - self.rho) * tf.square(delta))
        v.assign_add(lr * delta)


class KerasSGD(_Optimizer):
    """m <- momentum m - lr g;  w <- w + m   (plain momentum: not Nesterov, no unit gain)."""

    def __init__(self, variables, lr, momentum, decay=0.0):
        super().__init__(lr, decay, "sgd")
        self.momentum = momentum
        self.moments = self.slot(variables)

    def update(self, i, g, v, lr):
        moment = self.moments[i]
        moment.assign(self.momentum * moment - lr * g)
        v.assign_add(moment)


class KerasAdam(_Optimizer):
    """m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + epsilon)   (t counts this update; not AMSGrad)."""

    def __init__(self, variables, lr, beta_1, beta_2, epsilon, decay=0.0):
        super().__init__(lr, decay, "adam")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.ms, self.vs = self.slot(variables), self.slot(variables)

    def apply(self, gradients, variables):
        t = tf.cast(self.iterations + 1, tf.float32)
        self.alpha = tf.sqrt(1.0 - tf.pow(self.beta_2, t)) / (1.0 - tf.pow(self.beta_1, t))
        _Optimizer.apply(self, gradients, variables)

    def update(self, i, g, v, lr):
        m, s = self.ms[i], self.vs[i]
        m.assign_add((g - m) * (1.0 - self.beta_1))
        s.assign_add((tf.square(g) - s) * (1.0 - self.beta_2))
        v.assign_sub(lr * self.alpha * m / (tf.sqrt(s) + self.epsilon))


class KerasAdamW(KerasAdam):
    """keras.optimizers.AdamW: before Keras's Adam step, every variable is decayed, w <- w - w * wd * lr (Keras
    excludes no variable by default)."""

    def __init__(self, variables, lr, weight_decay, beta_1, beta_2, epsilon):
        super().__init__(variables, lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        self.weight_decay = weight_decay

    def update(self, i, g, v, lr):
        v.assign_sub(v * (self.weight_decay * lr))
        KerasAdam.update(self, i, g, v, lr)
class AdamW(_Optimizer):
    """PyTorch's AdamW (nanoGPT's optimizer), gradients first clipped to a global norm:
    g <- g min(1, clip / ||g||);  w <- w - lr wd w (`decayed` variables only);  m <- b1 m + (1 - b1) g;
    v <- b2 v + (1 - b2) g^2;  w <- w - lr / (1 - b1^t) m / (sqrt(v / (1 - b2^t)) + epsilon)   (t counts this update).
    `schedule(iteration)` gives the learning rate of each update, the iteration counted from 0."""

    def __init__(self, variables, schedule, beta_1, beta_2, epsilon, weight_decay, decayed, clip):
        super().__init__(0.0, 0.0, "adamw")
        self.schedule, self.beta_1, self.beta_2, self.epsilon = schedule, beta_1, beta_2, epsilon
        self.weight_decay, self.decayed, self.clip = weight_decay, list(decayed), clip
        self.ms, self.vs = self.slot(variables), self.slot(variables)

    def learning_rate(self):
        return self.schedule(tf.cast(self.iterations, tf.float32))

    def apply(self, gradients, variables):
        gradients, _ = tf.clip_by_global_norm(gradients, self.clip)
        t = tf.cast(self.iterations + 1, tf.float32)
        self.corrections = (1.0 - tf.pow(self.beta_1, t), tf.sqrt(1.0 - tf.pow(self.beta_2, t)))
        _Optimizer.apply(self, gradients, variables)

    def update(self, i, g, v, lr):
        m, s = self.ms[i], self.vs[i]
        if self.decayed[i]:
            v.assign_sub(lr * self.weight_decay * v)
        m.assign_add((g - m) * (1.0 - self.beta_1))
        s.assign_add((tf.square(g) - s) * (1.0 - self.beta_2))
        first, second = self.corrections
        v.assign_sub(lr / first * m / (tf.sqrt(s) / second + self.epsilon))
