"""Flax NNX <-> canonical weights: attribute paths on the model; Flax's layouts are Keras's.

  nnx.Linear     kernel (in, out), bias
  nnx.Conv       kernel (kh, kw, in, out) HWIO, bias; a flatten of NHWC features is (H, W, C) order, as Keras's
  nnx.Embed      embedding (vocabulary, dim)
  nnx.LayerNorm  scale = gamma, bias = beta
  CausalSelfAttention  nanoGPT's c_attn.kernel = qkv_kernel, c_proj.kernel = proj_kernel
  A path part that is a number indexes a list of layers (a GPT's blocks, h.0).
  OptimizedLSTMCell  dense_i.kernel (in, 4u) without bias, dense_h.kernel (u, 4u), dense_h.bias (4u); gates i, f, g, o
  MultiHeadAttention  jax/layers.KerasMultiHeadAttention's nnx.LinearGeneral query, key, value, attention_output:
                 Keras's kernels (dim, heads, key_dim) and (heads, key_dim, dim) and biases as they are
"""
import collections

import numpy as np

from dlbench.verify import canonical


def linear(name, native):
    return [(name + "/kernel", native + ".kernel"), (name + "/bias", native + ".bias")]


def lstm(name, native):
    cell = native + ".rnn.cell"
    return [(name + "/kernel", cell + ".dense_i.kernel"), (name + "/recurrent_kernel", cell + ".dense_h.kernel"),
            (name + "/bias", cell + ".dense_h.bias")]


def batch_norm(name, native):
    return [(name + "/" + a, native + "." + b) for a, b in (("gamma", "scale"), ("beta", "bias"),
                                                           ("moving_mean", "mean"), ("moving_variance", "var"))]


def gru(name, native):
    """The workloads' CudnnGRUCell: dense_i (kernel, input bias), dense_h (recurrent kernel, recurrent bias), gates
    z, r, h as Keras's."""
    cell = native + ".cell"
    return [(name + "/kernel", cell + ".dense_i.kernel"), (name + "/recurrent_kernel", cell + ".dense_h.kernel"),
            (name + "/bias", (cell + ".dense_i.bias", cell + ".dense_h.bias"))]


def multi_head_attention(name, native):
    return [(name + "/%s/%s" % (projection, weight), "%s.%s.%s" % (native, projection, weight))
            for projection in ("query", "key", "value", "attention_output") for weight in ("kernel", "bias")]


KINDS = {"Dense": lambda name, native, layer: linear(name, native)[:2 if layer.bias else 1],
         "Conv2D": lambda name, native, layer: linear(name, native),
         "Embedding": lambda name, native, layer: [(name + "/embeddings", native + ".embedding")],
         "LSTM": lambda name, native, layer: lstm(name, native), "GRU": lambda name, native, layer: gru(name, native),
         "BatchNorm": lambda name, native, layer: batch_norm(name, native),  # nnx.BatchNorm: mean, var BatchStats
         "LayerNorm": lambda name, native, layer: [(name + "/gamma", native + ".scale")] + (
             [(name + "/beta", native + ".bias")] if layer.center else []),
         "KerasMultiHeadAttention": lambda name, native, layer: multi_head_attention(name, native),
         "KerasNormalization": lambda name, native, layer: [(name + "/" + a, native + "." + a)
                                                            for a in ("mean", "variance", "count")],
         "CausalSelfAttention": lambda name, native, layer: [(name + "/qkv_kernel", native + ".c_attn.kernel"),
                                                             (name + "/proj_kernel", native + ".c_proj.kernel")]}
# The workload files' attribute names where they differ from the canonical layer's.
NATIVE_NAMES = {"char_embed_lstm": {"main_out": "main", "aux_out": "aux"}}


def entries(workload, hp):
    """(canonical weight, attribute path) for each weight of the workload's declared layers; a Bidirectional
    layer's two directions are the model's `forward` and `backward` attributes."""
    renamed = NATIVE_NAMES.get(workload, {})
    return [entry for name, layer, direction in canonical.weighted_layers(workload, hp)
            for entry in KINDS[layer.kind](name, direction or renamed.get(name, name), layer)]


def _variable(model, path):
    for part in path.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)  # blocks.0.att: a list's item
    return model


def from_canonical(model, workload, hp, weights):
    import jax.numpy as jnp

    weights = canonical.check(workload, hp, weights)
    for name, path in entries(workload, hp):
        # a tuple of paths: the rows of one canonical weight (a GRU's input and recurrent biases)
        paths, values = (path, list(weights[name])) if isinstance(path, tuple) else ((path,), [weights[name]])
        for path, value in zip(paths, values):
            variable = _variable(model, path)
            if tuple(variable[...].shape) != value.shape:
                raise ValueError("%s: %s -> %s: shape %s, flax has %s" % (
                    workload, name, path, value.shape, tuple(variable[...].shape)))
            variable[...] = jnp.asarray(value, dtype=variable[...].dtype)


def _read(model, path):
    if isinstance(path, tuple):
        return np.stack([_read(model, p) for p in path])
    return np.asarray(_variable(model, path)[...], dtype=np.float32)


def to_canonical(model, workload, hp):
    return collections.OrderedDict((name, _read(model, path)) for name, path in entries(workload, hp))


# What dlbench.verify.worker runs beyond the weights: the model's output for a batch and each layer's.
LOGITS = True  # the native model returns logits (the parent applies the workload's output function, in float64)


def weight_owners(model, workload, hp):
    """The top-level attribute holding each canonical weight, in canonical order."""
    from dlbench.verify.worker import entry_owners
    return entry_owners(entries(workload, hp))


def forward(trainer, inputs):
    """The model's output for one batch in inference mode (dropout off, BatchNorm frozen)."""
    model = trainer.model
    model.eval()
    return model(*inputs)


def layer_outputs(trainer, inputs, tops):
    """canonical layer -> its output for the batch: each Flax NNX layer's class __call__ watched for one pass."""
    from dlbench.verify.worker import watch_calls
    return watch_calls(trainer, inputs, tops, forward)
