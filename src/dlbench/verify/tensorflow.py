"""Native TensorFlow <-> canonical weights: the tf.Modules of dlbench.frameworks.tf_layers keep Keras's layouts
(kernels (in, out) and HWIO, LSTM gates i, f, c, o, NHWC flatten in (H, W, C) order), so a weight is a variable
found by its attribute path, assigned as it is."""
import collections

import numpy as np

from dlbench.verify import canonical


def layer(name, native, attributes=("kernel", "bias")):
    return [(name + "/" + a, native + "." + a) for a in attributes]


LSTM = ("kernel", "recurrent_kernel", "bias")
BN = ("gamma", "beta", "moving_mean", "moving_variance")
MAPS = {
    "mnist_mlp": lambda hp: layer("dense1", "dense1") + layer("dense2", "dense2") + layer("dense3", "dense3"),
    "mnist_cnn": lambda hp: layer("conv1", "conv1") + layer("conv2", "conv2") + layer("dense1", "dense1") +
    layer("dense2", "dense2"),
    "cifar10_cnn": lambda hp: layer("conv1", "conv1") + layer("conv2", "conv2") + layer("conv3", "conv3") +
    layer("conv4", "conv4") + layer("dense1", "dense1") + layer("dense2", "dense2"),
    "imdb_bilstm": lambda hp: layer("embedding", "embedding", ("embeddings",)) +
    layer("forward_lstm", "forward", LSTM) + layer("backward_lstm", "backward", LSTM) + layer("dense", "dense"),
    "mnist_hrnn": lambda hp: layer("row_lstm", "row_lstm", LSTM) + layer("col_lstm", "col_lstm", LSTM) +
    layer("dense", "dense"),
    "char_lstm": lambda hp: layer("lstm", "lstm", LSTM) + layer("dense", "dense"),
    "cifar10_vgg": lambda hp: layer("conv1", "conv1") + layer("conv2", "conv2") + layer("conv3", "conv3") +
    layer("conv4", "conv4") + layer("dense1", "dense1") + layer("dense2", "dense2"),
    "imdb_gru": lambda hp: layer("embed", "embed", ("embeddings",)) + layer("gru", "gru", LSTM) +
    layer("dense", "dense"),  # the GRU's variables have the LSTM's names; its bias is Keras's (2, 3u)
    "babi_rnn": lambda hp: layer("query_embed", "query_embed", ("embeddings",)) +
    layer("story_embed", "story_embed", ("embeddings",)) + layer("query_lstm", "query_lstm", LSTM) +
    layer("story_lstm", "story_lstm", LSTM) + layer("dense", "dense"),
    "imdb_fasttext": lambda hp: layer("embedding", "embedding", ("embeddings",)) + layer("dense", "dense"),
    "char_embed_lstm": lambda hp: layer("embedding", "embedding", ("embeddings",)) + layer("lstm", "lstm", LSTM) +
    layer("dense1", "dense1", ("kernel",)) + layer("norm1", "norm1", BN) + layer("dense2", "dense2", ("kernel",)) +
    layer("norm2", "norm2", BN) + layer("main_out", "main") + layer("aux_out", "aux"),
}


def _variable(model, path):
    for part in path.split("."):
        model = getattr(model, part)
    return model


def from_canonical(model, workload, hp, weights):
    weights = canonical.check(workload, hp, weights)
    for name, path in MAPS[workload](hp):
        variable = _variable(model, path)
        if tuple(variable.shape) != weights[name].shape:
            raise ValueError("%s: %s -> %s: shape %s, tensorflow has %s" % (
                workload, name, path, weights[name].shape, tuple(variable.shape)))
        variable.assign(weights[name])


def to_canonical(model, workload, hp):
    return collections.OrderedDict((name, np.asarray(_variable(model, path).numpy(), dtype=np.float32))
                                   for name, path in MAPS[workload](hp))
