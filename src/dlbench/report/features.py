"""The framework feature matrix: what each framework can do, probed where a probe can decide it, documented where not.

Probed (a tiny real computation in a subprocess per framework, dlbench.report.probe; the parent never imports a
framework): automatic differentiation, JIT/graph compilation, bf16, ONNX export, GPU count, and for the keras-* ids
whether Keras really runs on that backend. Documented (DOCUMENTED below, checked against the versions named in
DOCUMENTED_AS_OF): language, platforms, interfaces, pretrained models, single-machine multi-GPU, multi-machine,
mixed precision, and for the native frameworks whether Keras 3 can run on them. The installed version comes from
package metadata.

Probe answers are cached in a JSON file (features.json in $DLBENCH_CACHE, else $XDG_CACHE_HOME/dlbench, else
~/.cache/dlbench), keyed by the framework id and a fingerprint of what could change the answer: the installed
versions, the Python, the host and this probe code. `--refresh` probes again.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dlbench
from dlbench import frameworks, machine
from dlbench.report import probe as probe_protocol  # numpy only at import: safe in the parent

PROBE_TIMEOUT = 180.0  # seconds per framework: torch.compile alone takes ~30 s on two busy cores

# (key, label, how it is known). "probed" rows come from dlbench.report.probe; "documented" from DOCUMENTED.
ROWS = (
    ("version", "installed version", "installed"),
    ("language", "language", "documented"),
    ("platforms", "platforms", "documented"),
    ("interfaces", "interfaces", "documented"),
    ("autodiff", "automatic differentiation", "probed"),
    ("jit", "JIT / graph compilation", "probed"),
    ("bf16", "bf16 runs", "probed"),
    ("mixed_precision", "mixed precision", "documented"),
    ("onnx", "ONNX export", "probed"),
    ("gpus", "GPUs here", "probed"),
    ("multi_gpu", "single-machine multi-GPU", "documented"),
    ("multi_machine", "multi-machine", "documented"),
    ("pretrained", "pretrained models", "documented"),
    ("keras_backend", "Keras 3 backend", "probed for keras-*, documented for the others"),
)
PROBED = ("autodiff", "jit", "bf16", "onnx", "gpus", "keras_backend")

DOCUMENTED_AS_OF = "torch 2.13, jax 0.10, tensorflow 2.21, keras 3.15"
_KERAS = {
    "language": "Python (the backend's core underneath)",
    "interfaces": "Python: Keras 3 API (Sequential, functional, subclassing; fit/evaluate/predict)",
    "pretrained": "keras.applications, KerasHub presets (Kaggle, Hugging Face)",
    "mixed_precision": "yes: dtype policies mixed_float16, mixed_bfloat16",
}
DOCUMENTED = {
    "torch": {
        "language": "Python; C++ core (ATen, LibTorch)",
        "platforms": "Linux, macOS, Windows; CUDA, ROCm, Apple MPS, Intel XPU",
        "interfaces": "Python, C++ (LibTorch), TorchScript, torch.export",
        "pretrained": "torchvision, torch.hub, Hugging Face Hub",
        "multi_gpu": "yes: DistributedDataParallel, FSDP",
        "multi_machine": "yes: torch.distributed (NCCL, Gloo), torchrun",
        "mixed_precision": "yes: torch.autocast (fp16, bf16), GradScaler",
        "keras_backend": "yes: as keras-torch",
    },
    "jax": {
        "language": "Python; XLA (C++) underneath",
        "platforms": "Linux, macOS, Windows (CPU; GPU through WSL2); CUDA, ROCm, TPU",
        "interfaces": "Python: NumPy-like functional API; Flax, Equinox, optax on top",
        "pretrained": "Hugging Face Hub (Flax models), Flax and Gemma releases; fewer than the others",
        "multi_gpu": "yes: jax.jit with shardings, shard_map, pmap",
        "multi_machine": "yes: jax.distributed.initialize (GPU, TPU pods)",
        "mixed_precision": "by hand: dtype arguments (no autocast); jmp",
        "keras_backend": "yes: as keras-jax",
    },
    "tensorflow": {
        "language": "Python; C++ core",
        "platforms": "Linux, macOS (CPU), Windows (CPU; GPU through WSL2); CUDA, TPU",
        "interfaces": "Python, C++, Java (deprecated), JavaScript (TF.js), LiteRT (TF Lite), SavedModel",
        "pretrained": "Kaggle Models (formerly TF Hub), Keras applications",
        "multi_gpu": "yes: tf.distribute.MirroredStrategy",
        "multi_machine": "yes: MultiWorkerMirroredStrategy, ParameterServerStrategy",
        "mixed_precision": "yes: Keras mixed-precision policies",
        "keras_backend": "yes: as keras-tensorflow",
    },
    "keras-jax": {**_KERAS, "platforms": "those of JAX",
                  "multi_gpu": "yes: keras.distribution (DataParallel, ModelParallel)",
                  "multi_machine": "yes: keras.distribution over jax.distributed"},
    "keras-tensorflow": {**_KERAS, "platforms": "those of TensorFlow",
                         "multi_gpu": "yes: through tf.distribute strategies",
                         "multi_machine": "yes: through tf.distribute multi-worker strategies"},
    "keras-torch": {**_KERAS, "platforms": "those of PyTorch",
                    "multi_gpu": "by hand: the model is a torch.nn.Module, wrap it in DistributedDataParallel",
                    "multi_machine": "by hand: through torch.distributed"},
}

# The legacy frameworks (their own environments, fixed old releases): nothing is probed for them, every row is
# documented, from their last releases' documentation.
_KERAS2 = {
    "language": "Python (the backend underneath)",
    "interfaces": "Python: Keras 2 API (Sequential, functional; fit/evaluate/predict)",
    "autodiff": "yes: the backend's", "jit": "the backend's graph", "bf16": "no", "onnx": "no (keras2onnx, retired)",
    "pretrained": "keras.applications (Keras 2)", "mixed_precision": "no: Keras 2 has no dtype policies",
    "multi_gpu": "partly: keras.utils.multi_gpu_model (removed in later Keras)", "multi_machine": "no",
}
LEGACY_DOCUMENTED = {
    "cntk": {
        "language": "Python, C#, C++, BrainScript; C++ core",
        "platforms": "Linux, Windows; CUDA. Retired: last release 2.7 (2019), Python 3.6 at the newest",
        "interfaces": "Python (cntk.layers, Function graph), BrainScript, C#, C++",
        "autodiff": "yes: symbolic, over the Function graph", "jit": "yes: every model is a static Function graph",
        "bf16": "no (fp16 on GPU)", "onnx": "yes: Function.save(format=ModelFormat.ONNX)",
        "pretrained": "CNTK model gallery (retired)", "mixed_precision": "fp16 training on GPU",
        "multi_gpu": "yes: data-parallel SGD over MPI (1-bit SGD, block momentum)",
        "multi_machine": "yes: MPI (mpiexec)", "keras_backend": "no: a Keras 2.0-2.3 backend (keras2-cntk)",
    },
    "mxnet": {
        "language": "Python, C++, Scala, R, Julia, Clojure, Perl; C++ core",
        "platforms": "Linux, macOS, Windows; CUDA. Retired to the Apache Attic (2023); last release 1.9.1",
        "interfaces": "Gluon (imperative, hybridize), Symbol and Module APIs",
        "autodiff": "yes: autograd.record", "jit": "yes: hybridize() caches a symbolic graph",
        "bf16": "on CPU through oneDNN (AMP)", "onnx": "yes: mx.onnx.export_model",
        "pretrained": "Gluon model zoo, GluonCV, GluonNLP", "mixed_precision": "yes: mxnet.contrib.amp (fp16)",
        "multi_gpu": "yes: several contexts, kvstore 'device'", "multi_machine": "yes: kvstore 'dist' (parameter "
        "server), Horovod", "keras_backend": "no: keras-mxnet, a Keras 2.2.4 fork (keras2-mxnet)",
    },
    "theano": {
        "language": "Python; C and CUDA code generated when a function is compiled",
        "platforms": "Linux, macOS, Windows; CUDA through libgpuarray. Development ended 2017; last release 1.0.5",
        "interfaces": "symbolic: theano.tensor, theano.function, scan",
        "autodiff": "yes: symbolic (theano.grad)", "jit": "yes: theano.function compiles the graph to C",
        "bf16": "no", "onnx": "no", "pretrained": "none of its own (Lasagne and Keras model zoos)",
        "mixed_precision": "float16 on GPU (libgpuarray), experimental", "multi_gpu": "partly: GPU contexts by hand",
        "multi_machine": "no", "keras_backend": "no: a Keras 1-2.3 backend (keras2-theano)",
    },
    "pytensor": {
        "language": "Python; C, Numba or JAX code generated when a function is compiled",
        "platforms": "Linux, macOS, Windows; CPU (GPU through its JAX backend). Maintained (the base of PyMC)",
        "interfaces": "symbolic: pytensor.tensor, pytensor.function, scan",
        "autodiff": "yes: symbolic (pytensor.grad)", "jit": "yes: compiles to C, Numba or JAX", "bf16": "no",
        "onnx": "no", "pretrained": "none", "mixed_precision": "no", "multi_gpu": "no", "multi_machine": "no",
        "keras_backend": "no",
    },
    "chainer": {
        "language": "Python (NumPy on CPU, CuPy on GPU)",
        "platforms": "Linux, macOS, Windows; CUDA through CuPy. Maintenance only since v7 (2019)",
        "interfaces": "define-by-run: Chain, links, functions, Trainer",
        "autodiff": "yes: define-by-run", "jit": "no (define-by-run; static_graph is experimental)",
        "bf16": "no", "onnx": "yes: onnx-chainer", "pretrained": "ChainerCV, chainer.links vision models",
        "mixed_precision": "fp16 through the dtype config (mixed16)", "multi_gpu": "yes: ParallelUpdater, ChainerMN",
        "multi_machine": "yes: ChainerMN (MPI)", "keras_backend": "no",
    },
    "paddle": {
        "language": "Python; C++ core (C++ inference API)",
        "platforms": "Linux, macOS, Windows; CUDA, ROCm, Kunlun XPU, Ascend NPU",
        "interfaces": "dynamic graph (paddle.nn), static graph (paddle.static), paddle.jit.to_static",
        "autodiff": "yes", "jit": "yes: paddle.jit.to_static (CINN compiler)", "bf16": "yes",
        "onnx": "yes: paddle2onnx", "pretrained": "PaddleHub, PaddleClas, PaddleNLP",
        "mixed_precision": "yes: paddle.amp (fp16, bf16)", "multi_gpu": "yes: paddle.distributed (fleet)",
        "multi_machine": "yes: fleet", "keras_backend": "no",
    },
    "keras2-cntk": dict(_KERAS2, platforms="those of CNTK (Python 3.6)", keras_backend="Keras 2.3 on CNTK"),
    "keras2-theano": dict(_KERAS2, platforms="those of Theano", keras_backend="Keras 2.3 on Theano"),
    "keras2-mxnet": dict(_KERAS2, platforms="those of MXNet", keras_backend="keras-mxnet 2.2.4 (a Keras fork)"),
}
for _entry in LEGACY_DOCUMENTED.values():  # every environment's recipe pins the CPU build (cntk, not cntk-gpu, ...)
    _entry.setdefault("gpus", "no: its environment installs the CPU build")
DOCUMENTED.update(LEGACY_DOCUMENTED)


def cache_path():
    from dlbench.data import cache_folder  # one cache variable for dlbench: DLBENCH_CACHE
    return Path(cache_folder()) / "features.json"


def fingerprint(framework):
    """What could change a probe's answer: installed versions, Python, host, this probe code."""
    code = Path(probe_protocol.__file__).read_bytes()
    parts = {"versions": framework.versions(), "python": sys.version, "executable": sys.executable,
             "host": machine.hostname(), "dlbench": dlbench.__version__,
             "probe": hashlib.sha256(code).hexdigest()[:16]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def _read_cache(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(path, entries):
    """Atomic: other dlbench processes may read the cache at the same time."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(entries, indent=1, sort_keys=True))
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def run_probe(framework_id, timeout=PROBE_TIMEOUT, python=None):
    """Probe one framework in a fresh process. Returns {feature: {"value", "detail"}} plus "_seconds"."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(dlbench.__file__).parent.parent),
                                                    env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.monotonic()
    process = subprocess.Popen([python or sys.executable, "-m", "dlbench.report.probe", framework_id],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                               text=True, start_new_session=True)
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process)
        stdout, stderr = process.communicate()
    answers = {}
    for line in stdout.splitlines():
        if line.startswith(probe_protocol.MARKER):
            try:
                answer = json.loads(line[len(probe_protocol.MARKER):])
            except ValueError:
                continue
            answers[answer["feature"]] = {k: answer[k] for k in ("value", "detail", "error") if k in answer}
    if answers.get("import", {}).get("value") == "no":
        why = answers["import"]["detail"]
        answers = {f: {"value": "unknown", "detail": f"{framework_id} did not import: {why}"} for f in PROBED}
    for feature in _features_of(framework_id):
        if feature not in answers:
            if timed_out:
                why = f"the probe ran past its {timeout:g} s timeout"
            else:
                last = stderr.strip().splitlines()[-1:] or [f"exit code {process.returncode}"]
                why = f"the probe process ended early: {last[0][:200]}"
            answers[feature] = {"value": "unknown", "detail": why}
    answers.pop("import", None)
    answers["_seconds"] = round(time.monotonic() - started, 1)
    return answers


def _features_of(framework_id):
    return PROBED if framework_id.startswith("keras-") else tuple(f for f in PROBED if f != "keras_backend")


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def probe_all(framework_ids, timeout=PROBE_TIMEOUT, refresh=False, cache=None, on_probe=None):
    """{framework id: {feature: answer}} for these frameworks, from the cache where it still applies.

    A framework that is not installed is not probed: its probed cells say so, with the install hint."""
    cache = Path(cache) if cache else cache_path()
    entries = _read_cache(cache)
    results, changed = {}, False
    for framework_id in framework_ids:
        framework = frameworks.get(framework_id)
        if framework_id in LEGACY_DOCUMENTED:  # fixed old releases: documented, never probed
            results[framework_id] = {}
            continue
        missing = framework.missing()
        if missing:
            why = f"not installed (missing {', '.join(missing)}): {framework.install_hint()}"
            results[framework_id] = {f: {"value": "unknown", "detail": why} for f in _features_of(framework_id)}
            continue
        key = fingerprint(framework)
        entry = entries.get(framework_id)
        if not refresh and entry and entry.get("fingerprint") == key:
            results[framework_id] = entry["answers"]
            continue
        if on_probe:
            on_probe(framework_id)
        answers = run_probe(framework_id, timeout=timeout)
        results[framework_id] = answers
        # A timed-out probe is not cached: the next report tries again.
        if not any("timeout" in a["detail"] for k, a in answers.items() if k != "_seconds"):
            entries[framework_id] = {"fingerprint": key, "answers": answers,
                                     "probed_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            changed = True
    if changed:
        # Re-read before writing so that entries another process added meanwhile are kept.
        merged = _read_cache(cache)
        merged.update({k: v for k, v in entries.items() if k in results})
        _write_cache(cache, merged)
    return results


def matrix(framework_ids, probed):
    """The feature matrix: one row per ROWS entry, one cell per framework: {"value", "detail", "source"}."""
    table = []
    for key, label, how in ROWS:
        cells = {}
        for framework_id in framework_ids:
            framework = frameworks.get(framework_id)
            if key == "version":
                versions = framework.versions()
                value = ", ".join(f"{k} {v}" for k, v in versions.items()) if not framework.missing() else \
                    "not installed"
                cells[framework_id] = {"value": value, "detail": framework.title, "source": "installed"}
            elif key in PROBED and key in _features_of(framework_id) and framework_id not in LEGACY_DOCUMENTED:
                answer = probed.get(framework_id, {}).get(key, {"value": "unknown", "detail": "not probed"})
                cells[framework_id] = {**answer, "source": "probed"}
            else:
                value = DOCUMENTED.get(framework_id, {}).get(key, "unknown")
                when = "its last releases" if framework_id in LEGACY_DOCUMENTED else DOCUMENTED_AS_OF
                cells[framework_id] = {"value": value, "detail": f"documented (as of {when})",
                                       "source": "documented"}
        table.append({"key": key, "label": label, "source": how, "cells": cells})
    return table


def cell_text(cell):
    """What a reader sees in one cell: the value, and for a "no" or "partly" why."""
    value = cell["value"]
    if cell["source"] == "probed" and value in ("no", "partly", "unknown") and cell.get("detail"):
        return f"{value}: {cell['detail']}"
    return str(value)
