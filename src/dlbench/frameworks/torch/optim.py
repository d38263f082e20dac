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


class KerasAdam(torch.optim.Optimizer):
    """m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);  w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps).
    torch.optim.Adam divides by sqrt(v / (1 - b2^t)) + eps instead: its epsilon is not scaled by the bias
    correction, which differs from Keras's while v is small (the first steps, rare embedding rows)."""

    def __init__(self, params, lr, beta_1, beta_2, epsilon):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta_1, beta_2 = group["beta_1"], group["beta_2"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                alpha = group["lr"] * (1 - beta_2 ** t) ** 0.5 / (1 - beta_1 ** t)
                state["m"].lerp_(p.grad, 1 - beta_1)
                state["v"].mul_(beta_2).addcmul_(p.grad, p.grad, value=1 - beta_2)
                p.addcdiv_(state["m"], state["v"].sqrt().add_(group["epsilon"]), value=-alpha)


def inverse_time_decay(optimizer, decay):
    """Keras 2's `decay`: lr_t = lr / (1 + decay * t), t the updates before this one; step it after every batch."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 / (1.0 + decay * t))


class KerasAdamW(KerasAdam):
    """keras.optimizers.AdamW: before Keras's Adam step, every parameter it is given is decayed, w <- w - w * wd * lr
    (Keras excludes no variable by default). torch.optim.AdamW decays by the same product but keeps PyTorch's
    epsilon placement (KerasAdam's docstring)."""

    def __init__(self, params, lr, weight_decay, beta_1, beta_2, epsilon):
        super().__init__(params, lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        for group in self.param_groups:
            group["weight_decay"] = weight_decay

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(p * (group["weight_decay"] * group["lr"]))
        return super().step(closure)
