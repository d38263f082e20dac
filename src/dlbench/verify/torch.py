"""PyTorch <-> canonical weights: state_dict keys and layouts.

  Linear   weight (out, in) = kernel.T
  Conv2d   weight (out, in, kh, kw) = kernel.transpose(3, 2, 0, 1)  (OIHW from HWIO)
  Flatten  torch.flatten of NCHW features is (C, H, W) order: the first Dense after it has its rows permuted
  LSTM     weight_ih (4u, in) = kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias; the gate order i, f, g, o
           is Keras's i, f, c, o, so no gate is moved; bias_hh (a bias Keras's cell lacks) is held at zero; a
           bidirectional nn.LSTM's backward direction is `_l0_reverse`
  GRU      Keras's z, r, h gate blocks reordered to PyTorch's r, z, n; weight_ih = kernel.T, weight_hh =
           recurrent_kernel.T, bias_ih = bias[0], bias_hh = bias[1] (nn.GRU applies b_hn inside r * (...): Keras's
           reset_after)
"""
import collections

import numpy as np

from dlbench.verify import canonical


def _t(a):
    return a.T


def _same(a):
    return a


def _oihw(a):
    return a.transpose(3, 2, 0, 1)


def _hwio(a):
    return a.transpose(2, 3, 1, 0)


def linear(name, native):
    return [(name + "/kernel", native + ".weight", _t, _t), (name + "/bias", native + ".bias", _same, _same)]


def conv(name, native):
    return [(name + "/kernel", native + ".weight", _oihw, _hwio), (name + "/bias", native + ".bias", _same, _same)]


def linear_after_flatten(name, native, channels):
    return [(name + "/kernel", native + ".weight", lambda k: canonical.hwc_to_chw_rows(k, channels).T,
             lambda w: canonical.chw_to_hwc_rows(w.T, channels)),
            (name + "/bias", native + ".bias", _same, _same)]


def lstm(name, native, suffix="_l0"):
    return [(name + "/kernel", native + ".weight_ih" + suffix, _t, _t),
            (name + "/recurrent_kernel", native + ".weight_hh" + suffix, _t, _t),
            (name + "/bias", native + ".bias_ih" + suffix, _same, _same)]


def _zrh_to_rzn(a):
    """Keras's GRU gate blocks z, r, h (last axis) -> PyTorch's r, z, n, transposed to (3u, ...)."""
    z, r, h = np.split(a, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1).T


def _rzn_to_zrh(a):
    r, z, n = np.split(a.T, 3, axis=-1)
    return np.concatenate([z, r, n], axis=-1)


def gru(name, native):
    """nn.GRU computes n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): Keras's reset_after GRU, gates r, z, n."""
    return [(name + "/kernel", native + ".weight_ih_l0", _zrh_to_rzn, _rzn_to_zrh),
            (name + "/recurrent_kernel", native + ".weight_hh_l0", _zrh_to_rzn, _rzn_to_zrh),
            (name + "/bias", (native + ".bias_ih_l0", native + ".bias_hh_l0"), _zrh_to_rzn, _rzn_to_zrh)]


def batch_norm(name, native):
    return [(name + "/" + a, native + "." + b, _same, _same)
            for a, b in (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
                         ("moving_variance", "running_var"))]


