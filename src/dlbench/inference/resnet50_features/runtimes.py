"""One entry per runtime: set the process up (before the framework is imported), build the model, load the canonical
weights, and return a predict function over batches in the runtime's layout.

Each runtime runs in its own process (Keras picks its backend at import; two frameworks in one process would also
share and fight over thread pools), so the parent never imports a framework:

    python -m dlbench.inference.resnet50_features.runtimes --runtime torch --weights W.npz --images 2 \
        --out features.npy [--batch-size 32] [--threads 2] [--roundtrip] [--sweep 1,8,32]

prints one JSON line: the runtime, its parameter counts (total, trainable), whether the weights exported back from
the model equal the canonical ones (--roundtrip), build/load/first-batch seconds, and the library versions;
--out saves the features (N, 2048) as .npy for the parent to compare with the reference; --sweep times each
batch size (sweep(): one untimed warm-up pass, then a timed one) over the --images images.

Threads: `threads` pins the process to that many CPUs (XLA sizes its pool from the affinity) and sets every
runtime's intra-op pool to it (OMP/MKL variables, torch.set_num_threads, TensorFlow's threading config, ONNX
Runtime's intra_op_num_threads, OpenVINO's INFERENCE_NUM_THREADS). Inter-op pools: TensorFlow's and PyTorch's as
their training adapters set them (`threads`, TensorFlow's own default on that many cores: the same rule in training
and inference, dlbench.frameworks.tensorflow.adapter.set_tensorflow_threads; PyTorch's eager forward never uses
its pool); ONNX Runtime runs sequentially (its default) and OpenVINO one stream (its LATENCY hint).

TF32 (`tf32`, dlbench's one policy, dlbench.frameworks.adapter.tf32_allowed): on a GPU float32 convolutions and
matmuls may use TF32 unless tf32 is False (strict FP32), in every runtime: set_matmul_precision() before the model
is built, ONNX Runtime's CUDA provider through its session options.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from dlbench.inference import resnet50_features as spec
from dlbench.worker.memory import peak_host_bytes

RUNTIMES = ("keras-jax", "keras-tensorflow", "keras-torch", "keras-openvino", "torch", "torch-compile", "jax",
            "tensorflow", "tensorflow-xla", "onnxruntime", "openvino")
# What each runtime imports, and the pip command that installs what is missing.
REQUIRES = {
    "keras-jax": ("keras", "jax"), "keras-tensorflow": ("keras", "tensorflow"), "keras-torch": ("keras", "torch"),
    "keras-openvino": ("keras", "openvino"), "torch": ("torch",), "torch-compile": ("torch",),
    "jax": ("jax", "flax"), "tensorflow": ("tensorflow",), "tensorflow-xla": ("tensorflow",),
    "onnxruntime": ("torch", "onnx", "onnxruntime"), "openvino": ("torch", "onnx", "openvino"),
}
OPTIONAL = {"onnxruntime": "pip install 'dlbench[onnxruntime]'", "openvino": "pip install 'dlbench[openvino]'",
            "keras-openvino": "pip install 'dlbench[keras,openvino]'"}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def missing(runtime):
    """The modules `runtime` needs that are not installed (found without importing them)."""
    import importlib.util
    return [m for m in REQUIRES[runtime] if importlib.util.find_spec(m) is None]


def configure(runtime, threads, device="cpu"):
    """Environment for `runtime`, before any framework is imported."""
    if runtime not in RUNTIMES:
        raise ValueError("unknown runtime %r: one of %s" % (runtime, ", ".join(RUNTIMES)))
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["JAX_PLATFORMS"] = "cpu"
        if hasattr(os, "sched_setaffinity"):
            cpus = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(0, cpus[:threads])
    if runtime.startswith("keras-"):
        os.environ["KERAS_BACKEND"] = runtime[len("keras-"):]


def prepare(runtime, weights, threads=1, device="cpu", batch_size=spec.BATCH_SIZE, roundtrip=False,
            jit_compile="auto", tf32=None):
    """Build `runtime`'s model with the canonical `weights` (an OrderedDict) loaded. Returns (predict, layout,
    info): predict maps a batch in `layout` (a numpy array, or the runtime's own array from place_inputs) to numpy
    (N, 2048) features. configure() must have run first. jit_compile: Keras's compile() setting for the keras-*
    runtimes ("auto", True: XLA, False). tf32: the suite's setting (None: allowed on a GPU, False: strict FP32)."""
    info = {"runtime": runtime, "threads": threads, "device": device}
    start = time.perf_counter()
    if runtime.startswith("keras-"):
        from dlbench.inference.resnet50_features import keras as impl
        import keras
        info["versions"] = {"keras": keras.__version__, "backend": keras.backend.backend()}
        _threads(keras.backend.backend(), threads)
        model = impl.build()
        impl.load(model, weights)
        predict = impl.predictor(model, batch_size=batch_size, jit_compile=jit_compile)
    elif runtime in ("torch", "torch-compile", "onnxruntime", "openvino"):
        from dlbench.inference.resnet50_features import torch as impl
        import torch
        info["versions"] = {"torch": torch.__version__}
        _threads("torch", threads)
        model = impl.load(impl.build(), weights)
        if runtime in ("onnxruntime", "openvino"):
            from dlbench.inference import onnx_export
            path = os.path.join(_scratch(), "resnet50_features.onnx")
            info["exporter"] = onnx_export.export(model, path)
            if runtime == "onnxruntime":
                predict, versions = onnx_export.onnxruntime_predictor(path, threads, device, tf32)
            else:
                predict, versions = onnx_export.openvino_predictor(path, threads, device)
            info["versions"].update(versions)
        else:
            predict = impl.predictor(model, compile=runtime == "torch-compile", device=_torch_device(device))
    elif runtime == "jax":
        from dlbench.inference.resnet50_features import jax as impl
        import flax
        import jax
        info["versions"] = {"jax": jax.__version__, "flax": flax.__version__}
        model = impl.load(impl.build(), weights)
        predict = impl.predictor(model)
    else:
        from dlbench.inference.resnet50_features import tensorflow as impl
        import tensorflow as tf
        info["versions"] = {"tensorflow": tf.__version__}
        _threads("tensorflow", threads)
        model = impl.load(impl.build(), weights)
        predict = impl.predictor(model, jit_compile=runtime == "tensorflow-xla")
    info["params"] = list(impl.count_params(model))
    info["build_s"] = time.perf_counter() - start
    if roundtrip:  # after build_s: a check, not part of loading the model
        started = time.perf_counter()
        exported = impl.export(model)
        info["roundtrip"] = list(exported) == list(weights) and all(
            np.array_equal(exported[name], weights[name]) for name in weights)
        info["roundtrip_s"] = time.perf_counter() - started
    return predict, impl.LAYOUT, info


def _threads(framework, threads):
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)  # as dlbench's torch adapter sets it for training
        except RuntimeError:  # already set, or parallel work already started in this process
            pass
        torch.set_flush_denormal(True)  # as dlbench's torch adapter: XLA and TensorFlow flush
    elif framework == "tensorflow":
        import tensorflow as tf
        from dlbench.frameworks.tensorflow.adapter import set_tensorflow_threads
        set_tensorflow_threads(tf, threads)  # the training adapter's rule, justified there
    elif framework == "openvino":
        # Keras's openvino backend compiles with openvino.compile_model(model, "CPU") and no config, and a fresh Core
        # per call, so neither a config nor a Core's properties reach it: wrap the function it calls, adding the
        # same config as the openvino runtime's (dlbench.inference.onnx_export): threads, one stream, and f32, not
        # OpenVINO's bfloat16 default on CPUs with AVX512_BF16/AMX (3e-2 off the reference here).
        import openvino as ov
        compile_model = ov.compile_model
        config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}

        def compile_f32(model, device_name="CPU", config_=None):
            return compile_model(model, device_name, dict(config, **(config_ or {})))
        ov.compile_model = compile_f32


