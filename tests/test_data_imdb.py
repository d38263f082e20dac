"""Tests for dlbench.data.imdb: the real loader on a tiny imdb.npz in Keras's own format, served by a real local
HTTP server (never the network), the checksum and offline errors, the refused pickle, the missing "small" variant,
Keras's num_words and pad_sequences against a plain-Python transcription of Keras's code, and the learnable
synthetic variant. NumPy only: no framework is imported here."""
import hashlib
import io
import os

import numpy as np
import pytest

from dlbench.data import DataError, imdb

import test_data_cifar10

# The local HTTP server fixture and the refused-port URL of the CIFAR-10 loader's tests.
served = test_data_cifar10.served
closed_port_url = test_data_cifar10.closed_port_url


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache, so that nothing here reads or writes the user's real one."""
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path / "cache"))


# --- Keras's own procedures, transcribed in plain Python (keras/src/datasets/imdb.py, pad_sequences) ----------

def keras_load_data(f, num_words=None, seed=113, start_char=1, oov_char=2, index_from=3):
    x_train, labels_train, x_test, labels_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]
    x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
    x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    if num_words:
        x_train = [[w if w < num_words else oov_char for w in x] for x in x_train]
        x_test = [[w if w < num_words else oov_char for w in x] for x in x_test]
    return (x_train, labels_train), (x_test, labels_test)


def keras_pad_sequences(sequences, maxlen, value=0, padding="pre"):
    out = np.full((len(sequences), maxlen), value, dtype=np.int32)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = list(s)[-maxlen:]  # truncating="pre"
        if padding == "pre":
            out[i, -len(trunc):] = trunc
        else:
            out[i, :len(trunc)] = trunc
    return out


# --- a tiny imdb.npz in the real format ---------------------------------------------------------------------

def _reviews(rng, n):
    """Reviews as the file holds them: lists of word frequency ranks (1 = most frequent), before Keras's shift."""
    return [[int(w) for w in rng.randint(1, 60, size=rng.randint(0, 12))] for _ in range(n)]


def _object_array(lists):
    out = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        out[i] = item
    return out


def _npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _tiny(seed=0, n_train=9, n_test=7):
    rng = np.random.RandomState(seed)
    return {"x_train": _object_array(_reviews(rng, n_train)), "y_train": rng.randint(0, 2, n_train).astype(np.int64),
            "x_test": _object_array(_reviews(rng, n_test)), "y_test": rng.randint(0, 2, n_test).astype(np.int64)}


def _serve(served, monkeypatch, payload, sha256=None):
    (served.folder / imdb.FILENAME).write_bytes(payload)
    monkeypatch.setattr(imdb, "URL", served.url(imdb.FILENAME))
    monkeypatch.setattr(imdb, "SHA256", sha256 or hashlib.sha256(payload).hexdigest())


def test_load_real_downloads_shuffles_and_shifts_as_keras(served, monkeypatch, tmp_path):
    arrays = _tiny()
    arrays["x_train"][0] = []  # an empty review still gets its start_char
    _serve(served, monkeypatch, _npz(arrays))
    imdb.ensure("real")
    assert (tmp_path / "cache" / imdb.FILENAME).is_file()
    served.stop()  # from here on, the verified cached copy must do

    dataset = imdb.load("real")
    assert (dataset.name, dataset.variant) == ("imdb", "real")
    assert (dataset.n_train, dataset.n_val) == (9, 7)
    assert dataset.y_train.dtype == np.int32 and dataset.y_val.dtype == np.int32
    assert all(s.dtype == np.int32 and s.ndim == 1 for s in list(dataset.x_train) + list(dataset.x_val))
    (kx_train, ky_train), (kx_test, ky_test) = keras_load_data(arrays)
    assert [s.tolist() for s in dataset.x_train] == kx_train
    assert [s.tolist() for s in dataset.x_val] == kx_test
    assert dataset.y_train.tolist() == ky_train.tolist() and dataset.y_val.tolist() == ky_test.tolist()
    assert [1] in kx_train  # the empty review
    assert [s.tolist() for s in dataset.x_train] != [[1] + [w + 3 for w in x] for x in arrays["x_train"]]  # shuffled

    # The workloads' encoding equals load_data(num_words) + pad_sequences(maxlen).
    (kx_train, _), (kx_test, _) = keras_load_data(arrays, num_words=20)
    assert np.array_equal(imdb.encode(dataset.x_train, 20, 6), keras_pad_sequences(kx_train, 6))
    assert np.array_equal(imdb.encode(dataset.x_val, 20, 6), keras_pad_sequences(kx_test, 6))

    limited = imdb.load("real", samples=3)
    assert (limited.n_train, limited.n_val) == (3, 2)


