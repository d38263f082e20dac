"""IMDB movie-review sentiment (Keras's encoding), as variable-length word-id sequences and int32 labels 0/1.

Every variant follows keras.datasets.imdb.load_data's conventions with the full vocabulary (num_words=None):
    start_char 1 opens every review, oov_char 2 stands for a word cut by a vocabulary limit, real words are
    numbered from index_from 3 up by their frequency rank (4 is the most frequent word), 0 is left for padding.
x_train / x_val are numpy object arrays with one 1-D int32 numpy array per review (Keras returns lists of Python
ints: the same values, a tenth of the memory on the full set; len(), indexing and iteration behave the same).
The workloads then apply, with the functions below (numpy only):
    top_words(sequences, num_words)  Keras's num_words: every id >= num_words becomes oov 2
    pad(sequences, maxlen)           Keras's pad_sequences defaults: int32, padding 'pre', truncating 'pre'
                                     (a long review keeps its LAST maxlen words), value 0; padding="post"
                                     places the kept ids at the start of the row and pads after them
    encode(sequences, num_words, maxlen) = pad(top_words(...)), what load_data(num_words) + pad_sequences give
                                     (padding="post": what DeepLearningFrameworks' imdb_for_library gives).

real       the 25000 training and 25000 test reviews of Keras's imdb.npz, downloaded once into the cache from
           Keras's canonical location and checked against Keras's published SHA-256, then shuffled as load_data
           does (one RandomState(113): first the training order, then the test order). The test set is the
           validation set, as in the Keras examples.
synthetic  reviews with the real set's shape and conventions WITH A LEARNABLE LABEL: lengths log-normal like the
           real ones (median 178 words, mean ~239, clipped to 11-2494), background words drawn independently from a
           Zipf law (exponent 1.15) over the real vocabulary size (88,584 words, ids 4-88587; the exponent is chosen
           so that the full training set has 1.24M distinct bigrams after the top-20000 cut, about the real set's
           size that WORKLOADS.md implies (~60M imdb_fasttext parameters); exponent 1.0 gave 2.0M), and sentiment words planted on top: each position
           is, with probability PLANT_RATE, replaced by one of 30 fixed "positive" or 30 fixed "negative" words
           (frequency ranks 50-1999, so every top-N cut used here keeps them), chosen from the review's own class
           with probability PLANT_AGREEMENT and from the other class otherwise. A model that counts sentiment words
           learns it; a single planted word is wrong a quarter of the time, so it is not trivial. Seeded; a limited
           synthetic set is a prefix of the full one and only the rows asked for are generated. It measures speed
           and shows that training works; it says nothing about accuracy on real reviews.
small      not available: no IMDB subset ships with dlbench, so asking for it fails with a one-line DataError that
           points to --data synthetic or --data real (falling back silently would label a run "small real data"
           that never saw a real review).

Imported inside the worker process, which may run Python 3.6: standard library and numpy only.
"""
import os
import pickle
import zipfile
import zlib

import numpy as np

from dlbench.data import Dataset, DataError, cache_dir, check_variant, fetch, limit

VARIANTS = ("real", "synthetic", "small")
# Keras's canonical location: keras/src/datasets/imdb.py (keras-team/keras) downloads imdb.npz from this folder and
# passes file_hash="69664113...6b9f" to get_file, which checks it as SHA-256 (64 hex digits).
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
FILENAME = "imdb.npz"

START_CHAR = 1
OOV_CHAR = 2
INDEX_FROM = 3
SHUFFLE_SEED = 113  # load_data's default seed

N_TRAIN = 25000
N_VAL = 25000
VOCABULARY = 88584  # distinct words in the real set: ids INDEX_FROM + 1 .. INDEX_FROM + VOCABULARY

# The synthetic set. The sentiment words are part of its definition, the same for every seed; the seed draws the
# lengths, labels, words and plants.
WORDS_SEED = 25
SENTIMENT_WORDS = 30          # per class
SENTIMENT_RANKS = (50, 2000)  # frequency ranks they are drawn from (ids = rank + INDEX_FROM)
PLANT_RATE = 0.04             # about 4 planted words in the last 100 of a review, 16 in 400
PLANT_AGREEMENT = 0.75
ZIPF_EXPONENT = 1.15           # see the module docstring: bigram count as the real set's
LENGTH_MEDIAN = 178.0
LENGTH_SIGMA = 0.766          # log-normal: mean = median * exp(sigma^2 / 2) = 239, as the real training set
LENGTH_RANGE = (11, 2494)     # the real set's shortest and longest review, start_char included


def ensure(variant):
    """Check, before any trial starts, that `variant` can be loaded: download the real data set if needed."""
    _check_variant(variant)
    if variant == "real":
        _fetch_real()


def load(variant, samples=None, seed=0):
    """Load `variant` as a Dataset of raw sequences, limited to `samples` training rows (see dlbench.data.limit).

    `seed` only affects "synthetic"."""
    _check_variant(variant)
    if variant == "real":
        return limit(_load_real(), samples)
    return _synthetic(seed, samples)


