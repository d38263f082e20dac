"""The canonical weights of a training workload: Keras's weights, in the order and layouts of the Keras model's
`model.weights`, under names of our own (`<layer>/<weight>`), so that a framework-free parent can make them.

Layouts (Keras 3's, whatever the image layout a backend runs in):
  Dense       kernel (in, out), bias (out,)
  Conv2D      kernel (kh, kw, in, out) HWIO, bias (out,)
  Embedding   embeddings (vocabulary, dim)
  LSTM        kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,), gates i, f, c, o
  GRU         kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u) (input row, recurrent row), gates z, r, h
              (reset_after=True, the cuDNN form)
A Bidirectional LSTM lists its forward layer's three, then its backward layer's. A Dense that follows a Flatten of
conv features takes the features in (H, W, C) order (Keras's Flatten, also on a channels-first backend).

Random weights (random_weights): N(0, 1/fan_in) (unit gain: activations stay O(1), so softmax outputs are not
saturated and every unit matters), biases U(0, 0.5) so that a bias loaded into the wrong slot shows, embeddings N(0,
0.5^2); BatchNorm gamma and moving variance U(0.5, 1.5), moving mean N(0, 0.5^2) (not the 0/1 they start at, so that
a swapped or unused statistic shows). The biases are positive so that ReLU units stay alive: where a conv layer's
whole receptive field is zero, its outputs equal its bias and a max-pool window holds a tie, whose gradient each
framework routes to a different element (an implementation choice, not a model difference: TensorFlow's differs from
XLA's and PyTorch's). Generated in float64 by NumPy from a seed and stored as float32.

Python 3.6-safe, numpy only: the parent (which never imports a framework) and the workers both use it.
"""
import collections

import numpy as np

# The workloads verify supports, in the order it runs them, with the function that turns the native versions'
# logits into what Keras's model outputs (its last layer's activation).
WORKLOADS = ("mnist_mlp", "mnist_cnn", "cifar10_cnn", "imdb_bilstm", "mnist_hrnn", "char_lstm", "cifar10_vgg",
             "imdb_gru", "babi_rnn", "imdb_fasttext", "char_embed_lstm")
# Each workload's optimizer rule (its hp hold the constants): the update tolerance depends on how the rule's first
# step maps a gradient to a change (dlbench.verify.run.update_tolerance).
OPTIMIZERS = {"mnist_mlp": "rmsprop", "mnist_cnn": "adadelta", "cifar10_cnn": "rmsprop", "imdb_bilstm": "adam",
              "mnist_hrnn": "rmsprop", "char_lstm": "rmsprop", "cifar10_vgg": "sgd_momentum", "imdb_gru": "adam",
              "babi_rnn": "adam", "imdb_fasttext": "adam", "char_embed_lstm": "adam"}
OUTPUTS = {"mnist_mlp": "softmax", "mnist_cnn": "softmax", "cifar10_cnn": "softmax", "imdb_bilstm": "sigmoid",
           "mnist_hrnn": "softmax", "char_lstm": "softmax", "cifar10_vgg": "softmax", "imdb_gru": "softmax",
           "babi_rnn": "softmax", "imdb_fasttext": "sigmoid", "char_embed_lstm": "softmax"}  # (main, aux) heads


def probabilities(workload, output, logits):
    """The model's output as probabilities (N, classes) in float64: a native version's logits through the
    workload's softmax or sigmoid; a single-unit output as (N, 1) whichever framework made it."""
    x = np.asarray(output, dtype=np.float64)
    if logits and OUTPUTS[workload] == "softmax":
        x = np.exp(x - x.max(axis=-1, keepdims=True))
        x = x / x.sum(axis=-1, keepdims=True)
    elif logits:
        x = 1.0 / (1.0 + np.exp(-x))
    return x.reshape(len(x), -1)


def dense(name, n_in, n_out, bias=True):
    return [(name + "/kernel", (n_in, n_out))] + ([(name + "/bias", (n_out,))] if bias else [])