def test_real_checksum_mismatch_keeps_nothing(served, monkeypatch, tmp_path):
    payload = _npz(_tiny(1))
    _serve(served, monkeypatch, payload, sha256=imdb.SHA256)  # the real file's hash: this one does not match
    with pytest.raises(DataError) as info:
        imdb.load("real")
    message = str(info.value)
    assert "\n" not in message
    assert hashlib.sha256(payload).hexdigest() in message and imdb.SHA256 in message
    assert os.listdir(str(tmp_path / "cache")) == []


def test_real_offline_is_one_line_with_a_hint(monkeypatch, tmp_path):
    url = closed_port_url(imdb.FILENAME)
    monkeypatch.setattr(imdb, "URL", url)
    for call in (imdb.ensure, imdb.load):
        with pytest.raises(DataError) as info:
            call("real")
        message = str(info.value)
        assert "\n" not in message
        assert "could not download imdb.npz from " + url in message
        assert "to " + str(tmp_path / "cache" / imdb.FILENAME) in message
        assert message.endswith("or use --data synthetic to run without the network")


def test_the_real_url_and_hash_are_keras_s():
    assert imdb.URL == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
    assert imdb.SHA256 == "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"


class _Exploit(object):
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("case", ["not an archive", "missing y_test", "labels not 0/1", "length mismatch",
                                  "code in the pickle", "not lists of ints"])
def test_a_broken_archive_is_a_clear_error(served, monkeypatch, case):
    arrays = _tiny(2)
    if case == "not an archive":
        payload = b"this is not a zip file"
    else:
        if case == "missing y_test":
            del arrays["y_test"]
        elif case == "labels not 0/1":
            arrays["y_train"][0] = 7
        elif case == "length mismatch":
            arrays["y_test"] = arrays["y_test"][:-1]
        elif case == "code in the pickle":
            arrays["x_train"][3] = _Exploit()  # would call os.system when loaded: refused, never run
        else:
            arrays["x_test"][1] = ["a", "b"]
        payload = _npz(arrays)
    _serve(served, monkeypatch, payload)
    with pytest.raises(DataError) as info:
        imdb.load("real")
    message = str(info.value)
    assert "\n" not in message and "delete it and run again" in message
    if case == "missing y_test":
        assert "no y_test" in message
    if case == "code in the pickle":
        assert "refusing" in message and "system" in message


# --- Keras's num_words and pad_sequences ---------------------------------------------------------------------

def test_encode_matches_keras_on_edge_cases():
    rng = np.random.RandomState(4)
    sequences = [[], [1], [1, 5, 9], list(range(1, 30))] + [list(rng.randint(1, 50, rng.randint(0, 25)))
                                                            for _ in range(50)]
    for maxlen in (1, 5, 10, 40):
        for num_words in (3, 10, 1000):
            kept = [[w if w < num_words else 2 for w in s] for s in sequences]
            assert np.array_equal(imdb.encode(sequences, num_words, maxlen), keras_pad_sequences(kept, maxlen))
            assert np.array_equal(imdb.encode(sequences, num_words, maxlen, padding="post"),
                                  keras_pad_sequences(kept, maxlen, padding="post"))
    out = imdb.pad([[1, 2, 3], [], [5, 6, 7, 8, 9]], 4)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 1, 2, 3], [0, 0, 0, 0], [6, 7, 8, 9]]  # pre-padding, pre-truncating
    post = imdb.pad([[1, 2, 3], [], [5, 6, 7, 8, 9]], 4, padding="post")
    assert post.dtype == np.int32
    assert post.tolist() == [[1, 2, 3, 0], [0, 0, 0, 0], [6, 7, 8, 9]]  # post-padding, still pre-truncating
    with pytest.raises(ValueError, match="padding"):
        imdb.pad([[1]], 2, padding="both")
    assert [s.tolist() for s in imdb.top_words([[1, 2, 19999, 20000, 88587]], 20000)] == [[1, 2, 19999, 2, 2]]
    assert imdb.pad([], 3).shape == (0, 3)


