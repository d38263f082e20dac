"""A deliberately broken PyTorch converter for tests/test_verify.py (test-only, never in the product): mnist_mlp's
dense2 kernel (512 x 512, so the shape still fits) loaded without its transpose, and imdb_bilstm's forward LSTM with
its input and forget gates swapped, and char_embed_lstm's first BatchNorm with its moving mean and moving variance
swapped (which only inference reads, and the step moves). Both directions are broken alike, so the weights read back as they were loaded:
only comparing what the model computes can catch it."""
import numpy as np

from dlbench.verify import torch as good

from dlbench.verify.torch import from_canonical as _from, to_canonical as _to  # noqa: F401


def _swap_if(a, axis):
    i, f, c, o = np.split(a, 4, axis=axis)
    return np.concatenate([f, i, c, o], axis=axis)


ORIGINAL = dict(good.MAPS)
MAPS = dict(good.MAPS)
MAPS["mnist_mlp"] = lambda hp: [(n, k, (lambda a: a) if n == "dense2/kernel" else t, (lambda a: a)
                                 if n == "dense2/kernel" else b) for n, k, t, b in ORIGINAL["mnist_mlp"](hp)]
MAPS["imdb_bilstm"] = lambda hp: [
    (n, k, (lambda a, t=t: _swap_if(t(a), 0)) if n.startswith("forward_lstm/") else t,
     (lambda a, b=b: b(_swap_if(a, 0))) if n.startswith("forward_lstm/") else b)
    for n, k, t, b in ORIGINAL["imdb_bilstm"](hp)]

MAPS["char_embed_lstm"] = lambda hp: [
    (n, {"norm1/moving_mean": "norm1.running_var", "norm1/moving_variance": "norm1.running_mean"}.get(n, k), t, b)
    for n, k, t, b in ORIGINAL["char_embed_lstm"](hp)]


def from_canonical(model, workload, hp, weights):
    saved, good.MAPS = good.MAPS, MAPS
    try:
        return _from(model, workload, hp, weights)
    finally:
        good.MAPS = saved


def to_canonical(model, workload, hp):
    saved, good.MAPS = good.MAPS, MAPS
    try:
        return _to(model, workload, hp)
    finally:
        good.MAPS = saved
