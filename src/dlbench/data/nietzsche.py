"""The Nietzsche corpus of the Keras text-generation example, cut into windows of 40 characters.

The text is lowercased as the Keras example does (lstm_text_generation.py): 600,893 characters over 57 symbols.
Each sample is a window of MAXLEN = 40 characters (int32 ids into the sorted symbol table) and the character that
follows it (the target, an int32 id); windows start every STEP = 3 characters, 200,285 windows in all.

real       the full corpus, read from the copy shipped with dlbench (no network needed; its canonical source is
           URL, whose SHA256 is that of the shipped copy: if the copy is missing or altered, it is downloaded into
           the cache instead and checked against it)
small      the first SMALL_CHARS = 60,000 characters of the same corpus, windowed the same way (19,987 windows):
           real text for quick runs; the symbol table is still the full corpus's 57, so every shape stays
synthetic  600,893 characters drawn uniformly from the same 57 symbols: the real shapes for timing, nothing to learn

Training: every window, in order, as the original (it has no validation set): 200,285 for the real corpus (small:
19,987). The original's figure, a loss of ~1.40 after 10 epochs, is a training loss.
Validation: NOT held out. The framework's validation pass re-reads every VAL_EVERY = 20th window (5%: 10,015 for
real, 1,000 for small), which are training windows too: an in-sample check of the model in inference mode
(BatchNorm's moving statistics in char_embed_lstm), never a measure of generalisation. A `--samples N` run takes
the first N training windows (dlbench.data.limit) and every 20th of those same N: still in-sample.

`dataset.meta` holds what generation and its check need: "chars" (the 57 symbols, sorted: id i is chars[i]),
"text" (the text the windows were cut from: the seed windows of generated text come from it) and "corpus" (the
text whose character bigrams a generated sample is checked against: the full real corpus for real and small, the
random text itself for synthetic).

Imported inside the worker process, which may run Python 3.6: standard library and numpy only.
"""
import io
import os

import numpy as np

from dlbench.data import Dataset, DataError, check_variant, fetch, limit, sha256_of

VARIANTS = ("real", "synthetic", "small")
URL = "https://s3.amazonaws.com/text-datasets/nietzsche.txt"  # where the Keras example downloads it
SHA256 = "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"  # of the shipped copy (600,901 bytes)

FILES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
FILENAME = "nietzsche.txt"

CHARS = 600893  # after lowercasing
# sorted(set(corpus)): id i is SYMBOL_TABLE[i]; synthetic text uses the same table without reading the corpus
SYMBOL_TABLE = u"\n !\"'(),-.0123456789:;=?[]_abcdefghijklmnopqrstuvwxyz\u00e4\u00e6\u00e9\u00eb"
MAXLEN = 40
STEP = 3
VAL_EVERY = 20  # the validation pass re-reads every 20th training window (in-sample; see the module docstring)
SMALL_CHARS = 60000


def ensure(variant):
    """Check, before any trial starts, that `variant` can be loaded (real and small read and check the corpus)."""
    _check_variant(variant)
    if variant != "synthetic":
        read_corpus()


def load(variant, samples=None, seed=0):
    """Load `variant` as a Dataset of int32 windows (N, 40) and int32 next-character ids (N,), limited to `samples`
    training windows (see dlbench.data.limit). `seed` only affects "synthetic"."""
    _check_variant(variant)
    if variant == "synthetic":
        chars = SYMBOL_TABLE
        rng = np.random.RandomState(seed)
        ids = rng.randint(0, len(chars), size=CHARS).astype(np.int32)
        text = "".join(np.array(list(chars))[ids])
        return _with_validation(limit(_windowed(ids, chars, text, text, "synthetic"), samples))
    corpus = read_corpus()
    chars = SYMBOL_TABLE
    text = corpus if variant == "real" else corpus[:SMALL_CHARS]
    return _with_validation(limit(_windowed(encode(text, chars), chars, text, corpus, variant), samples))


def _check_variant(variant):
    check_variant("Nietzsche", VARIANTS, variant)


def symbols(text):
    """The sorted symbol table, as the Keras example builds it: sorted(set(text))."""
    return "".join(sorted(set(text)))


def encode(text, chars):
    """Characters to int32 ids into `chars` (every character of `text` must be in it)."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    table = np.array([ord(c) for c in chars], dtype=np.uint32)
    ids = np.searchsorted(table, points)
    if len(points) and (ids.max() >= len(table) or np.any(table[np.minimum(ids, len(table) - 1)] != points)):
        raise ValueError("text holds characters outside the symbol table")
    return ids.astype(np.int32)


def decode(ids, chars):
    return "".join(chars[int(i)] for i in ids)


def window_starts(n_chars):
    """Where each window starts: every STEP characters while a next character follows (the Keras example's range)."""
    return np.arange(0, n_chars - MAXLEN, STEP)


def _windowed(ids, chars, text, corpus, variant):
    """Every window for training; validation is set by _with_validation, once the training set is final."""
    starts = window_starts(len(ids))
    x = ids[starts[:, None] + np.arange(MAXLEN)]
    y = ids[starts + MAXLEN]
    meta = {"chars": chars, "text": text, "corpus": corpus}
    return Dataset(x, y, x[:1], y[:1], "nietzsche", variant, meta)


def _with_validation(dataset):
    """The validation split as every VAL_EVERY-th window of the (possibly limited) training set: in-sample by
    construction, whatever --samples asked for."""
    x, y = dataset.x_train, dataset.y_train
    return Dataset(x, y, x[::VAL_EVERY], y[::VAL_EVERY], dataset.name, dataset.variant, dataset.meta)


def read_corpus():
    """The lowercased corpus: the shipped copy, or (if it is missing or altered) a checked download in the cache."""
    corpus = read_corpus_or_none()
    if corpus is not None:
        return corpus
    hint = ("copy nietzsche.txt (sha256 {}) to the cache folder, or reinstall dlbench, whose copy needs no network"
            .format(SHA256))
    return _read(fetch(URL, FILENAME, SHA256, hint=hint))


def read_corpus_or_none():
    path = os.path.join(FILES_DIR, FILENAME)
    if not os.path.isfile(path) or sha256_of(path) != SHA256:
        return None
    return _read(path)


def _read(path):
    try:
        with io.open(path, encoding="utf-8") as f:
            text = f.read().lower()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError("cannot read the Nietzsche corpus {} ({}): delete it and run again".format(path, error))
    if len(text) != CHARS or symbols(text) != SYMBOL_TABLE:
        raise DataError("{} holds {} characters over {} symbols after lowercasing, expected {} over {}: delete it "
                        "and run again".format(path, len(text), len(set(text)), CHARS, len(SYMBOL_TABLE)))
    return text