MAPS = {
    "mnist_mlp": lambda hp: linear("dense1", "dense1") + linear("dense2", "dense2") + linear("dense3", "dense3"),
    "mnist_cnn": lambda hp: conv("conv1", "conv1") + conv("conv2", "conv2") +
    linear_after_flatten("dense1", "dense1", hp.filters2) + linear("dense2", "dense2"),
    "cifar10_cnn": lambda hp: conv("conv1", "conv1") + conv("conv2", "conv2") + conv("conv3", "conv3") +
    conv("conv4", "conv4") + linear_after_flatten("dense1", "dense1", hp.filters2) + linear("dense2", "dense2"),
    "imdb_bilstm": lambda hp: [("embedding/embeddings", "embedding.weight", _same, _same)] +
    lstm("forward_lstm", "lstm") + lstm("backward_lstm", "lstm", "_l0_reverse") + linear("dense", "dense"),
    "mnist_hrnn": lambda hp: lstm("row_lstm", "row_lstm") + lstm("col_lstm", "col_lstm") + linear("dense", "dense"),
    "char_lstm": lambda hp: lstm("lstm", "lstm") + linear("dense", "dense"),
    "cifar10_vgg": lambda hp: conv("conv1", "conv1") + conv("conv2", "conv2") + conv("conv3", "conv3") +
    conv("conv4", "conv4") + linear_after_flatten("dense1", "dense1", hp.filters2) + linear("dense2", "dense2"),
    "imdb_gru": lambda hp: [("embed/embeddings", "embed.weight", _same, _same)] + gru("gru", "gru") +
    linear("dense", "dense"),
    "babi_rnn": lambda hp: [("query_embed/embeddings", "query_embed.weight", _same, _same),
                            ("story_embed/embeddings", "story_embed.weight", _same, _same)] +
    lstm("query_lstm", "query_lstm") + lstm("story_lstm", "story_lstm") + linear("dense", "dense"),
    "imdb_fasttext": lambda hp: [("embedding/embeddings", "embedding.weight", _same, _same)] +
    linear("dense", "dense"),
    "char_embed_lstm": lambda hp: [("embedding/embeddings", "embedding.weight", _same, _same)] +
    lstm("lstm", "lstm") + [("dense1/kernel", "dense1.weight", _t, _t)] + batch_norm("norm1", "norm1") +
    [("dense2/kernel", "dense2.weight", _t, _t)] + batch_norm("norm2", "norm2") + linear("main_out", "main") +
    linear("aux_out", "aux"),
}
# Parameters of the native primitive that the spec's model does not have: held at zero (WORKLOADS.md).
STRUCTURAL_ZEROS = {"imdb_bilstm": ("lstm.bias_hh_l0", "lstm.bias_hh_l0_reverse"),
                    "mnist_hrnn": ("row_lstm.bias_hh_l0", "col_lstm.bias_hh_l0"), "char_lstm": ("lstm.bias_hh_l0",),
                    "babi_rnn": ("query_lstm.bias_hh_l0", "story_lstm.bias_hh_l0"),
                    "char_embed_lstm": ("lstm.bias_hh_l0",)}


def from_canonical(model, workload, hp, weights):
    import torch

    weights = canonical.check(workload, hp, weights)
    state = model.state_dict()
    with torch.no_grad():
        for name, key, to_native, _ in MAPS[workload](hp):
            value = to_native(weights[name])
            keys, values = (key, value.T) if isinstance(key, tuple) else ((key,), [value])  # one row per tensor
            for key, value in zip(keys, values):
                value = np.ascontiguousarray(value, dtype=np.float32)
                if tuple(state[key].shape) != value.shape:
                    raise ValueError("%s: %s -> %s: shape %s, torch has %s" % (
                        workload, name, key, value.shape, tuple(state[key].shape)))
                state[key].copy_(torch.from_numpy(value))  # in place: the optimizer keeps its parameter objects
        for key in STRUCTURAL_ZEROS.get(workload, ()):
            state[key].zero_()


def to_canonical(model, workload, hp):
    state = model.state_dict()
    for key in STRUCTURAL_ZEROS.get(workload, ()):
        if state[key].abs().max().item() != 0:
            raise ValueError("%s: %s must stay zero (it has no counterpart in Keras's model)" % (workload, key))
    def read(key):
        if isinstance(key, tuple):  # rows of one canonical weight, e.g. a GRU's (bias_ih, bias_hh)
            return np.stack([read(k) for k in key], axis=1)
        return state[key].detach().cpu().numpy()
    return collections.OrderedDict(
        (name, np.ascontiguousarray(to_canonical(read(key)), dtype=np.float32))
        for name, key, _, to_canonical in MAPS[workload](hp))
