"""Keras 3 (all three backends) <-> canonical weights: the canonical format IS Keras's, so the converter is the
model's weight list in order (model.get_weights / set_weights), checked against the canonical names' shapes.
Conv kernels stay HWIO on a channels-first backend, and Keras's Flatten keeps (H, W, C) order there, except where a
workload's model flattens in memory order (canonical.memory_order_flatten: the CNNs), whose Dense kernel rows are
then permuted to (C, H, W) on a channels-first backend (keras-torch)."""
import collections

import numpy as np

from dlbench.verify import canonical


def _permute(workload, hp, weights, to_keras):
    import keras

    flatten = canonical.memory_order_flatten(workload, hp)
    if flatten is None or keras.config.image_data_format() != "channels_first":
        return weights
    name, channels = flatten
    weights = collections.OrderedDict(weights)
    permute = canonical.hwc_to_chw_rows if to_keras else canonical.chw_to_hwc_rows
    weights[name] = permute(weights[name], channels)
    return weights


def from_canonical(model, workload, hp, weights):
    weights = _permute(workload, hp, canonical.check(workload, hp, weights), to_keras=True)
    if len(model.weights) != len(weights):
        raise ValueError("%s: the Keras model has %d weights, the canonical format %d" % (
            workload, len(model.weights), len(weights)))
    for variable, (name, value) in zip(model.weights, weights.items()):
        if tuple(variable.shape) != value.shape:
            raise ValueError("%s: Keras weight %s has shape %s, canonical %s is %s" % (
                workload, variable.path, tuple(variable.shape), name, value.shape))
    model.set_weights(list(weights.values()))
    for layer in model._flatten_layers():
        if hasattr(layer, "finalize_state"):  # a Normalization reads its adapted mean and variance into constants
            layer.finalize_state()


def to_canonical(model, workload, hp):
    names = list(canonical.shapes(workload, hp))
    return _permute(workload, hp, collections.OrderedDict(
        (name, np.asarray(value, dtype=np.float32)) for name, value in zip(names, model.get_weights())),
        to_keras=False)


# What dlbench.verify.worker runs beyond the weights: the model's output for a batch and each layer's.
LOGITS = False  # Keras's model ends in its softmax or sigmoid: probabilities


def weight_owners(model, workload, hp):
    """The Keras layer (its name) holding each canonical weight, in canonical order (Keras's model.weights)."""
    return [v.path.split("/")[0] for v in model.weights]


def forward(trainer, inputs):
    """The model's output for one batch in inference mode (dropout off, BatchNorm frozen)."""
    return trainer.model.predict_on_batch(inputs[0] if len(inputs) == 1 else list(inputs))


def layer_outputs(trainer, inputs, tops):
    """canonical layer -> its output for the batch, from a Keras model of the layers' outputs; {} on any error."""
    import keras

    from dlbench.verify.worker import first_array
    model = trainer.model
    try:
        layers = [(layer, model.get_layer(top)) for layer, top in tops.items()]
        watched = keras.Model(model.inputs, [l.output for _, l in layers])
        outputs = watched.predict_on_batch(inputs[0] if len(inputs) == 1 else list(inputs))
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict((layer, first_array(o)) for (layer, _), o in zip(layers, outputs))
    except Exception:
        return {}
