"""resnet50_features: DeepLearningFrameworks' inference benchmark, ResNet-50 v1 cut after global average pooling.

Model: exactly `keras.applications.ResNet50(include_top=False, pooling='avg', weights=None)`, Keras's ResNet-50 v1
(He et al. 2015), input (224, 224, 3), 2048 features out:
    conv1:  zero-pad 3, conv 7x7/2 (64, bias), BatchNorm, relu; zero-pad 1, max-pool 3x3/2      -> 56x56x64
    conv2..conv5: stacks of 3, 4, 6, 3 bottleneck blocks with 64, 128, 256, 512 filters; the first block of a
    stack has a projection shortcut (1x1 conv to 4 * filters, BatchNorm) and the stack's stride (1 for conv2,
    2 for the others); every block:
        x1 = relu(bn(conv 1x1/stride (filters)(x)))       # the stride is on this FIRST 1x1 conv: v1
        x2 = relu(bn(conv 3x3/1 'same' (filters)(x1)))
        x3 = bn(conv 1x1/1 (4 * filters)(x2))
        out = relu(shortcut + x3)                         # shortcut = bn(conv 1x1/stride(x)) or x itself
    global average pool                                                                        -> 2048
Every conv has a bias (Keras's default use_bias=True), every BatchNorm epsilon 1.001e-5, in inference mode (the
moving statistics, never the batch's). torchvision's resnet50 is v1.5 (stride on the 3x3 conv, no conv biases,
epsilon 1e-5): a different function, which is why every version here is written natively.
Padding: Keras pads conv1 and the max-pool with ZeroPadding2D layers and the 3x3 convs with 'same'; every conv
pads (k - 1) // 2 zeros on each side, so the native versions pass that padding to the conv itself (no separate
pad op; TensorFlow's 'SAME' would pad conv1 (2, 3), so conv1 gets explicit padding there). The native max-pools pad
with -inf where Keras pads with zeros: the same result, as the pooled values come out of a relu and are never
negative (TensorFlow's max_pool2d has no symmetric padding: it pads with tf.pad first).

Parameters: 53 convs (kernel + bias) and 53 BatchNorms (gamma, beta trainable; moving mean, moving variance not):
23,587,712 in all, 23,534,592 trainable (the 53,120 BatchNorm statistics are the rest). In PyTorch and Flax the
statistics are buffers / BatchStat variables, not parameters: count_params() in each version adds them back so that
every runtime reports Keras's count_params().

Weights: there are no pretrained weights to download here and timing does not depend on their values, so one set
is generated from a seed (weights.generate) and carried into every runtime through a canonical file: an .npz of
Keras's weights by name (`conv2_block1_1_conv/kernel`, ...) in Keras's order and layouts (conv kernels HWIO).
BatchNorm statistics and affine parameters are randomised (not 0/1), so a version that skipped a BatchNorm, swapped
mean and variance or misplaced epsilon would fail the equality check. weights.py converts to and from each
framework's layout (PyTorch OIHW; Flax and TensorFlow HWIO, as Keras) and holds a NumPy float64 reference forward.

The check: the same input, U[0, 1) from seed 0 in (N, 224, 224, 3) (transposed once to (N, 3, 224, 224) for the
channels-first runtimes, never per batch in a timed loop), gives the same 2048 features in every runtime within a
relative error of 1e-4 in float32: max |features - reference| / max |reference|, the reference being the NumPy
forward in float64.

The versions sit beside this file, each loading and exporting the canonical weights:
  keras.py       keras.applications.ResNet50 itself, the reference model, on jax, tensorflow, torch (channels_first,
                 the layout its convolutions prefer) and openvino (Keras 3's inference-only backend)
  torch.py       an nn.Module of nn.Conv2d / nn.BatchNorm2d, channels-first; eager, or torch.compile as a mode
  jax.py         a Flax NNX module of nnx.Conv / nnx.BatchNorm, channels-last, under jax.jit
  tensorflow.py  a tf.Module of tf.Variables with tf.nn.conv2d / tf.nn.batch_normalization / tf.nn.max_pool2d,
                 channels-last, under tf.function with and without jit_compile=True (XLA)
  ../onnx_export.py  the PyTorch model exported to ONNX (TorchScript-based exporter), run in ONNX Runtime, and
                 converted to OpenVINO's model with openvino.convert_model
  runtimes.py    one function per runtime: load the canonical weights, return a predict function and its layout

Python 3.6-safe (the worker imports it): standard library and numpy only.
"""
import numpy as np

