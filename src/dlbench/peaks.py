"""Dense peak FLOP rates of NVIDIA GPUs per precision, from NVIDIA's datasheets, and MFU (model FLOPs
utilisation): a run's model FLOPs per second (dlbench.workloads.flops) over the peak matching what it computed in.

Runs in the worker too: plain Python (3.6).
"""

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