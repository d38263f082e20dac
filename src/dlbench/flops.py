"""FLOPs per training sample, computed from each workload's layers, and the peak table that turns an achieved
FLOP rate into MFU (model FLOPs utilisation).

Two counts, both from the same layer lists:
- **Model FLOPs** (model_flops_per_sample): 3 x the forward pass's matmul and convolution FLOPs, the standard MFU
  convention (the PaLM paper's appendix B: backward = 2 x forward, whatever the implementation skips). Two
  implementations of one model have the same model FLOPs, so MFU compares them fairly. This is what MFU divides.
- **Executed FLOPs** (train_flops_per_sample): forward + the backward matmuls a framework really runs. It leaves
  out the gradients nobody needs (below), so it is at most the model count: mnist_mlp executes 2.4 x its forward
  (its first layer, 784 -> 512, is most of the work and needs no input gradient), char_lstm 2.68 x (its LSTM
  reads one-hot data), the other workloads 2.96-3.0 x. It is what runs.flops_per_sample holds and what PyTorch's
  FlopCounterMode and XLA's cost analysis count (tests/test_flops.py), so it is the figure for an achieved
  hardware rate.

What counts:
- A multiply-add is 2 FLOPs. Only matrix multiplications and convolutions count: elementwise work (activations,
  bias adds, the LSTM/GRU gates' nonlinearities and products, dropout, BatchNorm), pooling, embedding lookups and
  their gradients' scatter-adds, the loss and the optimizer's update are left out. They are memory-bound, small
  next to the matmuls in every workload here but imdb_fasttext (whose only matmul is its Dense 50 -> 1: its
  count is tiny, and its MFU is meaningfully tiny too).
- Forward: a Dense layer n_in -> n_out costs 2 * n_in * n_out per sample; a convolution 2 * k_h * k_w * c_in *
  c_out per output position (the output size after its padding and stride); an LSTM 2 * 4u * (n_in + u) per time
  step (the input and the recurrent projections of its four gates), a GRU 2 * 3u * (n_in + u) (three gates; the
  cuDNN-style reset-after GRU multiplies the same matrices). Bidirectional doubles its layer; TimeDistributed
  multiplies it by the number of slices it runs over.
- Executed backward: the gradient with respect to the weights and the one with respect to the layer's input
  each cost what the forward matmul did, except for gradients nobody needs, which frameworks do not compute and
  the executed count leaves out too:
    * the input gradient of a layer that reads the data (marked `data=True`: a first Dense or convolution, an LSTM
      over pixels or one-hot characters). A layer that reads an Embedding's output does need it: the embedding
      is trained through it.
    * in a recurrent layer, the gradient with respect to the initial state (zeros, not a parameter): its recurrent
      input gradient is needed at steps 2..T only, 2 * G*u * u * (T - 1) (G gates). The forward pass still
      multiplies the zero initial state (every framework does), and so does the weight gradient.
  PyTorch's FlopCounterMode and XLA's cost analysis skip exactly these (tests/test_flops.py checks it).
A training step of a batch costs batch_size times either count. MFU is model FLOPs per second over the device's
dense peak for what ran (peak(): the trial's precision and the matmul precision its run read back, TF32 or strict
FP32 for float32 work); an achieved hardware rate is executed FLOPs per second.

Each workload lists its layers in its own __init__.py, beside its parameter arithmetic: `flops_layers(hp)`
returns a list of the layer objects below, which this module walks. The workloads' __init__.py files run in the
worker too, so this module is plain Python (3.6) with no framework imported.
"""


