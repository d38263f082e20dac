"""A deliberately broken PyTorch converter for tests/test_verify.py (test-only, never in the product): mnist_mlp's
dense2 kernel (512 x 512, so the shape still fits) loaded without its transpose, and imdb_bilstm's forward LSTM with
its input and forget gates swapped, and char_embed_lstm's first BatchNorm with its moving mean and moving variance
swapped (which only inference reads, and the step moves). Both directions are broken alike, so the weights read back as they were loaded:
only comparing what the model computes can catch it."""
import numpy as np

from dlbench.frameworks.torch import verify as good

from dlbench.frameworks.torch.verify import from_canonical as _from, to_canonical as _to  # noqa: F401


def _swap_if(a, axis):
    i, f, c, o = np.split(a, 4, axis=axis)
    return np.concatenate([f, i, c, o], axis=axis)


ORIGINAL = good.entries


def _unchanged(a):
    return a


def entries(workload, hp):
    found = ORIGINAL(workload, hp)
    if workload == "mnist_mlp":
        return [(n, k, _unchanged, _unchanged) if n == "dense2/kernel" else (n, k, t, b) for n, k, t, b in found]
    if workload == "imdb_bilstm":
        return [(n, k, lambda a, t=t: _swap_if(t(a), 0), lambda a, b=b: b(_swap_if(a, 0)))
                if n.startswith("forward_lstm/") else (n, k, t, b) for n, k, t, b in found]
    if workload == "char_embed_lstm":
        swapped = {"norm1/moving_mean": "norm1.running_var", "norm1/moving_variance": "norm1.running_mean"}
        return [(n, swapped.get(n, k), t, b) for n, k, t, b in found]
    return found


def from_canonical(model, workload, hp, weights):
    saved, good.entries = good.entries, entries
    try:
        return _from(model, workload, hp, weights)
    finally:
        good.entries = saved


def to_canonical(model, workload, hp):
    saved, good.entries = good.entries, entries
    try:
        return _to(model, workload, hp)
    finally:
        good.entries = saved
