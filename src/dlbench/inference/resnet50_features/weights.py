"""The canonical ResNet-50 weights: generated once from a seed, stored as an .npz of Keras's weights by name, in
Keras's order and layouts; converters to and from each framework's names and layouts; a NumPy reference forward.

Format: one float32 array per name of resnet50_features.weight_names(), e.g. `conv2_block1_1_conv/kernel` (kh, kw,
in, out: HWIO), `conv2_block1_1_conv/bias`, `conv2_block1_1_bn/gamma`, `.../beta`, `.../moving_mean`,
`.../moving_variance`: what `keras.applications.ResNet50(...).weights` lists, in that order.

Generation (generate): conv kernels He-normal (std sqrt(2 / fan_in)), biases U(-0.1, 0.1); then, layer by layer in
forward order on a calibration batch (2 images U[0, 1), seed 1: not the check's input), each BatchNorm is given
statistics near the ones its input really has, perturbed (mean + 0.1 std * N(0, 1), variance * exp(U(-0.2, 0.2)))
and random affine parameters (gamma U(0.5, 1.5), or U(0.2, 0.5) on the last BatchNorm of a residual branch so that
the sum of 16 branches does not grow; beta N(0, 0.2)). Every BatchNorm thus normalises to O(1) activations that are
not the identity transform, and the 2048 features stay O(1) through the 50 layers (neither exploding nor vanishing),
while a version that skipped a BatchNorm, swapped its statistics or misplaced epsilon would be far off.
The calibration's float64 matrix products depend on the BLAS only in the last bits, so the file can differ in
rounding between machines; every runtime loads the same file, so the check does not depend on that.

Converters (pure NumPy; the framework files apply them to their models):
  torch   `layers.<layer>.weight` conv kernels OIHW (kernel.transpose(3, 2, 0, 1)), BatchNorm weight/bias/
          running_mean/running_var (gamma, beta, moving_mean, moving_variance)
  flax    (layer, attribute): conv kernel/bias HWIO as Keras; BatchNorm scale/bias/mean/var
  tf      the canonical names and layouts themselves (the tf.Module stores its variables under Keras's names)
  keras   a list in the order of model.weights' paths (set_weights / get_weights)

Python 3.6-safe (the worker imports it): standard library and numpy only.
"""
import collections
import os

import numpy as np

from dlbench.inference import resnet50_features as model

FORMAT_VERSION = 1
CALIBRATION_SEED = 1
CALIBRATION_IMAGES = 2
BN_ATTRIBUTES = ("gamma", "beta", "moving_mean", "moving_variance")
TORCH_BN = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}
FLAX_BN = {"gamma": "scale", "beta": "bias", "moving_mean": "mean", "moving_variance": "var"}


def shapes():
    """name -> shape, in canonical order."""
    out = collections.OrderedDict()
    for name, k, cin, cout, _ in model.convs():
        out[name + "_conv/kernel"] = (k, k, cin, cout)
        out[name + "_conv/bias"] = (cout,)
        for attribute in BN_ATTRIBUTES:
            out[name + "_bn/" + attribute] = (cout,)
    return out


def check(weights):
    """Raise ValueError unless `weights` has exactly the canonical names, shapes and float32 arrays."""
    expected = shapes()
    if list(weights) != list(expected):
        missing = [n for n in expected if n not in weights]
        extra = [n for n in weights if n not in expected]
        raise ValueError("not the canonical ResNet-50 weights: %d missing (%s), %d unexpected (%s)%s" % (
            len(missing), ", ".join(missing[:3]), len(extra), ", ".join(extra[:3]),
            "" if missing or extra else ", or not in Keras's order"))
    for name, shape in expected.items():
        array = weights[name]
        if tuple(array.shape) != shape or array.dtype != np.float32:
            raise ValueError("%s: %s %s, expected float32 %s" % (name, array.dtype, tuple(array.shape), shape))
    return weights


def save(weights, path):
    """Write the canonical .npz (uncompressed: random floats do not compress); atomically, via a temporary file."""
    check(weights)
    temporary = path + ".tmp.npz"
    np.savez(temporary, **weights)  # keyword order is kept, so the file lists Keras's order
    os.replace(temporary, path)
    return path