def conv_output_size(size, kernel, padding, stride=1):
    """One spatial dimension after a convolution or pooling: "same" keeps ceil(size / stride), "valid" keeps the
    positions where the window fits, (size - kernel) // stride + 1."""
    if padding == "same":
        return -(-size // stride)
    if padding == "valid":
        if size < kernel:
            raise ValueError("a %d-wide window does not fit in %d positions" % (kernel, size))
        return (size - kernel) // stride + 1
    raise ValueError("padding must be 'same' or 'valid', not %r" % (padding,))


class Layer(object):
    """A layer's FLOPs for one sample: forward, and backward split into the weight gradient and the input
    gradient (left out when the layer reads the data)."""

    data = False

    def forward(self):
        return 0

    def weight_grad(self):
        return self.forward()

    def input_grad(self):
        return 0 if self.data else self.forward()

    def backward(self):
        return self.weight_grad() + self.input_grad()


class Dense(Layer):
    """n_in -> n_out (the bias add is elementwise: not counted)."""

    def __init__(self, n_in, n_out, data=False):
        self.n_in, self.n_out, self.data = n_in, n_out, data

    def forward(self):
        return 2 * self.n_in * self.n_out

    def __repr__(self):
        return "Dense(%d -> %d)" % (self.n_in, self.n_out)


class Conv2D(Layer):
    """A k x k convolution of c_in -> c_out channels over an input of `size` (height, width); out_size is what it
    produces after its padding and stride."""

    def __init__(self, c_in, c_out, kernel, size, padding="valid", stride=1, data=False):
        self.c_in, self.c_out, self.kernel, self.size, self.padding, self.stride, self.data = (
            c_in, c_out, kernel, tuple(size), padding, stride, data)
        self.out_size = tuple(conv_output_size(n, kernel, padding, stride) for n in self.size)

    def forward(self):
        return 2 * self.kernel * self.kernel * self.c_in * self.c_out * self.out_size[0] * self.out_size[1]

    def __repr__(self):
        return "Conv2D(%d -> %d, %dx%d %s, %dx%d -> %dx%d)" % (
            self.c_in, self.c_out, self.kernel, self.kernel, self.padding, self.size[0], self.size[1],
            self.out_size[0], self.out_size[1])


class MaxPool2D(Layer):
    """A pool of `pool` x `pool`, stride the pool size, padding valid: no FLOPs counted, it sets the next size."""

    def __init__(self, pool, size):
        self.pool, self.size = pool, tuple(size)
        self.out_size = tuple(conv_output_size(n, pool, "valid", pool) for n in self.size)

    def __repr__(self):
        return "MaxPool2D(%d, %dx%d -> %dx%d)" % ((self.pool,) + self.size + self.out_size)


class Embedding(Layer):
    """A lookup (forward) and a scatter-add (its gradient): no FLOPs counted."""

    def __init__(self, num, dim):
        self.num, self.dim = num, dim

    def __repr__(self):
        return "Embedding(%d, %d)" % (self.num, self.dim)


class GlobalAveragePooling1D(Layer):
    """A mean over the sequence: elementwise adds, not counted."""

    def __repr__(self):
        return "GlobalAveragePooling1D()"


class Recurrent(Layer):
    """A recurrent layer of `gates` gates of `units` each, over `steps` time steps of n_in features: per step the
    input projection (n_in -> gates * units) and the recurrent one (units -> gates * units)."""

    gates = None
    name = None

    def __init__(self, n_in, units, steps, data=False):
        self.n_in, self.units, self.steps, self.data = n_in, units, steps, data

    def _width(self):
        return self.gates * self.units

    def forward(self):
        return 2 * self._width() * (self.n_in + self.units) * self.steps

    def weight_grad(self):
        return self.forward()  # both kernels, every step (the first step's recurrent input is zero but multiplied)

    def input_grad(self):
        recurrent = 2 * self._width() * self.units * (self.steps - 1)  # not for the initial state
        inputs = 0 if self.data else 2 * self._width() * self.n_in * self.steps
        return recurrent + inputs

    def __repr__(self):
        return "%s(%d -> %d, %d steps)" % (self.name, self.n_in, self.units, self.steps)


class LSTM(Recurrent):
    gates = 4
    name = "LSTM"


class GRU(Recurrent):
    gates = 3
    name = "GRU"


class SimpleRNN(Recurrent):
    gates = 1
    name = "SimpleRNN"


class Repeated(Layer):
    """A layer run `times` times per sample with the same weights (TimeDistributed over slices) or with its own
    (Bidirectional: twice)."""

    def __init__(self, layer, times, name):
        self.layer, self.times, self.name = layer, times, name

    def forward(self):
        return self.times * self.layer.forward()

    def weight_grad(self):
        return self.times * self.layer.weight_grad()

    def input_grad(self):
        return self.times * self.layer.input_grad()

    def __repr__(self):
        return "%s(%r)" % (self.name, self.layer)


def TimeDistributed(layer, times):
    """The layer applied to each of `times` slices of a sample (Keras's TimeDistributed)."""
    return Repeated(layer, times, "TimeDistributed[%d]" % times)


def Bidirectional(layer):
    """The layer forwards and backwards over the sequence, two sets of weights (Keras's Bidirectional)."""
    return Repeated(layer, 2, "Bidirectional")


def layers(workload_id, hp=None):
    """The workload's layer list (its flops_layers(hp)), or None for a workload without one (the inference
    workloads). hp defaults to the spec's; it may also be a plain dict (a run's stored env["hyperparameters"]).
    imdb_fasttext's spec leaves max_features to the data: pass hyper(dataset) (the count does not depend on it)."""
    from dlbench import workloads
    from dlbench.workloads.spec import Hyper
    module = workloads.get(workload_id)
    if not hasattr(module, "flops_layers"):
        return None
    if isinstance(hp, dict):
        hp = Hyper(**hp)
    return module.flops_layers(module.SPEC.hp if hp is None else hp)


def _total(workload_id, hp, cost):
    found = layers(workload_id, hp)
    return None if found is None else sum(cost(layer) for layer in found)


def forward_flops_per_sample(workload_id, hp=None):
    """Matmul and convolution FLOPs of one sample's forward pass; None for a workload without a layer list."""
    return _total(workload_id, hp, lambda layer: layer.forward())


def backward_flops_per_sample(workload_id, hp=None):
    """Matmul and convolution FLOPs of one sample's executed backward pass (the weight gradients and the input
    gradients that are needed); None for a workload without a layer list."""
    return _total(workload_id, hp, lambda layer: layer.backward())


def train_flops_per_sample(workload_id, hp=None):
    """Executed FLOPs of one training sample: forward + the backward matmuls and convolutions that run (the
    optimizer excluded; unneeded input gradients left out, see the module docstring). What runs.flops_per_sample
    holds and what FlopCounterMode / XLA's cost analysis count: the figure for an achieved hardware rate, not for
    MFU (model_flops_per_sample). None for a workload without a layer list (the inference workloads)."""
    return _total(workload_id, hp, lambda layer: layer.forward() + layer.backward())


def model_flops_per_sample(workload_id, hp=None):
    """Model FLOPs of one training sample, the MFU convention: 3 x forward_flops_per_sample (backward = 2 x
    forward, as the PaLM paper's appendix B counts it, whatever gradients an implementation skips). hp may be a
    Hyper, a dict (a run's env["hyperparameters"]) or None (the spec's). None for a workload without a layer
    list."""
    forward = forward_flops_per_sample(workload_id, hp)
    return None if forward is None else 3 * forward


# --- Peak FLOP rates and MFU -----------------------------------------------------------------------------------

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
# The run settings' names for mixed precision: the matmuls run in the half type.
_PRECISION_ALIASES = {"fp16-mixed": "fp16", "bf16-mixed": "bf16"}

# Dense (not sparse) peak FLOP/s per precision: fp32 is the CUDA cores' FP32 rate; tf32, bf16 and fp16 the tensor
# cores' dense rate with FP32 accumulation (what PyTorch, XLA and cuBLAS use for bf16/fp16 training). NVIDIA's
# datasheets print the tensor-core figures "with sparsity" (an asterisk): the dense figure is half of it. None: the
# device has no such tensor-core path (V100 and T4 have no TF32 or BF16), so there is no peak to divide by.
# Sources, as published by NVIDIA:
_T = 1e12
_PEAKS = {
    # NVIDIA H100 Tensor Core GPU datasheet and the H100 architecture whitepaper (table 3), H100 SXM5:
    # FP32 67 (66.9), TF32 494.7, BF16 989.4, FP16 989.4 (sparse 989 / 1979 / 1979).
    "H100 SXM": {"fp32": 66.9 * _T, "tf32": 494.7 * _T, "bf16": 989.4 * _T, "fp16": 989.4 * _T},
    # Same sources, H100 PCIe: FP32 51.2, TF32 378, BF16 756, FP16 756 (sparse 756 / 1513 / 1513).
    "H100 PCIe": {"fp32": 51.2 * _T, "tf32": 378 * _T, "bf16": 756 * _T, "fp16": 756 * _T},
    # NVIDIA H200 Tensor Core GPU datasheet, H200 SXM: the H100 SXM's compute (FP32 67, TF32 989*, BF16 1979*,
    # FP16 1979*, * with sparsity) with more and faster memory.
    "H200 SXM": {"fp32": 66.9 * _T, "tf32": 494.7 * _T, "bf16": 989.4 * _T, "fp16": 989.4 * _T},
    # NVIDIA A100 Tensor Core GPU datasheet: the same peaks for 40 GB and 80 GB, SXM4 and PCIe:
    # FP32 19.5, TF32 156, BF16 312, FP16 312 (sparse 312 / 624 / 624).
    "A100": {"fp32": 19.5 * _T, "tf32": 156 * _T, "bf16": 312 * _T, "fp16": 312 * _T},
    # NVIDIA L4 Tensor Core GPU datasheet: FP32 30.3, TF32 120*, BF16 242*, FP16 242* (* with sparsity).
    "L4": {"fp32": 30.3 * _T, "tf32": 60 * _T, "bf16": 121 * _T, "fp16": 121 * _T},
    # NVIDIA L40S datasheet: FP32 91.6, TF32 183 (366*), BF16 362.05 (733*), FP16 362.05 (733*).
    "L40S": {"fp32": 91.6 * _T, "tf32": 183 * _T, "bf16": 362.05 * _T, "fp16": 362.05 * _T},
    # NVIDIA A10 Tensor Core GPU datasheet: FP32 31.2, TF32 62.5 (125*), BF16 125 (250*), FP16 125 (250*).
    "A10": {"fp32": 31.2 * _T, "tf32": 62.5 * _T, "bf16": 125 * _T, "fp16": 125 * _T},
    # NVIDIA V100 Tensor Core GPU datasheet: SXM2 FP32 15.7, tensor (FP16) 125; PCIe FP32 14, tensor 112;
    # V100S PCIe FP32 16.4, tensor 130. Volta has no TF32 or BF16 tensor cores.
    "V100 SXM2": {"fp32": 15.7 * _T, "tf32": None, "bf16": None, "fp16": 125 * _T},
    "V100 PCIe": {"fp32": 14 * _T, "tf32": None, "bf16": None, "fp16": 112 * _T},
    "V100S PCIe": {"fp32": 16.4 * _T, "tf32": None, "bf16": None, "fp16": 130 * _T},
    # NVIDIA T4 Tensor Core GPU datasheet: FP32 8.1, mixed precision (FP16/FP32) 65. No TF32 or BF16 (Turing).
    "T4": {"fp32": 8.1 * _T, "tf32": None, "bf16": None, "fp16": 65 * _T},
    # NVIDIA Ada Lovelace architecture whitepaper (v2.1), appendix A, GeForce RTX 4090: FP32 82.6; TF32 tensor
    # 82.6 (165.2*); BF16 and FP16 tensor with FP32 accumulate 165.2 (330.4*). (FP16 with FP16 accumulate is
    # 330.3, but frameworks accumulate in FP32; GeForce cards run that at half rate.)
    "RTX 4090": {"fp32": 82.6 * _T, "tf32": 82.6 * _T, "bf16": 165.2 * _T, "fp16": 165.2 * _T},
}

# Device names as nvidia-smi and torch.cuda.get_device_name() report them (compared lowercased, spaces collapsed,
# a leading "NVIDIA " or "Tesla " dropped), to the table's rows. Exact names only: a name not listed (an H100 NVL,
# an A10G, an L40) is unknown, never matched to a relative by a substring.
_NAMES = {
    "h100 80gb hbm3": "H100 SXM",  # the SXM5 part
    "h100 sxm5 80gb": "H100 SXM",
    "h100 pcie": "H100 PCIe",
    "h100 80gb pcie": "H100 PCIe",
    "h200": "H200 SXM",
    "h200 sxm": "H200 SXM",
    "a100-sxm4-40gb": "A100",
    "a100-sxm4-80gb": "A100",
    "a100-pcie-40gb": "A100",
    "a100 80gb pcie": "A100",
    "a100-pcie-80gb": "A100",
    "l4": "L4",
    "l40s": "L40S",
    "a10": "A10",
    "v100-sxm2-16gb": "V100 SXM2",
    "v100-sxm2-32gb": "V100 SXM2",
    "v100-pcie-16gb": "V100 PCIe",
    "v100-pcie-32gb": "V100 PCIe",
    "v100s-pcie-32gb": "V100S PCIe",
    "t4": "T4",
    "geforce rtx 4090": "RTX 4090",
}


def device_model(device_name):
    """The peak table's row for a device name as nvidia-smi / torch.cuda.get_device_name report it
    ("NVIDIA H100 80GB HBM3" -> "H100 SXM"), or None for a device the table does not know."""
    if not device_name:
        return None
    name = " ".join(str(device_name).lower().split())
    for prefix in ("nvidia ", "tesla "):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return _NAMES.get(name)


def peak_flops(device_name, precision):
    """Dense peak FLOP/s of the device at a precision (fp32, tf32, bf16, fp16; fp16-mixed and bf16-mixed read
    as fp16 and bf16), from NVIDIA's datasheets; None when the device is unknown or has no such path (then MFU is
    unknown: never guessed)."""
    precision = _PRECISION_ALIASES.get(precision, precision)
    if precision not in PRECISIONS:
        raise ValueError("precision must be one of %s, not %r" % (", ".join(PRECISIONS), precision))
    model = device_model(device_name)
    if model is None:
        return None
    return _PEAKS[model][precision]


MATMUL_PRECISIONS = ("tf32", "fp32")  # what a run records as env["matmul_precision"]


def peak_precision(precision, matmul_precision):
    """The peak table's column for what a run computed in: its precision setting (fp32, bf16, fp16-mixed) and, for
    fp32, the float32 matmul precision it read back (env["matmul_precision"]: "tf32" or "fp32"). bf16 and
    fp16-mixed run their matmuls in the half type, whatever the float32 setting. None: an fp32 run that recorded
    no matmul precision (a store from before it was recorded) or a split one (dlbench.frameworks.adapter.
    matmul_precision): which peak applies is unknown, never guessed."""
    precision = _PRECISION_ALIASES.get(precision, precision)
    if precision in ("bf16", "fp16"):
        return precision
    if precision not in ("fp32", "tf32"):
        raise ValueError("precision must be fp32, bf16 or fp16-mixed, not %r" % (precision,))
    if precision == "tf32":  # the peak's own name, as callers of peak_flops have passed it
        return "tf32"
    if matmul_precision not in MATMUL_PRECISIONS:  # None, or a framework that reported matmuls and convolutions
        return None                                # apart ("tf32 for matmuls only"): no one peak applies
    return matmul_precision


def peak(device_name, precision, matmul_precision):
    """Dense peak FLOP/s matching what a run executed: peak_flops for peak_precision(precision, matmul_precision).
    An fp32 run with TF32 allowed (the default tier on a GPU) is set against the TF32 tensor-core peak, one with
    --no-tf32 (strict FP32) against the CUDA cores' FP32 peak. None: an unknown device (every CPU), a precision the
    device has no path for, or an fp32 run without a recorded matmul precision."""
    column = peak_precision(precision, matmul_precision)
    return None if column is None else peak_flops(device_name, column)


def mfu(flops_per_second, device_name, precision, matmul_precision=None):
    """Model FLOPs utilisation: the achieved model-FLOP rate (model_flops_per_sample * samples per second) over
    peak(device_name, precision, matmul_precision); None when that peak is unknown (never guessed). precision is a
    run's setting (fp32, bf16, fp16-mixed) or a peak's own column (tf32); matmul_precision is what an fp32 run read
    back ("tf32" or "fp32")."""
    top = peak(device_name, precision, matmul_precision)
    if top is None or flops_per_second is None:
        return None
    return flops_per_second / top