def conv(name, k, c_in, c_out):
    return [(name + "/kernel", (k, k, c_in, c_out)), (name + "/bias", (c_out,))]


def lstm(name, n_in, units):
    return [(name + "/kernel", (n_in, 4 * units)), (name + "/recurrent_kernel", (units, 4 * units)),
            (name + "/bias", (4 * units,))]


def gru(name, n_in, units):
    """Keras's GRU(reset_after=True), cuDNN's form: gates z, r, h; bias (2, 3u): the input bias, then the
    recurrent bias (applied before the reset gate multiplies it)."""
    return [(name + "/kernel", (n_in, 3 * units)), (name + "/recurrent_kernel", (units, 3 * units)),
            (name + "/bias", (2, 3 * units))]


def batch_norm(name, units):
    return [(name + "/" + a, (units,)) for a in ("gamma", "beta", "moving_mean", "moving_variance")]


def embedding(name, vocabulary, dim):
    return [(name + "/embeddings", (vocabulary, dim))]


def _mnist_mlp(hp):
    return dense("dense1", hp.inputs, hp.hidden) + dense("dense2", hp.hidden, hp.hidden) + \
        dense("dense3", hp.hidden, hp.classes)


def _mnist_cnn(hp):
    return conv("conv1", hp.kernel, hp.channels, hp.filters1) + conv("conv2", hp.kernel, hp.filters1, hp.filters2) + \
        dense("dense1", hp.flat, hp.hidden) + dense("dense2", hp.hidden, hp.classes)


def _cifar10_cnn(hp):
    return conv("conv1", hp.kernel, hp.channels, hp.filters1) + conv("conv2", hp.kernel, hp.filters1, hp.filters1) + \
        conv("conv3", hp.kernel, hp.filters1, hp.filters2) + conv("conv4", hp.kernel, hp.filters2, hp.filters2) + \
        dense("dense1", hp.flat, hp.hidden) + dense("dense2", hp.hidden, hp.classes)


def _imdb_bilstm(hp):
    return embedding("embedding", hp.max_features, hp.embedding_dim) + \
        lstm("forward_lstm", hp.embedding_dim, hp.units) + lstm("backward_lstm", hp.embedding_dim, hp.units) + \
        dense("dense", 2 * hp.units, 1)


def _mnist_hrnn(hp):
    return lstm("row_lstm", hp.pixels, hp.row_hidden) + lstm("col_lstm", hp.row_hidden, hp.col_hidden) + \
        dense("dense", hp.col_hidden, hp.classes)


def _char_lstm(hp):
    return lstm("lstm", hp.symbols, hp.units) + dense("dense", hp.units, hp.symbols)


def _imdb_gru(hp):
    return embedding("embed", hp.num_words, hp.embed) + gru("gru", hp.embed, hp.hidden) + \
        dense("dense", hp.hidden, hp.classes)


def _babi_rnn(hp):
    # Keras's functional model lists the query's embedding before the story's (its graph order, not creation order)
    return embedding("query_embed", hp.vocab_size, hp.embed) + embedding("story_embed", hp.vocab_size, hp.embed) + \
        lstm("query_lstm", hp.embed, hp.embed) + lstm("story_lstm", hp.embed, hp.hidden) + \
        dense("dense", hp.hidden, hp.vocab_size)


def _imdb_fasttext(hp):
    return embedding("embedding", hp.max_features, hp.embedding_dim) + dense("dense", hp.embedding_dim, 1)


def _char_embed_lstm(hp):
    return embedding("embedding", hp.symbols, hp.embedding) + lstm("lstm", hp.embedding, hp.units) + \
        dense("dense1", hp.units, hp.hidden1, bias=False) + batch_norm("norm1", hp.hidden1) + \
        dense("dense2", hp.hidden1, hp.hidden2, bias=False) + batch_norm("norm2", hp.hidden2) + \
        dense("main_out", hp.hidden2, hp.symbols) + dense("aux_out", hp.units, hp.symbols)


