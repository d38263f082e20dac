"""MNIST in three variants, as float32 images in [0, 1] of shape (N, 28, 28) and int32 labels.

real       the full data set (60000 train, 10000 validation), downloaded once into the cache
small      the real MNIST test set shipped with dlbench (8000 train, 2000 validation): no network needed
synthetic  uniform random images and labels of the real shapes: measures speed only, nothing to learn

Imported inside the worker process, which may run Python 3.6: standard library and numpy only.
"""
import gzip
import os
import struct
import zipfile
import zlib

import numpy as np

from dlbench.data import Dataset, DataError, cache_dir, check_variant, fetch, limit

VARIANTS = ("real", "synthetic", "small")
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"  # the canonical Keras location
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # Keras's published hash of it

FILES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
IMAGES_FILE = "t10k-images-idx3-ubyte.gz"
LABELS_FILE = "t10k-labels-idx1-ubyte.gz"
IMAGES_MAGIC = 2051  # 0x0803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x0801: unsigned bytes, 1 dimension

SMALL_TRAIN = 8000  # of the 10000 shipped images; the other 2000 are the validation set
SYNTHETIC_TRAIN = 60000
SYNTHETIC_VAL = 10000


def ensure(variant):
    """Check, before any trial starts, that `variant` can be loaded: download the real data set if needed."""
    _check_variant(variant)
    if variant == "real":
        _fetch_real()
    elif variant == "small":
        _read_small()  # parses the shipped files (~0.1 s), so a broken install fails here and not in every trial
    # "synthetic" is generated on the fly and needs no files.


def load(variant, samples=None, seed=0):
    """Load `variant` as a Dataset, limited to `samples` training rows (see dlbench.data.limit).

    `seed` only affects "synthetic"; a limited synthetic data set is a prefix of the full one.
    """
    _check_variant(variant)
    if variant == "real":
        dataset = _load_real()
    elif variant == "small":
        images, labels = _read_small()
        dataset = Dataset(images[:SMALL_TRAIN], labels[:SMALL_TRAIN],
                          images[SMALL_TRAIN:], labels[SMALL_TRAIN:], "mnist", "small")
    else:
        dataset = _synthetic(seed)
    return limit(dataset, samples)


def _check_variant(variant):
    check_variant("MNIST", VARIANTS, variant)


def _to_float(images):
    return images.astype(np.float32) / np.float32(255)


def _fetch_real():
    path = os.path.join(cache_dir(), "mnist.npz")
    hint = ("copy the file to {}, or use --data small to run on the MNIST test set shipped with dlbench"
            .format(path))
    # URL and SHA256 are looked up at call time, so that tests can point them at a local server.
    return fetch(URL, "mnist.npz", SHA256, hint=hint)


def _load_real():
    path = _fetch_real()
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError("{} is not a valid mnist.npz ({}): delete it and run again to download it"
                        .format(path, error))
    x_train, y_train, x_val, y_val = arrays
    for images, labels in ((x_train, y_train), (x_val, y_val)):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise DataError("{} holds images of shape {} and labels of shape {}, expected (N, 28, 28) and (N,): "
                            "delete it and run again to download it".format(path, images.shape, labels.shape))
    return Dataset(_to_float(x_train), y_train.astype(np.int32), _to_float(x_val), y_val.astype(np.int32),
                   "mnist", "real")


def _read_small():
    """The shipped test set: float images (10000, 28, 28) and int32 labels (10000,)."""
    images = read_idx(os.path.join(FILES_DIR, IMAGES_FILE), IMAGES_MAGIC)
    labels = read_idx(os.path.join(FILES_DIR, LABELS_FILE), LABELS_MAGIC)
    if images.shape != (10000, 28, 28) or labels.shape != (10000,) or labels.max() > 9:
        raise DataError("the MNIST files shipped in {} hold images {} and labels {}, expected (10000, 28, 28) "
                        "and (10000,): reinstall dlbench, or use --data synthetic".format(
                            FILES_DIR, images.shape, labels.shape))
    return _to_float(images), labels.astype(np.int32)


def read_idx(path, magic):
    """Parse a gzipped IDX file of unsigned bytes (the original MNIST format) into a uint8 array.

    The header is a big-endian magic number, whose low byte is the number of dimensions, then one 32-bit size
    per dimension. The data must match those sizes exactly.
    """
    def invalid(reason):
        return DataError("{} is not a valid MNIST IDX file ({}): reinstall dlbench, or use --data synthetic"
                         .format(path, reason))

    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as error:  # missing, not gzip, or a truncated gzip stream
        raise invalid(getattr(error, "strerror", None) or error)
    if len(data) < 4:
        raise invalid("too short for a header")
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        raise invalid("magic number {}, expected {}".format(found, magic))
    ndim = magic & 0xFF
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise invalid("too short for a header")
    shape = struct.unpack(">" + "I" * ndim, data[4:header])
    size = int(np.prod(shape))
    if len(data) - header != size:
        raise invalid("{} bytes of data, expected {} for shape {}".format(len(data) - header, size, shape))
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _synthetic(seed):
    # Random bytes scaled like the real images: the same value grid and dtype path as "real", at 1/8 the memory
    # of drawing float64s.
    rng = np.random.RandomState(seed)
    x_train = rng.randint(0, 256, size=(SYNTHETIC_TRAIN, 28, 28), dtype=np.uint8)
    y_train = rng.randint(0, 10, size=SYNTHETIC_TRAIN).astype(np.int32)
    x_val = rng.randint(0, 256, size=(SYNTHETIC_VAL, 28, 28), dtype=np.uint8)
    y_val = rng.randint(0, 10, size=SYNTHETIC_VAL).astype(np.int32)
    return Dataset(_to_float(x_train), y_train, _to_float(x_val), y_val, "mnist", "synthetic")