def _check_variant(variant):
    check_variant("IMDB", VARIANTS, variant, no_small=(
        "no IMDB subset ships with dlbench; use --data synthetic (learnable generated reviews, no network) or "
        "--data real (downloads Keras's 17 MB imdb.npz once)"))


# --- what the workloads apply: Keras's num_words and pad_sequences -------------------------------------------

def flatten(sequences):
    """(all ids in order as one int64 array, the length of each sequence): the vectorised form the functions
    here work on."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if len(sequences) == 0 or lengths.sum() == 0:
        return np.zeros(0, dtype=np.int64), lengths
    flat = np.concatenate([np.asarray(s, dtype=np.int64).reshape(-1) for s in sequences])
    return flat, lengths


def unflatten(flat, lengths, dtype=np.int32):
    """An object array of 1-D arrays (int32 unless told), the inverse of flatten."""
    out = np.empty(len(lengths), dtype=object)
    bounds = np.cumsum(lengths)[:-1] if len(lengths) else []
    for i, part in enumerate(np.split(flat.astype(dtype, copy=False), bounds)):
        out[i] = part
    return out


def top_words(sequences, num_words, oov_char=OOV_CHAR):
    """Keras's load_data(num_words=...): every id >= num_words becomes oov_char (ids below stay, padding 0,
    start 1 and oov 2 included). Returns an object array of int32 arrays."""
    flat, lengths = flatten(sequences)
    flat = np.where(flat < num_words, flat, oov_char)
    return unflatten(flat, lengths)


def pad(sequences, maxlen, value=0, padding="pre"):
    """Keras's pad_sequences(sequences, maxlen, padding=padding) with its other defaults: an int32 (N, maxlen)
    array, a longer sequence cut at its start ('pre' truncating: its last maxlen ids are kept); with padding "pre"
    each sequence is right-aligned (`value` before it), with "post" left-aligned (`value` after it)."""
    if padding not in ("pre", "post"):
        raise ValueError("padding must be 'pre' or 'post', not %r" % (padding,))
    flat, lengths = flatten(sequences)
    n = len(lengths)
    out = np.full((n, maxlen), value, dtype=np.int32)
    take = np.minimum(lengths, maxlen)
    total = int(take.sum())
    if total:
        rows = np.repeat(np.arange(n), take)
        position = np.arange(total) - np.repeat(np.cumsum(take) - take, take)  # 0 .. take-1 within each row
        ends = np.cumsum(lengths)  # one past each sequence's last id in flat
        start = maxlen - take[rows] if padding == "pre" else 0
        out[rows, start + position] = flat[ends[rows] - take[rows] + position]
    return out


def encode(sequences, num_words, maxlen, padding="pre"):
    """load_data(num_words=num_words) then pad_sequences(maxlen=maxlen, padding=padding): an int32 (N, maxlen)
    array."""
    return pad(top_words(sequences, num_words), maxlen, padding=padding)


def encoded_splits(dataset, num_words, maxlen):
    """(train, validation) Splits of a loaded IMDB dataset as Keras's pre-padded workloads feed it: token ids
    encode()d to int32 (N, maxlen), labels int32 0/1."""
    from dlbench.workloads.spec import Split
    return tuple(Split([encode(x, num_words, maxlen)], [y.astype("int32")])
                 for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val)))


# --- real ---------------------------------------------------------------------------------------------------

def _fetch_real():
    path = os.path.join(cache_dir(), FILENAME)
    hint = "copy Keras's imdb.npz ({}) to {}, or use --data synthetic to run without the network".format(URL, path)
    # URL and SHA256 are looked up at call time, so that tests can point them at a local server.
    return fetch(URL, FILENAME, SHA256, hint=hint)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """x_train and x_test are pickled object arrays of lists of ints: rebuild numpy arrays and nothing else, so
    that a tampered file cannot run code through the pickle (np.load(allow_pickle=True) would run anything)."""

    ALLOWED = frozenset([("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                         ("numpy._core.multiarray", "_reconstruct"), ("_codecs", "encode")])

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return pickle.Unpickler.find_class(self, module, name)
        raise pickle.UnpicklingError("refusing to load {}.{}".format(module, name))


def _read_npy(stream):
    """One .npy member of the archive: plain arrays are read as bytes, object arrays through the restricted
    unpickler."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        array = _NumpyOnlyUnpickler(stream, encoding="latin1").load()
        return np.asarray(array)
    array = np.frombuffer(stream.read(), dtype=dtype)
    if fortran:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def _load_real():
    path = _fetch_real()

    def invalid(reason):
        return DataError("{} is not a valid IMDB archive ({}): delete it and run again to download it"
                         .format(path, reason))

    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for key in ("x_train", "y_train", "x_test", "y_test"):
                if key + ".npy" not in names:
                    raise invalid("no " + key)
                with archive.open(key + ".npy") as stream:
                    arrays[key] = _read_npy(stream)
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise invalid(getattr(error, "strerror", None) or error)
    except Exception as error:  # unpickling and header parsing can raise almost anything on a damaged file
        raise invalid("{}: {}".format(type(error).__name__, error))

    for x, y in (("x_train", "y_train"), ("x_test", "y_test")):
        if arrays[x].ndim != 1 or arrays[y].shape != (len(arrays[x]),):
            raise invalid("{} {} and {} {}, expected (N,) and (N,)".format(x, arrays[x].shape, y, arrays[y].shape))
        if len(arrays[y]) and not np.isin(arrays[y], (0, 1)).all():
            raise invalid(y + " holds labels other than 0 and 1")

    # load_data's shuffle: one RandomState, the training order first, then the test order.
    rng = np.random.RandomState(SHUFFLE_SEED)
    order_train = np.arange(len(arrays["x_train"]))
    rng.shuffle(order_train)
    order_test = np.arange(len(arrays["x_test"]))
    rng.shuffle(order_test)
    try:
        x_train = _keras_ids(arrays["x_train"][order_train])
        x_val = _keras_ids(arrays["x_test"][order_test])
    except (TypeError, ValueError, OverflowError) as error:
        raise invalid("a review that is not a list of word ranks: {}".format(error))
    y_train = arrays["y_train"][order_train].astype(np.int32)
    y_val = arrays["y_test"][order_test].astype(np.int32)
    return Dataset(x_train, y_train, x_val, y_val, "imdb", "real")


