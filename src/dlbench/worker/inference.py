"""One inference trial inside its worker process (dlbench.worker.run hands inference workloads here): the timing
protocol of forward passes, built on the workload's per-runtime code (its `runtimes` module), never a copy of it.

Per trial (one framework in one compile mode, on one device):
  1. configure: the runtime's environment and threads before any framework is imported (the workload's
     runtimes.configure: CPU affinity = `threads` CPUs, which is also XLA's pool; OMP/MKL variables; then
     torch.set_num_threads, TensorFlow intra-op = inter-op = `threads` as in training, ONNX Runtime
     intra_op_num_threads, OpenVINO INFERENCE_NUM_THREADS, inside prepare);
  2. the canonical weights (generated into the cache once) and the NumPy float64 reference features of the check's
     images (cached beside them), both untimed;
  3. the framework imported, timed apart (import_seconds);
  4. time to first result: load the canonical weights, build the model (and export it to ONNX, for ONNX Runtime and
     OpenVINO), and compute the first batch of the sweep's first batch size: load + compile + first batch;
  5. for each batch size of the sweep: one untimed warm-up pass over the images (a new batch shape compiles here),
     then `epochs` timed passes, every batch timed on its own. Each predict returns the features in host memory,
     which waits for the device (np.asarray of a JAX array blocks until it is ready; torch's .cpu() syncs), and
     torch additionally calls torch.cuda.synchronize() before every clock read on a GPU. One input rule for every
     runtime (runtimes.place_inputs, recorded as input_placement "device: resident"): the images become the
     runtime's own array on its device once, before the timed passes (torch tensors, jax arrays, TensorFlow
     tensors, Keras given its backend's; ONNX Runtime binds a torch tensor in place on a GPU), so no runtime copies
     a batch from the host inside the timed region; each batch is sliced from them outside it;
  6. the feature check: the first CHECK_IMAGES images at the sweep's smallest batch size (a shape already compiled),
     against the float64 reference, max |f - ref| / max |ref| <= RELATIVE_TOLERANCE; on a GPU in strict FP32 for
     the check only (TF32's 10-bit inputs are 1e-3 off): torch's and jax's process flags around the same predict;
     TensorFlow's and ONNX Runtime's compiled programs and sessions fix their precision when built, so they are
     checked through a second predictor built in FP32. Timing runs under the suite's TF32 policy (allowed unless
     tf32 = false: dlbench's one policy, recorded as matmul_precision);
  7. peak host memory (VmHWM) and the device allocator's peak where there is one.

Events: env, model, first_result, inference (one per batch size), check, memory, then end (dlbench.worker.protocol).
Python 3.6-safe syntax, like the rest of the worker side; the frameworks are imported by the runtimes module.
"""
import contextlib
import importlib
import os
import platform
import sys
import time

import numpy as np

from dlbench import machine, workloads
from dlbench.worker.memory import peak_host_bytes
from dlbench.worker.noise import Sampler
from dlbench.worker.process import imported_frameworks
from dlbench.worker.protocol import CHECK, ENV, FIRST_RESULT, INFERENCE, MEMORY, MODEL

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


def percentiles(latencies):
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    return float(p50), float(p90), float(p99)


def reference_features(module, canonical, weights_path, n):
    """The float64 NumPy reference's features of the first n images, cached beside the weights file (computing
    them takes seconds per image)."""
    path = "%s-reference-%d.npy" % (weights_path[:-len(".npz")], n)
    if os.path.exists(path):
        return np.load(path)
    features = canonical.forward(canonical.load(weights_path), module.inputs(n))
    temporary = "%s.%d.tmp.npy" % (path[:-len(".npy")], os.getpid())
    np.save(temporary, features)
    os.replace(temporary, path)
    return features


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


def timed_passes(predict, x, batch_size, passes, sync):
    """A warm-up pass, then `passes` timed passes; returns (warm-up seconds, first warm-up batch seconds,
    per-pass seconds, per-batch latencies over every timed pass)."""
    sync()
    start = time.perf_counter()
    first_batch = None
    for i in range(0, len(x), batch_size):
        predict(x[i:i + batch_size])
        if first_batch is None:
            sync()
            first_batch = time.perf_counter() - start
    sync()
    warmup = time.perf_counter() - start
    pass_seconds, latencies = [], []
    for _ in range(passes):
        total = 0.0
        for i in range(0, len(x), batch_size):
            batch = x[i:i + batch_size]
            sync()
            start = time.perf_counter()
            predict(batch)
            sync()
            seconds = time.perf_counter() - start
            latencies.append(seconds)
            total += seconds
        pass_seconds.append(total)
    return warmup, first_batch, pass_seconds, latencies


