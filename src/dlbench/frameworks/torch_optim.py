"""Keras 3's optimizer rules written for PyTorch, where torch.optim's differ.

torch.optim.RMSprop puts epsilon outside the square root (sqrt(v) + eps); Keras puts it inside (sqrt(v + eps)).
The difference matters exactly where v is tiny, so the rule is written out instead of approximated.
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