FAMILY = {"torch": "torch", "torch-compile": "torch", "keras-torch": "torch", "onnxruntime": "onnxruntime",
          "jax": "jax", "keras-jax": "jax", "tensorflow": "tensorflow", "tensorflow-xla": "tensorflow",
          "keras-tensorflow": "tensorflow", "openvino": "openvino", "keras-openvino": "openvino"}


def set_matmul_precision(runtime, device, tf32=None):
    """dlbench's one TF32 policy in `runtime`'s framework, before its model is built (the training adapters'
    functions): on a GPU TF32 allowed unless tf32 is False. ONNX Runtime takes it in its session options (prepare);
    OpenVINO runs on CPUs here. Nothing is touched on a CPU."""
    if device != "gpu":
        return
    from dlbench.frameworks.adapter import tf32_allowed
    from dlbench.worker.settings import TrialSettings
    allowed = tf32_allowed(TrialSettings(device=device, tf32=tf32))
    family = FAMILY[runtime]
    if family == "torch":
        import torch
        from dlbench.frameworks.torch.adapter import set_torch_tf32
        set_torch_tf32(torch, allowed)
    elif family == "jax":
        import jax
        from dlbench.frameworks.jax.adapter import set_jax_tf32
        set_jax_tf32(jax, allowed)
    elif family == "tensorflow":
        import tensorflow as tf
        from dlbench.frameworks.tensorflow.adapter import set_tensorflow_tf32
        set_tensorflow_tf32(tf, allowed)