from dlbench.workloads.spec import Hyper, WorkloadSpec

ID = "resnet50_features"
SOURCE = "DeepLearningFrameworks inference benchmark (ResNet-50 feature extraction)"
PARAMS = 23587712
TRAINABLE_PARAMS = 23534592
IMAGE_SHAPE = (224, 224, 3)  # channels-last; channels-first runtimes take (3, 224, 224)
FEATURES = 2048
EPSILON = 1.001e-5  # Keras's ResNet BatchNorm epsilon
RELATIVE_TOLERANCE = 1e-4
BATCH_SIZE = 32
BATCH_SIZES_GPU = (1, 8, 32, 64)
BATCH_SIZES_CPU = (1, 8, 32)
IMAGES_GPU = 1280  # the seed's count
IMAGES_CPU = 64  # ResNet-50 on 2 CPU cores does ~10-20 images/s (DESIGN.md)
INPUT_SEED = 0
PASSES = 3  # timed passes per batch size after the warm-up pass: the images/s CI is over them
CHECK_IMAGES = 2  # the feature check's input: the first images, at the sweep's smallest batch size

# The workload as `dlbench run` sees it (dlbench.workloads.INFERENCE registers it): no data set, no training;
# `epochs` is the number of timed passes per batch size, batch_size the one the seed reports.
SPEC = WorkloadSpec(
    id=ID, source="DeepLearningFrameworks inference benchmark (ResNet-50 feature extraction)", dataset=None,
    batch_size=BATCH_SIZE, epochs=PASSES, params=PARAMS, trainable_params=TRAINABLE_PARAMS,
    hp=Hyper(images_cpu=IMAGES_CPU, images_gpu=IMAGES_GPU, batch_sizes_cpu=list(BATCH_SIZES_CPU),
             batch_sizes_gpu=list(BATCH_SIZES_GPU), features=FEATURES, relative_tolerance=RELATIVE_TOLERANCE),
    metric="features", reference="the same 2048 features as the NumPy float64 reference (relative error <= 1e-4)",
    warmup_epochs=0, kind="inference")

# framework id -> {compile mode: (runtime in runtimes.py, Keras jit_compile)}. A mode a framework does not have is
# not planned; where only one mode exists, it is the one that actually runs:
#   torch: eager ("none") or torch.compile (Inductor, "jit"); tensorflow: tf.function in TensorFlow's graph executor
#   or with jit_compile=True (XLA); keras-tensorflow: Keras's jit_compile False or True (XLA; "auto" is False on a
#   CPU); jax and keras-jax: always jax.jit (XLA); keras-torch: eager only (Keras's jit_compile=True wraps its layer
#   calls in torch.compile, which hits dynamo's recompile limit on this model and falls back to eager in part);
#   onnxruntime, openvino, keras-openvino: the runtime's own graph compiler, always on ("none": nothing to choose).
COMPILE = {
    "keras-jax": {"jit": ("keras-jax", "auto")},
    "keras-tensorflow": {"none": ("keras-tensorflow", False), "jit": ("keras-tensorflow", True)},
    "keras-torch": {"none": ("keras-torch", "auto")},
    "keras-openvino": {"none": ("keras-openvino", "auto")},
    "torch": {"none": ("torch", None), "jit": ("torch-compile", None)},
    "jax": {"jit": ("jax", None)},
    "tensorflow": {"none": ("tensorflow", None), "jit": ("tensorflow-xla", None)},
    "onnxruntime": {"none": ("onnxruntime", None)},
    "openvino": {"none": ("openvino", None)},
}