# --- small and unknown variants -----------------------------------------------------------------------------

def test_small_is_a_one_line_error_pointing_to_synthetic_and_real():
    for call in (imdb.ensure, imdb.load):
        with pytest.raises(DataError) as info:
            call("small")
        message = str(info.value)
        assert "\n" not in message
        assert "--data synthetic" in message and "--data real" in message


def test_unknown_variant_lists_the_valid_ones():
    for call in (imdb.load, imdb.ensure):
        with pytest.raises(DataError) as info:
            call("imdb50k")
        assert "real, synthetic, small" in str(info.value)


# --- synthetic ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic():
    return imdb.load("synthetic", samples=5000, seed=3)


def test_synthetic_has_the_real_conventions_and_lengths(synthetic):
    d = synthetic
    assert (d.name, d.variant) == ("imdb", "synthetic")
    assert (d.n_train, d.n_val) == (5000, 5000)
    assert d.y_train.dtype == np.int32 and d.y_val.dtype == np.int32
    assert set(np.unique(d.y_train)) == {0, 1} and 0.45 < d.y_train.mean() < 0.55
    for x in (d.x_train, d.x_val):
        assert x.dtype == object and all(s.dtype == np.int32 and s.ndim == 1 for s in x)
        assert all(s[0] == imdb.START_CHAR for s in x)
        words = np.concatenate([s[1:] for s in x])
        assert words.min() >= imdb.INDEX_FROM + 1 and words.max() <= imdb.INDEX_FROM + imdb.VOCABULARY
        lengths = np.array([len(s) for s in x])
        assert lengths.min() >= 11 and lengths.max() <= 2494
        assert 160 < np.median(lengths) < 200 and 215 < lengths.mean() < 265  # real: 178 and 239
    # Zipf-like: the most frequent word is common, and the vocabulary is wide.
    words = np.concatenate([s[1:] for s in d.x_train])
    assert np.mean(words == 4) > 0.05 and len(np.unique(words)) > 20000


def test_synthetic_is_seeded_and_a_limited_set_is_a_prefix(synthetic):
    limited = imdb.load("synthetic", samples=300, seed=3)
    assert (limited.n_train, limited.n_val) == (300, 300)

    def same(a, b):
        return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))
    assert same(limited.x_train, synthetic.x_train[:300]) and same(limited.x_val, synthetic.x_val[:300])
    assert np.array_equal(limited.y_train, synthetic.y_train[:300])
    other = imdb.load("synthetic", samples=300, seed=4)
    assert not same(other.x_train, limited.x_train) and not np.array_equal(other.y_train, limited.y_train)
    with pytest.raises(DataError, match="at most 25000"):
        imdb.load("synthetic", samples=25001)


def test_synthetic_is_learnable_but_not_trivial(synthetic):
    """Counting the planted sentiment words in the last 100 words (what imdb_bilstm sees after pre-truncating)
    predicts the label well above chance but far from perfectly; a single word is no giveaway."""
    positive, negative = imdb.sentiment_words()
    assert len(set(positive) | set(negative)) == 60
    x = imdb.encode(synthetic.x_val, 20000, 100)
    score = np.isin(x, positive).sum(1) - np.isin(x, negative).sum(1)
    vote = np.where(score == 0, 0.5, (score > 0) == (synthetic.y_val == 1))
    assert 0.72 < vote.mean() < 0.9
    # Each sentiment word survives every top-N cut the workloads use (20000, 30000).
    assert max(positive.max(), negative.max()) < 20000
