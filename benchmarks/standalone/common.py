"""Shared by the standalone loops: read MNIST or the CIFAR-10 arrays, augment CIFAR-10 batches, pin threads. No dlbench code, on purpose: these loops are the
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


def cifar10(channels_first=False):
    """The CIFAR-10 training arrays that faithful.py wrote to the .npz named by STANDALONE_CIFAR10 (float32 images
    (N, 32, 32, 3) in [0, 1], int32 labels): the very data of the dlbench trial they are compared with. Transposed
    once to (N, 3, 32, 32) for a channels-first model, never per batch."""
    path = os.environ.get("STANDALONE_CIFAR10")
    if not path:
        sys.exit("set STANDALONE_CIFAR10 to an .npz with x_train and y_train (benchmarks/faithful.py writes one)")
    with np.load(path) as arrays:
        x_train, y_train = arrays["x_train"], arrays["y_train"]
    if channels_first:
        x_train = np.ascontiguousarray(x_train.transpose(0, 3, 1, 2))
    return x_train, y_train


def augment(images, rng, channels_first=False):
    """The Keras example's ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True)
    on one batch, in NumPy: per image a whole-pixel shift of rint(U(-0.1, 0.1) * size) down and right, the border
    filled with the nearest edge pixel, then a left-right flip with probability 0.5. One gather for the batch."""
    n = len(images)
    height, width = images.shape[2:4] if channels_first else images.shape[1:3]
    dy = np.rint(rng.uniform(-0.1, 0.1, size=n) * height).astype(np.intp)
    dx = np.rint(rng.uniform(-0.1, 0.1, size=n) * width).astype(np.intp)
    flip = rng.uniform(size=n) < 0.5
    rows = np.clip(np.arange(height)[None, :] - dy[:, None], 0, height - 1)
    columns = np.arange(width)[None, :].repeat(n, axis=0)
    columns[flip] = columns[flip, ::-1]
    columns = np.clip(columns - dx[:, None], 0, width - 1)
    batch = np.arange(n)
    if channels_first:
        channels = np.arange(images.shape[1])
        return images[batch[:, None, None, None], channels[None, :, None, None],
                      rows[:, None, :, None], columns[:, None, None, :]]
    return images[batch[:, None, None], rows[:, :, None], columns[:, None, :]]


# faithful.py sets STANDALONE_DEVICE=gpu to run these loops on the GPU.
GPU = os.environ.get("STANDALONE_DEVICE") == "gpu"


def pin(threads):
    """The same CPUs, thread variables and device settings dlbench gives a worker, set before the framework is
    imported."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                 "TF_NUM_INTEROP_THREADS"):
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


def nietzsche_ids():
    """The shipped Nietzsche corpus, lowercased, as int64 ids into its sorted symbol table (57 symbols), as
    nanoGPT's shakespeare_char/prepare.py encodes its text: (train ids: the first 90%, val ids: the rest)."""
    with open(os.path.join(FILES, "nietzsche.txt"), encoding="utf-8") as f:
        text = f.read().lower()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    cut = int(len(ids) * 0.9)
    return ids[:cut], ids[cut:]
