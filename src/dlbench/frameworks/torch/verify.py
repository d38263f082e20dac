"""PyTorch <-> canonical weights: state_dict keys and layouts.

  Linear   weight (out, in) = kernel.T
  Conv2d   weight (out, in, kh, kw) = kernel.transpose(3, 2, 0, 1)  (OIHW from HWIO)
  Flatten  torch.flatten of NCHW features is (C, H, W) order: the first Dense after it has its rows permuted
  LSTM     weight_ih (4u, in) = kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias; the gate order i, f, g, o
           is Keras's i, f, c, o, so no gate is moved; bias_hh (a bias Keras's cell lacks) is held at zero; a
           bidirectional nn.LSTM's backward direction is `_l0_reverse`
  LayerNorm  weight = gamma, bias = beta (nanoGPT's LayerNorm(bias=False) has none)
  CausalSelfAttention  nanoGPT's c_attn.weight (3d, d) = qkv_kernel.T, c_proj.weight = proj_kernel.T
  GRU      Keras's z, r, h gate blocks reordered to PyTorch's r, z, n; weight_ih = kernel.T, weight_hh =
           recurrent_kernel.T, bias_ih = bias[0], bias_hh = bias[1] (nn.GRU applies b_hn inside r * (...): Keras's
           reset_after)
  LayerNorm  weight = gamma, bias = beta
  MultiHeadAttention  query, key, value Linear weights (heads * key_dim, dim) = kernel (dim, heads, key_dim)
           flattened and transposed, biases flattened; the output Linear (dim, heads * key_dim) = kernel (heads,
           key_dim, dim) flattened and transposed
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


def layer_norm(name, native, layer):
    return [(name + "/gamma", native + ".weight", _same, _same)] + (
        [(name + "/beta", native + ".bias", _same, _same)] if layer.center else [])


def attention(name, native, layer):
    return [(name + "/qkv_kernel", native + ".c_attn.weight", _t, _t),
            (name + "/proj_kernel", native + ".c_proj.weight", _t, _t)]


def dense(name, native, layer):
    if layer.flattened_channels:
        return linear_after_flatten(name, native, layer.flattened_channels)
    return linear(name, native) if layer.bias else linear(name, native)[:1]


def multi_head_attention(name, native, layer):
    """Keras's (dim, heads, key_dim) kernels and (heads, key_dim) biases <-> torch/layers.KerasMultiHeadAttention's
    Linears: (heads * key_dim, dim) weights, (heads * key_dim,) biases; the output kernel (heads, key_dim, dim) <->
    (dim, heads * key_dim)."""
    heads, key_dim, dim = layer.heads, layer.key_dim, layer.dim
    found = []
    for projection in ("query", "key", "value"):
        found += [(name + "/%s/kernel" % projection, "%s.%s.weight" % (native, projection),
                   lambda k: k.reshape(dim, heads * key_dim).T, lambda w: w.T.reshape(dim, heads, key_dim)),
                  (name + "/%s/bias" % projection, "%s.%s.bias" % (native, projection),
                   lambda b: b.reshape(heads * key_dim), lambda b: b.reshape(heads, key_dim))]
    return found + [(name + "/attention_output/kernel", native + ".attention_output.weight",
                     lambda k: k.reshape(heads * key_dim, dim).T, lambda w: w.T.reshape(heads, key_dim, dim)),
                    (name + "/attention_output/bias", native + ".attention_output.bias", _same, _same)]


KINDS = {"Dense": dense, "Conv2D": lambda name, native, layer: conv(name, native),
         "Embedding": lambda name, native, layer: [(name + "/embeddings", native + ".weight", _same, _same)],
         "LSTM": lambda name, native, layer: lstm(name, native), "GRU": lambda name, native, layer: gru(name, native),
         "BatchNorm": lambda name, native, layer: batch_norm(name, native),
         "LayerNorm": layer_norm, "CausalSelfAttention": attention,
         "KerasMultiHeadAttention": multi_head_attention,
         "KerasNormalization": lambda name, native, layer: [(name + "/" + a, native + "." + a, _same, _same)
                                                            for a in ("mean", "variance", "count")]}
# The workload files' attribute names where they differ from the canonical layer's.
NATIVE_NAMES = {"char_embed_lstm": {"main_out": "main", "aux_out": "aux"}}


def entries(workload, hp):
    """(canonical weight, state_dict key, to native, to canonical) for each weight of the workload's declared layers.
    A Bidirectional LSTM is one nn.LSTM(bidirectional=True) named after the inner layer; its backward direction's
    keys end in `_l0_reverse`."""
    renamed = NATIVE_NAMES.get(workload, {})
    found = []
    for name, layer, direction in canonical.weighted_layers(workload, hp):
        if direction:
            found += lstm(name, layer.name, "_l0_reverse" if direction == "backward" else "_l0")
        else:
            found += KINDS[layer.kind](name, renamed.get(name, name), layer)
    return found


def structural_zeros(workload, hp):
    """Parameters of the native primitive that the spec's model does not have, held at zero (WORKLOADS.md): every
    nn.LSTM's second bias, the bias_hh twin of the bias_ih that lstm() maps (Keras's cell has one bias; a GRU's
    bias_hh is Keras's recurrent bias row, mapped as a pair)."""
    return tuple(key.replace(".bias_ih", ".bias_hh") for _, key, _, _ in entries(workload, hp)
                 if not isinstance(key, tuple) and ".bias_ih_l0" in key)