def _keras_ids(reviews):
    """The file's word ranks (1 = most frequent) -> Keras's ids: [start_char] + [rank + index_from ...]."""
    flat, lengths = flatten(reviews)
    if len(flat) and flat.min() < 0:
        raise ValueError("a negative word rank")
    starts = np.cumsum(lengths + 1) - (lengths + 1)  # where each review's start_char goes in the new flat array
    out = np.empty(len(flat) + len(lengths), dtype=np.int64)
    out[starts] = START_CHAR
    keep = np.ones(len(out), dtype=bool)
    keep[starts] = False
    out[keep] = flat + INDEX_FROM
    return unflatten(out, lengths + 1)


# --- synthetic ----------------------------------------------------------------------------------------------

def sentiment_words():
    """(positive ids, negative ids): 30 each, distinct, frequency ranks in SENTIMENT_RANKS, as Keras ids.
    Fixed: the same for every seed."""
    ranks = np.random.RandomState(WORDS_SEED).choice(
        np.arange(SENTIMENT_RANKS[0], SENTIMENT_RANKS[1]), size=2 * SENTIMENT_WORDS, replace=False)
    ids = (ranks + INDEX_FROM).astype(np.int64)
    return ids[:SENTIMENT_WORDS], ids[SENTIMENT_WORDS:]


def _synthetic(seed, samples):
    # limit() on zero-width stand-ins: the same checks and the same validation share as the real data set.
    sizes = limit(Dataset(np.empty((N_TRAIN, 0)), np.empty((N_TRAIN, 0)), np.empty((N_VAL, 0)),
                          np.empty((N_VAL, 0)), "imdb", "synthetic"), samples)
    zipf = np.cumsum(1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF_EXPONENT)
    zipf /= zipf[-1]
    words = sentiment_words()
    x_train, y_train = _synthetic_split(sizes.n_train, seed, 0, zipf, words)
    x_val, y_val = _synthetic_split(sizes.n_val, seed, 1, zipf, words)
    return Dataset(x_train, y_train, x_val, y_val, "imdb", "synthetic")


def _synthetic_split(n, seed, split, zipf, words):
    """n reviews. Separate streams for lengths, labels and words, each consumed in row order, so that fewer rows
    are a prefix of more."""
    normal = np.random.default_rng([seed, split, 0]).standard_normal(n)
    lengths = np.clip(np.rint(LENGTH_MEDIAN * np.exp(LENGTH_SIGMA * normal)), LENGTH_RANGE[0], LENGTH_RANGE[1])
    lengths = lengths.astype(np.int64)
    labels = (np.random.default_rng([seed, split, 1]).random(n) < 0.5).astype(np.int32)
    n_words = int((lengths - 1).sum())  # start_char is not drawn
    def stream(k):  # one uniform draw per word from stream k (each stream is a separate array: less memory)
        return np.random.default_rng([seed, split, k]).random(n_words)

    ranks = np.minimum(np.searchsorted(zipf, stream(2), side="right"), VOCABULARY - 1) + 1
    flat = ranks.astype(np.int64) + INDEX_FROM
    # Planted sentiment words: the review's own class with probability PLANT_AGREEMENT, else the other class.
    label_of_word = np.repeat(labels, lengths - 1)
    plant = stream(3) < PLANT_RATE
    positive = np.where(stream(4) < PLANT_AGREEMENT, label_of_word == 1, label_of_word == 0)
    choice = np.minimum((stream(5) * SENTIMENT_WORDS).astype(np.int64), SENTIMENT_WORDS - 1)
    flat = np.where(plant, np.where(positive, words[0][choice], words[1][choice]), flat)
    # start_char in front of every review.
    starts = np.cumsum(lengths) - lengths
    out = np.empty(int(lengths.sum()), dtype=np.int64)
    out[starts] = START_CHAR
    keep = np.ones(len(out), dtype=bool)
    keep[starts] = False
    out[keep] = flat
    return unflatten(out, lengths), labels