def matmul_precision_used(runtime, device, info):
    """The trial's env["matmul_precision"], read back from its framework ("tf32" or "fp32", as the training runs
    record it; dlbench.frameworks.adapter.matmul_precision); info is prepare()'s (ONNX Runtime's session options)."""
    from dlbench.frameworks.adapter import matmul_precision
    gpu = device == "gpu"
    if not gpu:
        return matmul_precision(False, False, False)
    family = FAMILY[runtime]
    if family == "torch":
        import torch
        from dlbench.frameworks.torch.adapter import torch_tf32_used
        return torch_tf32_used(torch, True, torch.cuda.get_device_capability(0))[1]
    if family == "jax":
        import jax
        from dlbench.frameworks.jax.adapter import jax_matmul_precision, version_tuple
        return jax_matmul_precision(jax.config.jax_default_matmul_precision, True,
                                    version_tuple(getattr(jax.devices()[0], "compute_capability", None)))
    if family == "tensorflow":
        import tensorflow as tf
        from dlbench.frameworks.tensorflow.adapter import tensorflow_tf32_used
        gpus = tf.config.list_physical_devices("GPU")
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") if gpus else None
        return tensorflow_tf32_used(tf, True, capability)[1]
    if family == "onnxruntime":
        flag = (info.get("versions") or {}).get("use_tf32")
        if flag is None:
            return "unknown: onnxruntime reports no use_tf32 option"
        import torch
        return matmul_precision(True, flag == "1", flag == "1", torch.cuda.get_device_capability(0))
    return matmul_precision(False, False, False)  # OpenVINO: CPU only, f32 asked


def place_inputs(runtime, device, x):
    """The images as `runtime`'s own array on its device, made once before any timed pass (one rule for every
    runtime, docs/inference.md), and the placement in the training runs' words ("device: resident"): torch tensors
    (ONNX Runtime binds a torch tensor in place on a GPU), jax.device_put arrays, TensorFlow tensors copied there by
    tf.identity under the device's scope; on a CPU the host's memory is the device, and ONNX Runtime's and OpenVINO's
    own input type is the NumPy array itself."""
    from dlbench.frameworks.adapter import DEVICE_RESIDENT
    family = FAMILY[runtime]
    if family == "torch" or (family == "onnxruntime" and device == "gpu"):
        import torch
        return torch.from_numpy(x).to(_torch_device(device)), DEVICE_RESIDENT
    if family == "jax":
        import jax
        return jax.device_put(x), DEVICE_RESIDENT
    if family == "tensorflow":
        import tensorflow as tf
        with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
            return tf.identity(x), DEVICE_RESIDENT
    return x, DEVICE_RESIDENT


def _torch_device(device):
    return "cuda" if device == "gpu" else "cpu"


def _scratch():
    import tempfile
    return tempfile.mkdtemp(prefix="dlbench-onnx-")


def images(n, layout):
    return spec.inputs(n, channels_first=layout == "channels_first")


def features(predict, x, batch_size):
    """Features of every image of x, batch by batch (the last batch may be partial)."""
    return np.concatenate([predict(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def sweep(predict, x, batch_size):
    """One untimed warm-up pass over x (compiles, autotunes, fills caches), then one timed pass, batch by batch,
    each batch's clock read after its features are back in host memory (every predict returns numpy, which waits
    for the device). Returns images/s, seconds per 1000 images, per-batch latency p50/p90/p99 (seconds) and the
    warm-up pass's seconds."""
    start = time.perf_counter()
    features(predict, x, batch_size)
    warmup = time.perf_counter() - start
    latencies = []
    for i in range(0, len(x), batch_size):
        batch = x[i:i + batch_size]
        start = time.perf_counter()
        predict(batch)
        latencies.append(time.perf_counter() - start)
    total = sum(latencies)
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    return {"batch_size": batch_size, "images": len(x), "images_per_s": len(x) / total,
            "s_per_1000": 1000.0 * total / len(x), "latency_p50_s": float(p50), "latency_p90_s": float(p90),
            "latency_p99_s": float(p99), "warmup_s": warmup}


def peak_rss_mb():
    return peak_host_bytes() / 2.0 ** 20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", required=True, choices=RUNTIMES)
    parser.add_argument("--weights", required=True, help="the canonical .npz (weights.ensure() makes one)")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=spec.BATCH_SIZE)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    parser.add_argument("--out", help="save the features here (.npy)")
    parser.add_argument("--roundtrip", action="store_true", help="export the weights back and compare")
    parser.add_argument("--sweep", help="batch sizes to time, e.g. 1,8,32: a warm-up and a timed pass each")
    args = parser.parse_args(argv)
    absent = missing(args.runtime)
    if absent:
        hint = OPTIONAL.get(args.runtime, "pip install 'dlbench[all]'")
        print(json.dumps({"runtime": args.runtime, "status": "skipped", "missing": absent, "hint": hint}))
        return 3
    configure(args.runtime, args.threads, args.device)
    from dlbench.inference.resnet50_features import weights as canonical
    predict, layout, info = prepare(args.runtime, canonical.load(args.weights), args.threads, args.device,
                                    args.batch_size, args.roundtrip)
    x, info["input_placement"] = place_inputs(args.runtime, args.device, images(args.images, layout))
    start = time.perf_counter()
    out = features(predict, x, args.batch_size)
    info["first_pass_s"] = time.perf_counter() - start
    if args.sweep:
        info["sweep"] = [sweep(predict, x, int(b)) for b in args.sweep.split(",")]
    info["peak_rss_mb"] = peak_rss_mb()
    info["status"] = "ok"
    if args.out:
        np.save(args.out, out.astype(np.float32))
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