def compile_modes(framework_id, requested=None):
    """The compile modes to plan for a framework: those of `requested` (None: every mode it has) mapped onto the
    modes it has (a framework with one mode runs that one whatever was asked), without duplicates."""
    have = [m for m in ("none", "jit") if m in COMPILE[framework_id]]
    if len(have) == 1 or requested is None:
        return have
    return [m for m in ("none", "jit") if m in requested]


def sweep(device, batch_size=None, images=None):
    """(batch sizes, images per pass) for a device: the seed's sweep over 1,280 images on a GPU, a small image
    count on a CPU (DESIGN.md); one batch size where the user gave one."""
    sizes = [batch_size] if batch_size else list(BATCH_SIZES_GPU if device == "gpu" else BATCH_SIZES_CPU)
    return sizes, images or (IMAGES_GPU if device == "gpu" else IMAGES_CPU)

# (stack name, filters, blocks, stride of the first block): keras.applications.resnet.ResNet50's stack_fn.
STACKS = (("conv2", 64, 3, 1), ("conv3", 128, 4, 2), ("conv4", 256, 6, 2), ("conv5", 512, 3, 2))
EXPANSION = 4


def blocks():
    """(name, filters, stride, conv_shortcut) for the 16 bottleneck blocks in order, named as Keras names them."""
    out = []
    for stack, filters, count, stride in STACKS:
        for i in range(1, count + 1):
            out.append(("%s_block%d" % (stack, i), filters, stride if i == 1 else 1, i == 1))
    return out


def convs():
    """(name, kernel size, in channels, out channels, stride) for the 53 convs, in Keras's weight order (the model's
    layer order: in a block with a projection, _1, _2, then _0, then _3). Each conv `X_conv` is followed by its
    BatchNorm `X_bn`."""
    out = [("conv1", 7, 3, 64, 2)]
    channels = 64
    for name, filters, stride, conv_shortcut in blocks():
        out.append((name + "_1", 1, channels, filters, stride))
        out.append((name + "_2", 3, filters, filters, 1))
        if conv_shortcut:
            out.append((name + "_0", 1, channels, EXPANSION * filters, stride))
        out.append((name + "_3", 1, filters, EXPANSION * filters, 1))
        channels = EXPANSION * filters
    return out


def weight_names():
    """The canonical weight names in Keras's order (model.weights): per conv its kernel and bias, then its
    BatchNorm's gamma, beta, moving_mean, moving_variance."""
    names = []
    for name, _, _, _, _ in convs():
        names += [name + "_conv/kernel", name + "_conv/bias"]
        names += [name + "_bn/" + w for w in ("gamma", "beta", "moving_mean", "moving_variance")]
    return names


def param_counts():
    """(total, trainable) from the topology: Keras's count_params()."""
    total = trainable = 0
    for _, k, cin, cout, _ in convs():
        trainable += k * k * cin * cout + cout + 2 * cout
        total += k * k * cin * cout + cout + 4 * cout
    return total, trainable


def inputs(n, seed=INPUT_SEED, channels_first=False):
    """n images U[0, 1) in float32, (n, 224, 224, 3); one generator from `seed`, so the first k images of a larger
    draw are the k images of a smaller one. channels_first: transposed once to (n, 3, 224, 224), contiguous."""
    rng = np.random.RandomState(seed)
    x = np.empty((n,) + IMAGE_SHAPE, dtype=np.float32)
    for i in range(n):  # image by image: the same stream as one draw, without a float64 copy of all of them
        x[i] = rng.random_sample(IMAGE_SHAPE)
    if channels_first:
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x


def relative_error(features, reference):
    """max |features - reference| / max |reference|: the check's measure (an elementwise ratio would blow up on
    features near zero, which a relu makes common)."""
    features = np.asarray(features, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if features.shape != reference.shape:
        raise ValueError("features of shape %s, reference of shape %s" % (features.shape, reference.shape))
    return float(np.max(np.abs(features - reference)) / np.max(np.abs(reference)))