def from_canonical(model, workload, hp, weights):
    import torch

    weights = canonical.check(workload, hp, weights)
    state = model.state_dict()
    with torch.no_grad():
        for name, key, to_native, _ in entries(workload, hp):
            value = to_native(weights[name])
            keys, values = (key, value.T) if isinstance(key, tuple) else ((key,), [value])  # one row per tensor
            for key, value in zip(keys, values):
                value = np.array(value, dtype=np.float32)  # a copy in C order (0-d stays 0-d)
                if tuple(state[key].shape) != value.shape:
                    raise ValueError("%s: %s -> %s: shape %s, torch has %s" % (
                        workload, name, key, value.shape, tuple(state[key].shape)))
                state[key].copy_(torch.from_numpy(value))  # in place: the optimizer keeps its parameter objects
        for key in structural_zeros(workload, hp):
            state[key].zero_()


def to_canonical(model, workload, hp):
    state = model.state_dict()
    for key in structural_zeros(workload, hp):
        if state[key].abs().max().item() != 0:
            raise ValueError("%s: %s must stay zero (it has no counterpart in Keras's model)" % (workload, key))
    def read(key):
        if isinstance(key, tuple):  # rows of one canonical weight, e.g. a GRU's (bias_ih, bias_hh)
            return np.stack([read(k) for k in key], axis=1)
        return state[key].detach().cpu().numpy()
    return collections.OrderedDict(
        (name, np.array(to_canonical(read(key)), dtype=np.float32))
        for name, key, _, to_canonical in entries(workload, hp))


# What dlbench.verify.worker runs beyond the weights: the model's output for a batch and each layer's.
LOGITS = True  # the native model returns logits (the parent applies the workload's output function, in float64)


def weight_owners(model, workload, hp):
    """The top-level module holding each canonical weight, in canonical order."""
    from dlbench.verify.worker import entry_owners
    return entry_owners(entries(workload, hp))


def forward(trainer, inputs):
    """The model's output for one batch in inference mode (dropout off, BatchNorm frozen)."""
    import torch
    model = trainer.model
    model.eval()
    with torch.no_grad():
        return model(*[torch.from_numpy(np.ascontiguousarray(a)) for a in inputs])


def layer_outputs(trainer, inputs, tops):
    """canonical layer -> its output for the batch, caught by a forward hook on its module."""
    model, found = trainer.model, {}
    hooks = [getattr(model, top).register_forward_hook(
        lambda module, args, output, layer=layer: found.__setitem__(layer, output)) for layer, top in tops.items()]
    try:
        forward(trainer, inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return found
