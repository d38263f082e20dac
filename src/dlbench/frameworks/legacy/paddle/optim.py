"""Keras 3's optimizer rules for PaddlePaddle, where paddle.optimizer's differ.

Checked against the rules in float64 (5 steps, gradients from 1e-6 to 1): paddle.optimizer.RMSProp (momentum 0, not
centred) divides by sqrt(v + epsilon), epsilon inside the root as Keras; paddle.optimizer.Adadelta is Keras's rule,
epsilon inside both roots and the learning rate applied; paddle.optimizer.Momentum (v <- mu v + g; w <- w - lr v)
is Keras's v <- mu v - lr g; w <- w + v for a constant lr (v scaled by -lr). Their float32 attributes round the
constants (relative differences up to 1e-6 in float64), nothing more. paddle.optimizer.Adam is not Keras's: its
kernel divides by sqrt(v) + epsilon * sqrt(1 - b2^t), PyTorch's placement, so Keras's Adam is written out here.
"""
import paddle


class KerasAdam(object):
    """m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps).
    The paddle.optimizer interface a training loop uses: step() after backward, then clear_grad()."""

    def __init__(self, parameters, learning_rate, beta_1, beta_2, epsilon):
        self.parameters = [p for p in parameters if not p.stop_gradient]
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.t = 0
        self.m = [paddle.zeros_like(p) for p in self.parameters]
        self.v = [paddle.zeros_like(p) for p in self.parameters]

    @paddle.no_grad()
    def step(self):
        self.t += 1
        beta_1, beta_2 = self.beta_1, self.beta_2
        alpha = self.learning_rate * (1 - beta_2 ** self.t) ** 0.5 / (1 - beta_1 ** self.t)
        for p, m, v in zip(self.parameters, self.m, self.v):
            g = p.grad
            if g is None:
                continue
            m.add_((g - m).scale_(1 - beta_1))
            v.add_((g * g - v).scale_(1 - beta_2))
            p.subtract_(m / (v.sqrt() + self.epsilon) * alpha)

    def clear_grad(self):
        for p in self.parameters:
            p.clear_gradient()
