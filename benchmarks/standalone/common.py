"""Shared by the standalone loops: read MNIST and pin threads. No dlbench code, on purpose: these loops are the
yardstick dlbench's own timings are checked against (benchmarks/faithful.py)."""
import gzip
import json
import os
import sys
import time

import numpy as np

FILES = os.path.join(os.path.dirname(__file__), "..", "..", "src", "dlbench", "data", "files")


def mnist_small():
    """The MNIST test set: first 8000 images to train on, last 2000 to validate, flattened, /255."""
    with gzip.open(os.path.join(FILES, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    with gzip.open(os.path.join(FILES, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int32)
    return images[:8000], labels[:8000], images[8000:], labels[8000:]


# faithful.py sets STANDALONE_DEVICE=gpu to run these loops on the GPU.
GPU = os.environ.get("STANDALONE_DEVICE") == "gpu"


def pin(threads):
    """The same CPUs, thread variables and device settings dlbench gives a worker, set before the framework is
    imported."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = str(threads)
    if GPU:
        os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def arguments():
    """epochs threads [keras backend]"""
    return int(sys.argv[1]), int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else None)


def report(epoch_seconds):
    print(json.dumps({"epoch_seconds": epoch_seconds}))


clock = time.perf_counter
