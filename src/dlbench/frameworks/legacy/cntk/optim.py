"""Keras 3's optimizer rules in CNTK 2.7, checked against a NumPy transcription of each rule (Python 3.6-safe).

CNTK's criterion sums the per-sample losses of a minibatch, so every learner receives the SUMMED gradient; what it
does with it depends on the learner and on its reference minibatch size:
  - learning_parameter_schedule(lr) (a per-minibatch rate) with minibatch_size=IGNORE makes the built-in learners
    apply the rule to the MEAN gradient, as Keras does. Measured on CNTK 2.7: sgd, momentum_sgd, adadelta and adam
    then match the NumPy rules below to float32 rounding; without IGNORE, adadelta and adam took steps 1/N as long
    (N: the batch size), and with a per-sample rate (learning_parameter_schedule_per_sample) the summed gradient
    moves epsilon's place relative to the gradient.
  - momentum_schedule(m) is a per-minibatch momentum (m itself every step), as Keras's.
  - cntk.learners.rmsprop is not RMSprop as Keras has it (it adapts a per-weight step size from the signs of
    successive gradients, with a floor of 1e-6 inside the root), so Keras's rule is written as a universal learner:
    a CNTK graph of assign ops that runs after every backward pass. A universal learner gets the summed gradient
    as it is, so the rule divides it by the batch's sample count (set before each step; the last batch of an epoch
    may be short).
The rules, Keras 3's:
    SGD, plain momentum (no unit gain, not Nesterov): m <- momentum m - lr g;  w <- w + m
        (CNTK's momentum_sgd with unit_gain=False: s <- momentum s + g; w <- w - lr s, the same for a constant lr)
    Adadelta: a <- rho a + (1 - rho) g^2;  d <- -sqrt(b + eps) / sqrt(a + eps) g;  b <- rho b + (1 - rho) d^2;
        w <- w + lr d                                  (CNTK's adadelta: the same, epsilon inside both roots)
    Adam: m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
        w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
        (CNTK's adam with unit_gain=True and a per-minibatch variance momentum b2: the same; its epsilon is outside
        the root and not scaled by the bias correction, as Keras's)
    RMSprop: v <- rho v + (1 - rho) g^2;  w <- w - lr g / sqrt(v + eps)   (epsilon inside the root)
CNTK's adam has no sparse-gradient update on a CPU ("AdamUpdate: Feature Not Implemented"): an embedding that must
train under Adam looks its rows up with cntk.gather, whose gradient is dense (every row decays every step, as in
Keras's dense Adam).
"""
import cntk as C
import numpy as np

L = C.learners


def keras_sgd(parameters, lr, momentum):
    """SGD with plain momentum, Keras's rule (see the module docstring)."""
    return L.momentum_sgd(parameters, lr=L.learning_parameter_schedule(lr), momentum=L.momentum_schedule(momentum),
                          unit_gain=False, minibatch_size=L.IGNORE)


def keras_adadelta(parameters, lr, rho, epsilon):
    return L.adadelta(parameters, lr=L.learning_parameter_schedule(lr), rho=rho, epsilon=epsilon,
                      minibatch_size=L.IGNORE)


def keras_adam(parameters, lr, beta_1, beta_2, epsilon):
    return L.adam(parameters, lr=L.learning_parameter_schedule(lr), momentum=L.momentum_schedule(beta_1),
                  variance_momentum=L.momentum_schedule(beta_2), unit_gain=True, epsilon=epsilon, adamax=False,
                  minibatch_size=L.IGNORE)


class KerasRMSprop(object):
    """Keras's RMSprop as a CNTK universal learner: v <- rho v + (1 - rho) g^2; w <- w - lr g / sqrt(v + epsilon),
    g the minibatch's mean gradient (the summed gradient CNTK hands over, divided by the sample count)."""

    def __init__(self, parameters, lr, rho, epsilon):
        self.samples = C.constant(1.0, shape=(), name="samples")  # the batch's sample count: state, not a weight
        self.count = 1

        def update(parameters, gradients):
            steps = []
            for w, summed in zip(parameters, gradients):
                velocity = C.constant(0.0, shape=w.shape, dtype=w.dtype, name="velocity")
                g = summed / self.samples
                v = C.assign(velocity, rho * velocity + (1.0 - rho) * g * g)
                steps.append(C.assign(w, w - lr * g / C.sqrt(v + epsilon)))
            return C.combine(steps)

        self.learner = L.universal(update, parameters)

    def set_samples(self, count):
        if count != self.count:  # only the last, short batch of an epoch changes it (and the next one back)
            self.samples.value = np.array(count, dtype=np.float32)
            self.count = count
