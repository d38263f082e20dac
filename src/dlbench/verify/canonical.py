"""The canonical weights of a training workload: Keras's weights, in the order and layouts of the Keras model's
`model.weights`, under names of our own (`<layer>/<weight>`), so that a framework-free parent can make them. Each
workload declares them once, with its layers (its model_layers(hp) in the vocabulary of dlbench.workloads.layers,
which lists the layouts); its spec names its optimizer rule and output activation. Every training workload is
verifiable that way.

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

from dlbench import workloads

# The workloads verify supports: every training workload (each declares its layers).
WORKLOADS = workloads.TRAINING_IDS


def optimizer(workload):
    """The workload's optimizer rule (its hp hold the constants): the update tolerance depends on how the rule's
    first step maps a gradient to a change (dlbench.verify.run.update_tolerance); None for another workload."""
    return workloads.get(workload).SPEC.optimizer if workload in WORKLOADS else None


def activation(workload):
    """The model's last activation (softmax or sigmoid): what turns the native versions' logits into Keras's
    output; "logits" where the Keras model outputs logits too (a from_logits loss: cifar10_vit, the GPTs)."""
    return workloads.get(workload).SPEC.output


def probabilities(workload, output, logits):
    """The model's output as probabilities (N, classes) in float64: a native version's logits through the
    workload's softmax or sigmoid; a single-unit output as (N, 1) whichever framework made it."""
    x = np.asarray(output, dtype=np.float64)
    if activation(workload) == "logits":  # every framework's output is logits: all through the softmax
        logits = True
    if logits and activation(workload) in ("softmax", "logits"):
        x = np.exp(x - x.max(axis=-1, keepdims=True))
        x = x / x.sum(axis=-1, keepdims=True)
    elif logits:
        x = 1.0 / (1.0 + np.exp(-x))
    return x.reshape(len(x), -1)


def layer_of(name):
    """The layer a canonical weight belongs to: its name up to the last "/" ("dense2/kernel" -> "dense2",
    "forward_lstm/recurrent_kernel" -> "forward_lstm")."""
    return name.rsplit("/", 1)[0]


def weighted_layers(workload, hp):
    """(canonical layer name, layer, direction) for each of the workload's layers with weights, in Keras's order: a
    TimeDistributed layer is its inner layer; a Bidirectional one is its inner layer twice, as forward_<name> and
    backward_<name> (direction "forward", "backward"; None elsewhere). The native converters map these."""
    for layer in workloads.model_layers(workload, hp):
        if layer.kind == "Bidirectional":
            for direction in ("forward", "backward"):
                yield direction + "_" + layer.name, layer.layer, direction
        elif layer.weights():
            yield layer.name, getattr(layer, "layer", layer), None


def shapes(workload, hp):
    """name -> shape of the workload's canonical weights, in Keras's order."""
    if workload not in WORKLOADS:
        raise KeyError("dlbench verify does not support %r (supported: %s)" % (workload, ", ".join(WORKLOADS)))
    return collections.OrderedDict((name, shape) for layer in workloads.model_layers(workload, hp)
                                   for name, shape in layer.weights())


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
        elif kind in ("gamma", "moving_variance", "variance"):  # away from 1, never near 0
            array = rng.uniform(0.5, 1.5, size=shape)
        elif kind == "count":  # Normalization's count: kept by Keras for old saved models, an integer
            array = np.zeros(shape)
        elif kind == "moving_mean":  # away from 0, so that inference mode differs from training mode
            array = rng.normal(0.0, 0.5, size=shape)
        elif len(shape) == 1:
            array = rng.uniform(0.0, 0.5, size=shape)
        else:
            fan_in = int(np.prod(shape[:-1]))
            array = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
        weights[name] = array.astype(np.float32)
    return weights


def memory_order_flatten(workload, hp):
    """(kernel name, channels) of the Dense that reads a Flatten keeping memory order (the CNNs: Flatten(
    data_format="channels_last") on any backend), whose rows are in (C, H, W) order on a channels-first backend;
    None for a workload without one."""
    for layer in workloads.model_layers(workload, hp):
        if getattr(layer, "flattened_channels", None):
            return layer.name + "/kernel", layer.flattened_channels
    return None


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
