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
from dlbench.inference.runtime_settings import (THREAD_FAMILY, THREAD_SETTINGS, TORCH_RUNTIMES, allocator_peak,
                                               check_precision, check_predictor, describe_compile, gpu_path_missing, gpu_settings,
                                               synchronizer, thread_readback)
from dlbench.worker.protocol import CHECK, ENV, FIRST_RESULT, INFERENCE, MEMORY, MODEL

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
    # roundtrip: the weights exported back from the model equal the canonical arrays (recorded; timed apart)
    predict, layout, info = runtimes.prepare(runtime, canonical.load(weights_path), threads, device, sizes[0],
                                             roundtrip=True, jit_compile=jit_compile, tf32=tf32)
    load_seconds = time.perf_counter() - started - info.pop("roundtrip_s")
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
    if runtime in TORCH_RUNTIMES:
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