def load(path):
    """The canonical weights of an .npz as an OrderedDict name -> float32 array, in Keras's order (checked)."""
    with np.load(path, allow_pickle=False) as archive:
        stored = {name: archive[name] for name in archive.files}
    if set(stored) != set(shapes()):
        return check(stored)  # raises, naming what is missing or extra
    return check(collections.OrderedDict((name, stored[name]) for name in shapes()))


def default_path(seed=0):
    from dlbench.data import cache_dir
    return os.path.join(cache_dir(), "resnet50_features-seed%d-v%d.npz" % (seed, FORMAT_VERSION))


def ensure(seed=0, path=None):
    """The path of the canonical weights for `seed`, generated into the cache (about 94 MB) on first use."""
    path = path or default_path(seed)
    if not os.path.exists(path):
        save(generate(seed), path)
    return path


# -- NumPy reference ------------------------------------------------------------------------------------------------

def conv2d(x, kernel, bias, stride=1, pad=0):
    """NHWC x HWIO -> NHWC, 'valid' after zero-padding `pad` on each side (Keras's ZeroPadding2D, or 'same' for an
    odd kernel at stride 1), as a matrix product over strided patches."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant")
    kh, kw, cin, cout = kernel.shape
    n, h, w, c = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    kernel = kernel.astype(x.dtype)
    if kh == kw == 1:
        return np.dot(x[:, :ho * stride:stride, :wo * stride:stride, :], kernel[0, 0]) + bias.astype(x.dtype)
    x = np.ascontiguousarray(x)
    s = x.strides
    patches = np.lib.stride_tricks.as_strided(
        x, (n, ho, wo, kh, kw, c), (s[0], s[1] * stride, s[2] * stride, s[1], s[2], s[3]), writeable=False)
    return np.tensordot(patches, kernel, axes=([3, 4, 5], [0, 1, 2])) + bias.astype(x.dtype)


def batch_norm(x, gamma, beta, mean, variance, epsilon=model.EPSILON):
    """Inference-mode BatchNorm over the last axis, as Keras computes it."""
    dtype = x.dtype
    scale = gamma.astype(dtype) / np.sqrt(variance.astype(dtype) + dtype.type(epsilon))
    return (x - mean.astype(dtype)) * scale + beta.astype(dtype)


def max_pool_3x3_s2(x):
    """Keras's ZeroPadding2D(1) + MaxPooling2D(3, 2) on NHWC."""
    x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="constant")
    ho, wo = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    out = None
    for i in range(3):
        for j in range(3):
            window = x[:, i:i + 2 * ho - 1:2, j:j + 2 * wo - 1:2, :]
            out = window if out is None else np.maximum(out, window)
    return out


def relu(x):
    return np.maximum(x, 0)


def _conv_bn(weights, name, x, stride, pad, rng):
    """Conv + BatchNorm `name`; with `rng`, first generate the conv's weights and calibrate the BatchNorm on x."""
    if rng is not None:
        k, cin, cout = [(k, cin, cout) for n, k, cin, cout, _ in model.convs() if n == name][0]
        weights[name + "_conv/kernel"] = (rng.standard_normal((k, k, cin, cout)) *
                                          np.sqrt(2.0 / (k * k * cin))).astype(np.float32)
        weights[name + "_conv/bias"] = rng.uniform(-0.1, 0.1, cout).astype(np.float32)
    z = conv2d(x, weights[name + "_conv/kernel"], weights[name + "_conv/bias"], stride, pad)
    if rng is not None:
        mean, std = z.mean(axis=(0, 1, 2)), z.std(axis=(0, 1, 2)) + 1e-3
        low, high = (0.2, 0.5) if name.endswith("_3") else (0.5, 1.5)
        weights[name + "_bn/gamma"] = rng.uniform(low, high, cout).astype(np.float32)
        weights[name + "_bn/beta"] = rng.normal(0.0, 0.2, cout).astype(np.float32)
        weights[name + "_bn/moving_mean"] = (mean + 0.1 * std * rng.standard_normal(cout)).astype(np.float32)
        weights[name + "_bn/moving_variance"] = (std ** 2 * np.exp(rng.uniform(-0.2, 0.2, cout))).astype(np.float32)
    return batch_norm(z, *[weights[name + "_bn/" + a] for a in BN_ATTRIBUTES])


