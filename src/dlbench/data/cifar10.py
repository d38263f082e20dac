"""CIFAR-10 in three variants, as float32 images in [0, 1] of shape (N, 32, 32, 3) and int32 labels 0-9.

real       the full data set (50000 train, 10000 validation: the five data batches and the test batch), downloaded
           once into the cache from its canonical location and checked against its SHA-256
synthetic  images of the real shapes and value grid WITH LEARNABLE STRUCTURE: each image is its class's fixed
           pattern (a coarse, left-right symmetric block pattern of colours, so shifts and flips keep it
           recognisable) plus seeded Gaussian pixel noise; labels uniform over the ten classes. Models do learn it
           (the tests check that every framework does, in two short epochs), so it measures speed and shows that
           training works; it is far easier than real CIFAR-10 and says nothing about accuracy on photographs.
small      not available: no real CIFAR-10 subset ships with dlbench (only MNIST's test set does), so asking for
           it fails with a one-line DataError that points to --data synthetic or --data real. Falling back silently
           to synthetic images would label a run "small real data" that never saw a real image.

Imported inside the worker process, which may run Python 3.6: standard library and numpy only.
"""
import os
import pickle
import tarfile
import zlib

import numpy as np

from dlbench.data import Dataset, DataError, cache_dir, check_variant, fetch, limit

VARIANTS = ("real", "synthetic", "small")
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # the canonical location (Alex Krizhevsky's page)
# Keras's published hash of that file: keras/src/datasets/cifar10.py (keras-team/keras) passes
# file_hash="6d958be0...01ce" to get_file for the same origin URL, and get_file checks it as SHA-256.
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
FILENAME = "cifar-10-python.tar.gz"

TRAIN_MEMBERS = tuple("data_batch_%d" % i for i in range(1, 6))
TEST_MEMBER = "test_batch"
IMAGE_SHAPE = (32, 32, 3)
CLASSES = 10

SYNTHETIC_TRAIN = 50000
SYNTHETIC_VAL = 10000
# The class patterns are part of the synthetic data set's definition, the same for every seed; the seed draws the
# labels and the noise. Contrast and noise are set so that a few epochs on a few hundred images learn it clearly.
PATTERN_SEED = 10
PATTERN_CONTRAST = 0.8  # pattern pixels at 0.1 and 0.9 before the noise
NOISE_STD = 0.1
_CHUNK_ROWS = 4096  # synthetic images are made in chunks, so that the float temporaries stay small


def ensure(variant):
    """Check, before any trial starts, that `variant` can be loaded: download the real data set if needed."""
    _check_variant(variant)
    if variant == "real":
        _fetch_real()
    # "synthetic" is generated on the fly and needs no files.


def load(variant, samples=None, seed=0):
    """Load `variant` as a Dataset, limited to `samples` training rows (see dlbench.data.limit).

    `seed` only affects "synthetic" (its labels and noise); a limited synthetic data set is a prefix of the full
    one, and only the rows asked for are generated.
    """
    _check_variant(variant)
    if variant == "real":
        return limit(_load_real(), samples)
    return _synthetic(seed, samples)


def _check_variant(variant):
    check_variant("CIFAR-10", VARIANTS, variant, no_small=(
        "no real CIFAR-10 subset ships with dlbench; use --data synthetic (learnable generated images, no network) "
        "or --data real (downloads the 170 MB archive once)"))


def _to_float(images):
    return images.astype(np.float32) / np.float32(255)


# --- real ---------------------------------------------------------------------------------------------------

def _fetch_real():
    path = os.path.join(cache_dir(), FILENAME)
    hint = "copy the file to {}, or use --data synthetic to run without the network".format(path)
    # URL and SHA256 are looked up at call time, so that tests can point them at a local server.
    return fetch(URL, FILENAME, SHA256, hint=hint)