def run_trial(trial, settings, events, load_average=None):
    """One inference trial; `settings` is its TrialSettings (dlbench.worker.settings)."""
    module = workloads.get(trial["workload"])
    runtimes = importlib.import_module(module.__name__ + ".runtimes")
    canonical = importlib.import_module(module.__name__ + ".weights")
    runtime, jit_compile = module.COMPILE[trial["framework"]][settings.compile]
    threads, device = settings.threads, settings.device
    sizes, n_images, passes = settings.batch_sizes, settings.samples, settings.epochs

    runtimes.configure(runtime, threads, device)  # environment and CPU affinity, before any framework import
    no_gpu = device == "gpu" and gpu_path_missing(runtime)
    if no_gpu:
        events.end("skipped", error=no_gpu)
        return
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    weights_path = canonical.ensure(settings.seed - trial["repeat"])  # the same weights for every repeat
    check_images = min(module.CHECK_IMAGES, n_images)
    reference = reference_features(module, canonical, weights_path, check_images)

    started = time.perf_counter()
    for name in runtimes.REQUIRES[runtime]:
        importlib.import_module(name)
    import_seconds = time.perf_counter() - started

    tf32 = settings.tf32
    runtimes.set_matmul_precision(runtime, device, tf32)  # before the model is built and compiled
    started = time.perf_counter()
    predict, layout, info = runtimes.prepare(runtime, canonical.load(weights_path), threads, device, sizes[0],
                                             jit_compile=jit_compile, tf32=tf32)
    load_seconds = time.perf_counter() - started
    matmul_precision = runtimes.matmul_precision_used(runtime, device, info)
    x, placement = runtimes.place_inputs(runtime, device, runtimes.images(n_images, layout))
    sync = synchronizer(runtime, device)
    extra = gpu_settings(runtime, device)
    sync()
    begun = time.perf_counter()
    predict(x[:sizes[0]])
    sync()
    first_batch_seconds = time.perf_counter() - begun
    first_result_seconds = load_seconds + first_batch_seconds

    info.pop("build_s", None)
    params = info.pop("params")
    readback = thread_readback(runtime)
    info.update({
        # as the training adapters record them (the report's environment section reads both)
        "device": dict({"kind": device}, **extra),
        "threads": readback or {"note": THREAD_SETTINGS[THREAD_FAMILY[runtime]].format(n=threads)},
        "framework": trial["framework"], "runtime": runtime, "compile_requested": settings.compile,
        "compile": describe_compile(runtime, jit_compile), "keras_jit_compile": jit_compile,
        "layout": layout, "input_placement": placement, "matmul_precision": matmul_precision,
        "imported": imported_frameworks(),
        "import_seconds": import_seconds, "threads_requested": threads, "cpu_affinity": cpus,
        "thread_settings": THREAD_SETTINGS[THREAD_FAMILY[runtime]].format(n=threads),
        "python": sys.version.split()[0], "platform": platform.platform(), "hostname": machine.hostname(),
        "cpu_model": machine.cpu_model(), "cpu_count": os.cpu_count(), "load_average": load_average,
        "weights": os.path.basename(weights_path), "batch_sizes": sizes, "images": n_images, "passes": passes,
        "seed": settings.seed,
    })
    if THREAD_FAMILY[runtime] == "torch":
        info["denormals_flushed"] = True  # runtimes sets torch.set_flush_denormal(True), as the torch adapter does
    events.emit(ENV, **info)
    events.emit(MODEL, params_total=params[0], params_trainable=params[1], build_seconds=load_seconds)
    events.emit(FIRST_RESULT, runtime=runtime, compile=info["compile"], load_seconds=load_seconds,
                first_batch_seconds=first_batch_seconds, first_result_seconds=first_result_seconds,
                batch_size=sizes[0])

    noise = Sampler()
    for batch_size in sizes:
        noise.start()
        warmup, first_batch, pass_seconds, latencies = timed_passes(predict, x, batch_size, passes, sync)
        busy = noise.stop()
        p50, p90, p99 = percentiles(latencies)
        total = sum(pass_seconds)
        events.emit(INFERENCE, batch_size=batch_size, images=n_images, passes=passes, pass_seconds=pass_seconds,
                    warmup_seconds=warmup, first_batch_seconds=first_batch, batches=len(latencies),
                    items_per_second=n_images * passes / total, seconds_per_1000=1000.0 * total / (n_images * passes),
                    latency_p50=p50, latency_p90=p90, latency_p99=p99, **busy)

    check_batch = min(sizes)
    with check_precision(runtime, device) as precision:
        strict, how = check_predictor(runtime, device, matmul_precision, lambda tf32: runtimes.prepare(
            runtime, canonical.load(weights_path), threads, device, check_batch, jit_compile=jit_compile, tf32=tf32))
        features = runtimes.features(strict or predict, runtimes.images(check_images, layout), check_batch)
    precision = "; ".join(p for p in (precision, how) if p) or None
    error = module.relative_error(features, reference)
    events.emit(CHECK, images=check_images, batch_size=check_batch, max_relative_error=error,
                tolerance=module.RELATIVE_TOLERANCE, ok=bool(error <= module.RELATIVE_TOLERANCE),
                precision=precision or "the runtime's float32 defaults",
                reference="NumPy float64 forward of the canonical weights")
    events.emit(MEMORY, peak_host_bytes=peak_host_bytes(), allocator_peak_bytes=allocator_peak(runtime, device))
    events.end("ok", compile=info["compile"])


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