def forward(weights, x, dtype=np.float64, _rng=None):
    """The 2048 features of NHWC images x, computed in `dtype` (float64: the check's reference). It follows
    keras.applications.resnet.ResNet50 and its block1 line by line."""
    x = np.asarray(x, dtype=dtype)
    x = relu(_conv_bn(weights, "conv1", x, 2, 3, _rng))  # conv1_pad (3) + 7x7/2 conv, bn, relu
    x = max_pool_3x3_s2(x)  # pool1_pad (1) + 3x3/2 max-pool
    for name, filters, stride, conv_shortcut in model.blocks():  # keras.applications.resnet.block1
        if conv_shortcut:
            shortcut = _conv_bn(weights, name + "_0", x, stride, 0, _rng)
        else:
            shortcut = x
        y = relu(_conv_bn(weights, name + "_1", x, stride, 0, _rng))
        y = relu(_conv_bn(weights, name + "_2", y, 1, 1, _rng))
        y = _conv_bn(weights, name + "_3", y, 1, 0, _rng)
        x = relu(shortcut + y)
    return x.mean(axis=(1, 2))  # GlobalAveragePooling2D


def generate(seed=0):
    """The canonical weights for `seed` (see the module's docstring), in Keras's order."""
    rng = np.random.RandomState(seed)
    weights = collections.OrderedDict()
    forward(weights, model.inputs(CALIBRATION_IMAGES, seed=CALIBRATION_SEED), _rng=rng)
    return check(collections.OrderedDict((name, weights[name]) for name in shapes()))


# -- converters -----------------------------------------------------------------------------------------------------

def _split(name):
    layer, attribute = name.split("/")
    return layer, attribute


def to_torch(weights):
    """Canonical -> a PyTorch state_dict of numpy arrays (conv kernels OIHW); the model's BatchNorm
    num_batches_tracked buffers are not weights and are left out (load with strict=False, or check the rest)."""
    out = collections.OrderedDict()
    for name, array in weights.items():
        layer, attribute = _split(name)
        if attribute == "kernel":
            out["layers.%s.weight" % layer] = np.ascontiguousarray(array.transpose(3, 2, 0, 1))
        elif attribute == "bias":
            out["layers.%s.bias" % layer] = array
        else:
            out["layers.%s.%s" % (layer, TORCH_BN[attribute])] = array
    return out


def from_torch(state):
    """A PyTorch state_dict (numpy arrays) -> canonical, in Keras's order."""
    out = collections.OrderedDict()
    for name in shapes():
        layer, attribute = _split(name)
        if attribute == "kernel":
            out[name] = np.ascontiguousarray(state["layers.%s.weight" % layer].transpose(2, 3, 1, 0))
        elif attribute == "bias":
            out[name] = state["layers.%s.bias" % layer]
        else:
            out[name] = state["layers.%s.%s" % (layer, TORCH_BN[attribute])]
    return check(out)


def to_flax(weights):
    """Canonical -> {(layer, attribute): array} for the Flax model's `layers` dict: kernels HWIO as Keras."""
    out = collections.OrderedDict()
    for name, array in weights.items():
        layer, attribute = _split(name)
        out[(layer, FLAX_BN.get(attribute, attribute))] = array
    return out


def from_flax(state):
    out = collections.OrderedDict()
    for name in shapes():
        layer, attribute = _split(name)
        out[name] = state[(layer, FLAX_BN.get(attribute, attribute))]
    return check(out)


def to_keras(weights, paths):
    """Canonical -> the list for model.set_weights, in the order of `paths` (model.weights' paths)."""
    paths = [p.split(":")[0] for p in paths]
    if sorted(paths) != sorted(weights):
        raise ValueError("the Keras model's weights are not ResNet-50's canonical ones")
    return [weights[p] for p in paths]


def from_keras(arrays, paths):
    return check(collections.OrderedDict(
        (name, np.asarray(dict(zip([p.split(":")[0] for p in paths], arrays))[name], dtype=np.float32))
        for name in shapes()))
