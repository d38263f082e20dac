"""What each inference runtime sets, reads back and records around a timed pass, by runtime id (the runtimes of
dlbench.inference's workloads: torch, torch-compile, jax, tensorflow, tensorflow-xla, the keras-* backends, onnxruntime,
openvino, keras-openvino): its thread settings, the GPU flags and what waits for the device, the feature check's
strict FP32, the allocator's peak, and what actually ran, in words. dlbench.worker.inference, the timing protocol,
calls these and names no runtime. Python 3.6-safe syntax, like the rest of the worker side.
"""
import contextlib

TORCH_RUNTIMES = ("torch", "torch-compile", "keras-torch")
JAX_RUNTIMES = ("jax", "keras-jax")
THREAD_SETTINGS = {  # {n}: the trial's threads
    "torch": "torch.set_num_threads({n}), set_num_interop_threads({n})",
    "tensorflow": "tf.config.threading intra_op {n}, inter_op {n}",
    "jax": "XLA sizes its pool from the CPU affinity ({n} CPUs)",
    "onnxruntime": "SessionOptions.intra_op_num_threads {n}, inter_op_num_threads 1, sequential",
    "openvino": "INFERENCE_NUM_THREADS {n}, PERFORMANCE_HINT LATENCY (one stream)",
}
THREAD_FAMILY = {"torch": "torch", "torch-compile": "torch", "keras-torch": "torch", "tensorflow": "tensorflow",
                 "tensorflow-xla": "tensorflow", "keras-tensorflow": "tensorflow", "jax": "jax", "keras-jax": "jax",
                 "onnxruntime": "onnxruntime", "openvino": "openvino", "keras-openvino": "openvino"}


def synchronizer(runtime, device):
    """What to call before every clock read: torch.cuda.synchronize on a GPU for the torch runtimes (and ONNX
    Runtime, whose inputs torch placed there); elsewhere the predict functions already return host arrays (which
    waits for the device)."""
    if device == "gpu" and (runtime in TORCH_RUNTIMES or runtime == "onnxruntime"):
        import torch
        return torch.cuda.synchronize
    return lambda: None


@contextlib.contextmanager
def check_precision(runtime, device):
    """Strict FP32 for the feature check on a GPU, restored after: torch's float32 matmul precision "highest" and
    cuDNN allow_tf32 off, jax's default matmul precision "float32", TensorFlow's TF32 execution off (a second
    predictor is built under it: check_predictor)."""
    family = THREAD_FAMILY[runtime]
    if device != "gpu" or family not in ("torch", "jax", "tensorflow"):
        yield None
        return
    if family == "torch":
        import torch
        from dlbench.frameworks.torch.adapter import set_torch_tf32
        saved = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32
        set_torch_tf32(torch, False)
        try:
            yield 'torch float32 matmul precision "highest", cudnn allow_tf32 False'
        finally:
            torch.set_float32_matmul_precision(saved[0])
            torch.backends.cudnn.allow_tf32 = saved[1]
    elif family == "jax":
        import jax
        with jax.default_matmul_precision("float32"):
            yield 'jax.default_matmul_precision("float32")'
    else:
        import tensorflow as tf
        saved = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield "tensorflow TF32 execution off"
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(saved)


def check_predictor(runtime, device, matmul_precision, build):
    """(predict, how) for the check where the timed predict cannot serve it: TF32 ran on a GPU in a runtime whose
    precision is fixed when its program is built (TensorFlow's traced and XLA-compiled functions, ONNX Runtime's
    session), so build(tf32=False) makes a second predictor in strict FP32, untimed. (None, None): the timed one
    (also where the precision is unknown: an ONNX Runtime without the use_tf32 option could not be asked for it)."""
    if device == "gpu" and matmul_precision == "tf32" and THREAD_FAMILY[runtime] in ("tensorflow", "onnxruntime"):
        return build(False)[0], "a second %s predictor built in strict FP32" % runtime
    return None, None


def gpu_settings(runtime, device):
    """cuDNN autotune on for the fixed-size inputs (WORKLOADS.md rule 2) and the precision flags timing runs with
    (runtimes.set_matmul_precision set them), as recorded settings."""
    if device != "gpu":
        return {}
    if runtime in TORCH_RUNTIMES:
        import torch
        torch.backends.cudnn.benchmark = True
        return {"cudnn_benchmark": True, "timing_tf32": {"float32_matmul_precision":
                                                         torch.get_float32_matmul_precision(),
                                                         "cudnn": torch.backends.cudnn.allow_tf32},
                "gpu": torch.cuda.get_device_name(0), "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version()}
    if runtime in JAX_RUNTIMES:
        import jax
        return {"timing_matmul_precision": str(jax.config.jax_default_matmul_precision),
                "gpu": str(jax.devices()[0].device_kind)}
    return {}


def allocator_peak(runtime, device):
    if device != "gpu":
        return None
    try:
        if runtime in TORCH_RUNTIMES:
            import torch
            return int(torch.cuda.max_memory_allocated())
        if runtime in JAX_RUNTIMES:
            import jax
            return int((jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use") or 0) or None
    except Exception:  # a probe must never fail the trial
        return None
    return None


def gpu_path_missing(runtime):
    """Why `runtime` cannot run on an NVIDIA GPU here (it is CPU-only), or None."""
    if runtime in ("openvino", "keras-openvino"):
        return "%s has no NVIDIA GPU path (OpenVINO targets CPUs and Intel GPUs): a CPU-only runtime, run it with " \
               "--device cpu" % runtime
    if runtime == "onnxruntime":
        import onnxruntime
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            return "onnxruntime has no CUDAExecutionProvider here (the CPU build, providers %s): CPU-only here, " \
                   "run it with --device cpu (or install onnxruntime-gpu)" % ", ".join(
                       onnxruntime.get_available_providers())
    return None


def describe_compile(runtime, jit_compile):
    """What actually ran, in words (the trial's compile setting says which mode was asked for)."""
    return {
        "torch": "eager", "torch-compile": "torch.compile (Inductor)", "jax": "jax.jit (XLA)",
        "tensorflow": "tf.function (graph executor)", "tensorflow-xla": "tf.function(jit_compile=True) (XLA)",
        "onnxruntime": "ONNX Runtime session (graph optimisations ORT_ENABLE_ALL)",
        "openvino": "OpenVINO compile_model (f32)", "keras-openvino": "Keras on OpenVINO (compile_model, f32)",
        "keras-jax": "Keras predict_on_batch, jit_compile auto (XLA on jax)",
        "keras-torch": "Keras predict_on_batch, eager (jit_compile auto is off on torch)",
    }.get(runtime) or "Keras predict_on_batch, jit_compile=%s%s" % (jit_compile, " (XLA)" if jit_compile is True else "")


def thread_readback(runtime):
    """The thread settings read back from the framework, where it can tell."""
    family = THREAD_FAMILY[runtime]
    try:
        if family == "torch":
            import torch
            return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}
        if family == "tensorflow":
            import tensorflow as tf
            return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    except Exception:
        return None
    return None
