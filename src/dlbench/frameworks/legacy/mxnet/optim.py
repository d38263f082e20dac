"""Keras 3's optimizer rules in MXNet, where Gluon's differ (checked against NumPy on MXNet 1.9.1's kernels).

mx.optimizer.RMSProp(centered=False) is Keras's rule already: n <- g1 n + (1 - g1) g^2; w <- w - lr g / sqrt(n + eps)
(epsilon inside the root, as rmsprop_update computes it). mx.optimizer.Adam is Keras's rule already: it scales lr by
sqrt(1 - b2^t) / (1 - b1^t) and divides m by sqrt(v) + eps (epsilon not bias-corrected, as in Keras; its docstring's
formula swaps the two powers, its code does not). mx.optimizer.SGD's momentum is Keras's: v <- m v - lr g; w <- w + v.
mx.optimizer.AdaDelta has Keras's rule but no learning rate (w <- w - delta): written out below with lr, so that the
spec's lr is used, not assumed to be 1. Every optimizer here takes rescale_grad from gluon.Trainer.step(batch_size)
(the per-sample loss sum becomes the batch mean) and has no weight decay.
"""
import mxnet as mx


class KerasAdadelta(mx.optimizer.Optimizer):
    """a <- rho a + (1 - rho) g^2;  d <- -sqrt(b + eps) / sqrt(a + eps) g;  b <- rho b + (1 - rho) d^2;
    w <- w + lr d."""

    def __init__(self, learning_rate, rho, epsilon, **kwargs):
        super(KerasAdadelta, self).__init__(learning_rate=learning_rate, wd=0.0, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype),   # a: accumulated g^2
                mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype))   # b: accumulated d^2

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        rho, eps = self.rho, self.epsilon
        grad = grad * self.rescale_grad
        grad_avg, delta_avg = state
        grad_avg[:] = rho * grad_avg + (1.0 - rho) * mx.nd.square(grad)
        delta = -mx.nd.sqrt(delta_avg + eps) / mx.nd.sqrt(grad_avg + eps) * grad
        delta_avg[:] = rho * delta_avg + (1.0 - rho) * mx.nd.square(delta)
        weight[:] += lr * delta
