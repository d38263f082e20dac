"""Keras 3's optimizer rules written for PyTorch, where torch.optim's differ.

torch.optim.RMSprop puts epsilon outside the square root (sqrt(v) + eps); Keras puts it inside (sqrt(v + eps)).
torch.optim.Adadelta does the same to both of its roots. The difference matters exactly where v is tiny, so the
rules are written out instead of approximated. torch.optim.SGD with momentum needs no rewrite: for a constant
learning rate its buf = m buf + g; w -= lr buf is Keras's v = m v - lr g; w += v with v = -lr buf.
A per-step schedule (Keras 2's `decay`) is a LambdaLR stepped after every batch, returned by the workload's build.
"""
import torch


class KerasRMSprop(torch.optim.Optimizer):
    """v <- rho v + (1 - rho) g^2;  w <- w - lr g / sqrt(v + epsilon)   (no momentum, not centred)."""

    def __init__(self, params, lr, rho, epsilon):
        super().__init__(params, dict(lr=lr, rho=rho, epsilon=epsilon))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["velocity"] = torch.zeros_like(p)
                velocity = state["velocity"]
                velocity.mul_(group["rho"]).addcmul_(p.grad, p.grad, value=1 - group["rho"])
                p.addcdiv_(p.grad, (velocity + group["epsilon"]).sqrt_(), value=-group["lr"])


class KerasAdadelta(torch.optim.Optimizer):
    """a <- rho a + (1 - rho) g^2;  d <- -sqrt(b + eps) / sqrt(a + eps) g;  b <- rho b + (1 - rho) d^2;
    w <- w + lr d."""

    def __init__(self, params, lr, rho, epsilon):
        super().__init__(params, dict(lr=lr, rho=rho, epsilon=epsilon))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            rho, eps = group["rho"], group["epsilon"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["grad_avg"] = torch.zeros_like(p)
                    state["delta_avg"] = torch.zeros_like(p)
                grad_avg, delta_avg = state["grad_avg"], state["delta_avg"]
                grad_avg.mul_(rho).addcmul_(p.grad, p.grad, value=1 - rho)
                delta = -(delta_avg + eps).sqrt() / (grad_avg + eps).sqrt() * p.grad
                delta_avg.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                p.add_(delta, alpha=group["lr"])
