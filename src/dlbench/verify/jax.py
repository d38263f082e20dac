"""Flax NNX <-> canonical weights: attribute paths on the model; Flax's layouts are Keras's.

  nnx.Linear     kernel (in, out), bias
  nnx.Conv       kernel (kh, kw, in, out) HWIO, bias; a flatten of NHWC features is (H, W, C) order, as Keras's
  nnx.Embed      embedding (vocabulary, dim)
  OptimizedLSTMCell  dense_i.kernel (in, 4u) without bias, dense_h.kernel (u, 4u), dense_h.bias (4u); gates i, f, g, o
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


MAPS = {
    "mnist_mlp": lambda hp: linear("dense1", "dense1") + linear("dense2", "dense2") + linear("dense3", "dense3"),
    "mnist_cnn": lambda hp: linear("conv1", "conv1") + linear("conv2", "conv2") + linear("dense1", "dense1") +
    linear("dense2", "dense2"),
    "cifar10_cnn": lambda hp: linear("conv1", "conv1") + linear("conv2", "conv2") + linear("conv3", "conv3") +
    linear("conv4", "conv4") + linear("dense1", "dense1") + linear("dense2", "dense2"),
    "imdb_bilstm": lambda hp: [("embedding/embeddings", "embedding.embedding")] + lstm("forward_lstm", "forward") +
    lstm("backward_lstm", "backward") + linear("dense", "dense"),
    "mnist_hrnn": lambda hp: lstm("row_lstm", "row_lstm") + lstm("col_lstm", "col_lstm") + linear("dense", "dense"),
    "char_lstm": lambda hp: lstm("lstm", "lstm") + linear("dense", "dense"),
    "cifar10_vgg": lambda hp: linear("conv1", "conv1") + linear("conv2", "conv2") + linear("conv3", "conv3") +
    linear("conv4", "conv4") + linear("dense1", "dense1") + linear("dense2", "dense2"),
    # the workload's CudnnGRUCell: dense_i (kernel, input bias), dense_h (recurrent kernel, recurrent bias), z, r, h
    "imdb_gru": lambda hp: [("embed/embeddings", "embed.embedding"), ("gru/kernel", "gru.cell.dense_i.kernel"),
                            ("gru/recurrent_kernel", "gru.cell.dense_h.kernel"),
                            ("gru/bias", ("gru.cell.dense_i.bias", "gru.cell.dense_h.bias"))] +
    linear("dense", "dense"),
    "babi_rnn": lambda hp: [("query_embed/embeddings", "query_embed.embedding"),
                            ("story_embed/embeddings", "story_embed.embedding")] +
    lstm("query_lstm", "query_lstm") + lstm("story_lstm", "story_lstm") + linear("dense", "dense"),
    "imdb_fasttext": lambda hp: [("embedding/embeddings", "embedding.embedding")] + linear("dense", "dense"),
    # nnx.BatchNorm: scale, bias, and the running statistics mean, var (BatchStat)
    "char_embed_lstm": lambda hp: [("embedding/embeddings", "embedding.embedding")] + lstm("lstm", "lstm") +
    [("dense1/kernel", "dense1.kernel")] + batch_norm("norm1", "norm1") + [("dense2/kernel", "dense2.kernel")] +
    batch_norm("norm2", "norm2") + linear("main_out", "main") + linear("aux_out", "aux"),
}


def _variable(model, path):
    for part in path.split("."):
        model = getattr(model, part)
    return model


def from_canonical(model, workload, hp, weights):
    import jax.numpy as jnp

    weights = canonical.check(workload, hp, weights)
    for name, path in MAPS[workload](hp):
        # a tuple of paths: the rows of one canonical weight (a GRU's input and recurrent biases)
        paths, values = (path, list(weights[name])) if isinstance(path, tuple) else ((path,), [weights[name]])
        for path, value in zip(paths, values):
            variable = _variable(model, path)
            if tuple(variable[...].shape) != value.shape:
                raise ValueError("%s: %s -> %s: shape %s, flax has %s" % (
                    workload, name, path, value.shape, tuple(variable[...].shape)))
            variable[...] = jnp.asarray(value)


def _read(model, path):
    if isinstance(path, tuple):
        return np.stack([_read(model, p) for p in path])
    return np.asarray(_variable(model, path)[...], dtype=np.float32)


def to_canonical(model, workload, hp):
    return collections.OrderedDict((name, _read(model, path)) for name, path in MAPS[workload](hp))
