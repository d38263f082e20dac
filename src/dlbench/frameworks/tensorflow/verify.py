"""Native TensorFlow <-> canonical weights: the tf.Modules of dlbench.frameworks.tensorflow.layers keep Keras's layouts
(kernels (in, out) and HWIO, LSTM gates i, f, c, o, NHWC flatten in (H, W, C) order), so a weight is a variable
found by its attribute path, assigned as it is. A path part that is a number indexes a list of modules (a GPT's blocks, h.0); the attention's
two kernels are its c_attn and c_proj modules' (nanoGPT's names)."""
import collections

import numpy as np

from dlbench.verify import canonical


def _layer(name, native, attributes):
    """attributes: each canonical weight's name (its attribute path the same, "/" read as "."), or (its name, its
    attribute path) where they differ."""
    pairs = [a if isinstance(a, tuple) else (a, a.replace("/", ".")) for a in attributes]
    return [(name + "/" + a, native + "." + b) for a, b in pairs]


LSTM = ("kernel", "recurrent_kernel", "bias")
BN = ("gamma", "beta", "moving_mean", "moving_variance")
KINDS = {"Dense": lambda layer: ("kernel", "bias") if layer.bias else ("kernel",),
         "Conv2D": lambda layer: ("kernel", "bias"), "Embedding": lambda layer: ("embeddings",),
         "LSTM": lambda layer: LSTM, "GRU": lambda layer: LSTM,  # the GRU's variables have the LSTM's names
         "BatchNorm": lambda layer: BN, "LayerNorm": lambda layer: ("gamma", "beta") if layer.center else ("gamma",),
         "KerasNormalization": lambda layer: ("mean", "variance", "count"),
         "KerasMultiHeadAttention": lambda layer: [p + "/" + w for p in ("query", "key", "value", "attention_output")
                                                   for w in ("kernel", "bias")],
         "CausalSelfAttention": lambda layer: (("qkv_kernel", "c_attn.kernel"), ("proj_kernel", "c_proj.kernel"))}
# The workload files' attribute names where they differ from the canonical layer's.
NATIVE_NAMES = {"char_embed_lstm": {"main_out": "main", "aux_out": "aux"}}


def entries(workload, hp):
    """(canonical weight, attribute path) for each weight of the workload's declared layers; a Bidirectional
    layer's two directions are the module's `forward` and `backward` attributes."""
    renamed = NATIVE_NAMES.get(workload, {})
    return [entry for name, layer, direction in canonical.weighted_layers(workload, hp)
            for entry in _layer(name, direction or renamed.get(name, name), KINDS[layer.kind](layer))]


def _variable(model, path):
    for part in path.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)  # blocks.0.att: a list's item
    return model


def from_canonical(model, workload, hp, weights):
    weights = canonical.check(workload, hp, weights)
    for name, path in entries(workload, hp):
        variable = _variable(model, path)
        if tuple(variable.shape) != weights[name].shape:
            raise ValueError("%s: %s -> %s: shape %s, tensorflow has %s" % (
                workload, name, path, weights[name].shape, tuple(variable.shape)))
        variable.assign(weights[name].astype(variable.dtype.as_numpy_dtype))  # Normalization's count is an integer


def to_canonical(model, workload, hp):
    return collections.OrderedDict((name, np.asarray(_variable(model, path).numpy(), dtype=np.float32))
                                   for name, path in entries(workload, hp))


# What dlbench.verify.worker runs beyond the weights: the model's output for a batch and each layer's.
LOGITS = True  # the native model returns logits (the parent applies the workload's output function, in float64)


def weight_owners(model, workload, hp):
    """The top-level attribute holding each canonical weight, in canonical order."""
    from dlbench.verify.worker import entry_owners
    return entry_owners(entries(workload, hp))


def forward(trainer, inputs):
    """The model's output for one batch in inference mode (dropout off, BatchNorm frozen)."""
    import tensorflow as tf
    return trainer.model(*[tf.constant(a) for a in inputs], training=False)


def layer_outputs(trainer, inputs, tops):
    """canonical layer -> its output for the batch: each tf.Module layer's class __call__ watched for one pass."""
    from dlbench.verify.worker import watch_calls
    return watch_calls(trainer, inputs, tops, forward)