LAYOUTS = {"mnist_mlp": _mnist_mlp, "mnist_cnn": _mnist_cnn, "cifar10_cnn": _cifar10_cnn,
           "imdb_bilstm": _imdb_bilstm, "mnist_hrnn": _mnist_hrnn, "char_lstm": _char_lstm,
           "cifar10_vgg": _cifar10_cnn, "imdb_gru": _imdb_gru, "babi_rnn": _babi_rnn, "imdb_fasttext": _imdb_fasttext,
           "char_embed_lstm": _char_embed_lstm}  # cifar10_vgg: cifar10_cnn's layers, other sizes


def layer_of(name):
    """The layer a canonical weight belongs to: its name up to the last "/" ("dense2/kernel" -> "dense2",
    "forward_lstm/recurrent_kernel" -> "forward_lstm")."""
    return name.rsplit("/", 1)[0]


def shapes(workload, hp):
    """name -> shape of the workload's canonical weights, in Keras's order."""
    if workload not in LAYOUTS:
        raise KeyError("dlbench verify does not support %r yet (supported: %s)" % (workload, ", ".join(WORKLOADS)))
    return collections.OrderedDict(LAYOUTS[workload](hp))


def without_dropout(hp):
    """The hyperparameters with every dropout rate at 0 (hp names containing "dropout"): verify compares a
    deterministic training step."""
    from dlbench.workloads.spec import Hyper
    return Hyper(**dict((k, 0.0 if "dropout" in k else v) for k, v in hp.as_dict().items()))


def random_weights(workload, hp, seed=0):
    rng = np.random.RandomState(seed)
    weights = collections.OrderedDict()
    for name, shape in shapes(workload, hp).items():
        kind = name.rsplit("/", 1)[1]
        if kind == "embeddings":
            array = rng.normal(0.0, 0.5, size=shape)
        elif kind in ("gamma", "moving_variance"):  # away from 1, never near 0
            array = rng.uniform(0.5, 1.5, size=shape)
        elif kind == "moving_mean":  # away from 0, so that inference mode differs from training mode
            array = rng.normal(0.0, 0.5, size=shape)
        elif len(shape) == 1:
            array = rng.uniform(0.0, 0.5, size=shape)
        else:
            fan_in = int(np.prod(shape[:-1]))
            array = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
        weights[name] = array.astype(np.float32)
    return weights


# Keras models whose Flatten keeps memory order (Flatten(data_format="channels_last") on any backend): on a
# channels-first backend the Dense after it reads (C, H, W) rows. name of that kernel, hp name of the channels.
MEMORY_ORDER_FLATTEN = {"mnist_cnn": ("dense1/kernel", "filters2"), "cifar10_cnn": ("dense1/kernel", "filters2"),
                        "cifar10_vgg": ("dense1/kernel", "filters2")}


def check(workload, hp, weights):
    """Raise ValueError unless `weights` (name -> array) are exactly the canonical names, order and shapes."""
    expected = shapes(workload, hp)
    if list(weights) != list(expected):
        raise ValueError("%s: weights %s, expected %s" % (workload, list(weights), list(expected)))
    for name, shape in expected.items():
        if tuple(weights[name].shape) != tuple(shape):
            raise ValueError("%s: %s has shape %s, expected %s" % (workload, name, tuple(weights[name].shape), shape))
    return weights


# --- layout transforms shared by the native converters --------------------------------------------------------------

def hwc_to_chw_rows(kernel, channels):
    """A Dense kernel (H*W*C, out) whose rows follow Keras's (H, W, C) flatten -> rows in (C, H, W) order (a
    channels-first framework's flatten)."""
    side = int(round(np.sqrt(kernel.shape[0] // channels)))
    return kernel.reshape(side, side, channels, -1).transpose(2, 0, 1, 3).reshape(kernel.shape[0], -1)


def chw_to_hwc_rows(kernel, channels):
    side = int(round(np.sqrt(kernel.shape[0] // channels)))
    return kernel.reshape(channels, side, side, -1).transpose(1, 2, 0, 3).reshape(kernel.shape[0], -1)
