"""Data sets for the benchmark: the download cache and the container every loader returns.

Imported inside the benchmark's worker process, which may run Python 3.6: standard library only here
(the loaders may add numpy), no annotations, nothing newer than 3.6.
"""
import hashlib
import http.client
import numbers
import os
import sys
import tempfile
import urllib.error
import urllib.request

_CHUNK = 1 << 20


class DataError(Exception):
    """A data set could not be provided. The message is one line: what went wrong, then what to do."""

    def __init__(self, message, bad_input=False):
        # Collapse whitespace so that an embedded newline (e.g. from an OS error) cannot break the one-line rule.
        super().__init__(" ".join(str(message).split()))
        self.bad_input = bad_input  # the command asks for what the data set cannot give (exit 2), not a failure


_warned = []


def cache_folder():
    """dlbench's cache folder (downloads, the report's feature probes), not created here: DLBENCH_CACHE if set, else
    $XDG_CACHE_HOME/dlbench, else ~/.cache/dlbench. DLBENCH_CACHE_DIR, its old name for the probes, still counts."""
    path = os.environ.get("DLBENCH_CACHE")
    if not path and os.environ.get("DLBENCH_CACHE_DIR"):
        path = os.environ["DLBENCH_CACHE_DIR"]
        if not _warned:
            _warned.append(True)
            sys.stderr.write("dlbench: DLBENCH_CACHE_DIR is deprecated: set DLBENCH_CACHE instead (the same folder)\n")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "dlbench")
    return path


def cache_dir():
    """The folder for downloaded files (cache_folder()), created if missing."""
    path = cache_folder()
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise DataError("cannot create the cache folder {} ({}): set DLBENCH_CACHE to a writable folder"
                        .format(path, error.strerror or error))
    return path


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url, filename, sha256, timeout=60, hint=None):
    """Return the path of `filename` in cache_dir(), downloading it from `url` unless a verified copy is there.

    `hint` is what the error message tells the user to do when the download fails; by default, to copy the
    file into the cache by hand.
    """
    expected = sha256.lower()
    path = os.path.join(cache_dir(), filename)
    if hint is None:
        hint = "copy the file to {}".format(path)

    if os.path.exists(path):
        if sha256_of(path) == expected:
            return path
        os.remove(path)  # truncated or replaced by hand: download it again

    # Download beside the final path, so that the rename is atomic and a reader never sees a partial file.
    fd, partial = tempfile.mkstemp(prefix="." + filename + ".", suffix=".part", dir=os.path.dirname(path))
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                digest = hashlib.sha256()
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            raise DataError("could not download {} from {} ({}): {}".format(filename, url, _reason(error), hint))
        actual = digest.hexdigest()
        if actual != expected:
            raise DataError("{} downloaded from {} has sha256 {}, expected {}: {}"
                            .format(filename, url, actual, expected, hint))
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def _reason(error):
    """A short description of a download error, without urllib's '<urlopen error ...>' wrapping."""
    if isinstance(error, urllib.error.HTTPError):
        return "HTTP {} {}".format(error.code, error.reason)
    if isinstance(error, urllib.error.URLError):
        error = error.reason
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class Dataset(object):
    """A train/validation split. x_* are the inputs, y_* the targets: each one numpy array, or a tuple of arrays of
    equal length where a model takes several inputs (bAbI's story and query). `meta` holds data-dependent facts
    the workloads need (a vocabulary, the corpus a generated text is checked against)."""

    def __init__(self, x_train, y_train, x_val, y_val, name, variant, meta=None):
        lengths = [_length(a) for a in (x_train, y_train, x_val, y_val)]
        if lengths[0] != lengths[1] or lengths[2] != lengths[3]:
            raise DataError("data set {} ({}) has {}/{} training and {}/{} validation inputs/targets: "
                            "its files are inconsistent, replace them".format(name, variant, *lengths))
        self.x_train = x_train
        self.y_train = y_train
        self.x_val = x_val
        self.y_val = y_val
        self.name = name
        self.variant = variant
        self.meta = dict(meta or {})

    @property
    def n_train(self):
        return _length(self.x_train)

    @property
    def n_val(self):
        return _length(self.x_val)

    def __repr__(self):
        return "Dataset({}, {}, n_train={}, n_val={})".format(self.name, self.variant, self.n_train, self.n_val)


def _length(arrays):
    """Rows of one array, or of a tuple of arrays that must agree."""
    if not isinstance(arrays, tuple):
        return len(arrays)
    sizes = set(len(a) for a in arrays)
    if len(sizes) != 1:
        raise DataError("the arrays of one split differ in length ({}): the data files are inconsistent, "
                        "replace them".format(sorted(sizes)))
    return sizes.pop()


def _head(arrays, n):
    return tuple(a[:n] for a in arrays) if isinstance(arrays, tuple) else arrays[:n]


def limit(dataset, samples):
    """A smaller copy of `dataset` for quick runs: the first `samples` training rows and a validation prefix of
    the same proportion (at least one row). `samples` None returns `dataset` unchanged."""
    if samples is None:
        return dataset
    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 1:
        raise DataError("the number of samples must be a positive whole number, not {!r}".format(samples))
    if samples > dataset.n_train:
        raise DataError("{} ({}) has {} training samples, {} were asked for: ask for at most {}"
                        .format(dataset.name, dataset.variant, dataset.n_train, samples, dataset.n_train),
                        bad_input=True)
    n_val = max(1, int(round(samples * dataset.n_val / dataset.n_train)))
    return Dataset(_head(dataset.x_train, samples), _head(dataset.y_train, samples),
                   _head(dataset.x_val, n_val), _head(dataset.y_val, n_val), dataset.name, dataset.variant,
                   dataset.meta)


def check_variant(name, variants, variant, no_small=None):
    """Refuse a variant a data set does not have, in one line: an unknown one, and "small" where no subset of the
    data set ships with dlbench (`no_small`: why not and what to use instead)."""
    if variant not in variants:
        raise DataError("unknown {} variant {!r}: use one of {}".format(name, variant, ", ".join(variants)),
                        bad_input=True)
    if variant == "small" and no_small is not None:
        raise DataError("{} has no 'small' variant: {}".format(name, no_small), bad_input=True)


def dataset_module(name):
    """The loader module of a data set (dlbench.data.<name>): it has VARIANTS, ensure(variant) and load(...)."""
    import importlib
    return importlib.import_module("dlbench.data." + name)