def _load_real():
    path = _fetch_real()

    def invalid(reason):
        return DataError("{} is not a valid CIFAR-10 python archive ({}): delete it and run again to download it"
                         .format(path, reason))

    batches = {}
    try:
        # Read the pickled batches straight from the archive (nothing is extracted to disk).
        with tarfile.open(path, "r:gz") as archive:
            for member in archive.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and (name in TRAIN_MEMBERS or name == TEST_MEMBER):
                    batches[name] = read_batch(archive.extractfile(member), invalid)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise invalid(getattr(error, "strerror", None) or error)
    missing = [name for name in TRAIN_MEMBERS + (TEST_MEMBER,) if name not in batches]
    if missing:
        raise invalid("missing " + ", ".join(missing))
    x_train = np.concatenate([batches[name][0] for name in TRAIN_MEMBERS])
    y_train = np.concatenate([batches[name][1] for name in TRAIN_MEMBERS])
    x_val, y_val = batches[TEST_MEMBER]
    return Dataset(_to_float(x_train), y_train, _to_float(x_val), y_val, "cifar10", "real")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """The batches are pickles (Python 2, protocol 2) of a dict holding a numpy array: rebuild numpy arrays and
    nothing else, so that a tampered file cannot run code through the pickle (Keras's loader does the same).
    _codecs.encode is how Python 3 writes bytes at protocol 2 (a copy re-pickled by Python 3); it only encodes text."""

    ALLOWED = frozenset([("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                         ("numpy._core.multiarray", "_reconstruct"), ("_codecs", "encode")])

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return pickle.Unpickler.find_class(self, module, name)
        raise pickle.UnpicklingError("refusing to load {}.{}".format(module, name))


def read_batch(stream, invalid):
    """One pickled batch -> (uint8 images (N, 32, 32, 3), int32 labels (N,)).

    A batch is a dict with b"data", a uint8 array (N, 3072) holding each image as its red, green then blue
    32x32 plane (row-major), and b"labels", a list of N ints in 0-9.
    """
    try:
        batch = _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except Exception as error:  # unpickling can raise almost anything on a damaged file
        raise invalid("{}: {}".format(type(error).__name__, error))
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise invalid("a batch without data and labels")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
        raise invalid("a batch with data {} and labels {}, expected (N, 3072) and (N,)".format(
            data.shape, labels.shape))
    if len(labels) and (labels.min() < 0 or labels.max() >= CLASSES):
        raise invalid("labels outside 0-9")
    images = data.astype(np.uint8, copy=False).reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


# --- synthetic ----------------------------------------------------------------------------------------------

def class_patterns():
    """The ten class patterns, float32 (10, 32, 32, 3) of 0s and 1s: per class, a random 4x2 grid of binary RGB
    colours, mirrored into a left-right symmetric 4x4 grid and scaled up to 32x32 in 8x8 blocks. Symmetric, so a
    horizontal flip keeps the class's pattern; coarse, so a shift of a few pixels keeps most of it; any two classes
    differ in at least 9 of the 24 colour bits of a half-grid. Fixed: the same for every seed."""
    half = np.random.RandomState(PATTERN_SEED).randint(0, 2, size=(CLASSES, 4, 2, 3))
    grid = np.concatenate([half, half[:, :, ::-1]], axis=2)
    return grid.repeat(8, axis=1).repeat(8, axis=2).astype(np.float32)


def _synthetic(seed, samples):
    # limit() on zero-width stand-ins: the same checks and the same validation share as the real data set.
    sizes = limit(Dataset(np.empty((SYNTHETIC_TRAIN, 0)), np.empty((SYNTHETIC_TRAIN, 0)), np.empty((SYNTHETIC_VAL, 0)),
                          np.empty((SYNTHETIC_VAL, 0)), "cifar10", "synthetic"), samples)
    n_train, n_val = sizes.n_train, sizes.n_val
    patterns = class_patterns()
    # Separate streams for each array, each consumed in row order, so that fewer rows are a prefix of more.
    x_train, y_train = _synthetic_split(patterns, n_train, seed, 0)
    x_val, y_val = _synthetic_split(patterns, n_val, seed, 1)
    return Dataset(x_train, y_train, x_val, y_val, "cifar10", "synthetic")


def _synthetic_split(patterns, n, seed, split):
    """image = 0.5 + contrast * (pattern[label] - 0.5) + N(0, noise_std), clipped to [0, 1] and rounded to the
    real images' grid of k/255."""
    labels = np.random.default_rng([seed, split, 0]).integers(0, CLASSES, size=n).astype(np.int32)
    noise = np.random.default_rng([seed, split, 1])
    images = np.empty((n,) + IMAGE_SHAPE, dtype=np.uint8)
    base = np.float32(0.5) + np.float32(PATTERN_CONTRAST) * (patterns - np.float32(0.5))
    for start in range(0, n, _CHUNK_ROWS):
        stop = min(n, start + _CHUNK_ROWS)
        chunk = base[labels[start:stop]] + np.float32(NOISE_STD) * noise.standard_normal(
            (stop - start,) + IMAGE_SHAPE, dtype=np.float32)
        images[start:stop] = np.rint(np.clip(chunk, 0.0, 1.0) * np.float32(255)).astype(np.uint8)
    return _to_float(images), labels
