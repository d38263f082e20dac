"""The Nietzsche loader: the shipped corpus, its windows (all of them for training, as the original), the in-sample
validation pass, the three variants, the fallback download
(tested on a file:// URL and a closed port, never on the network) and the one-line errors."""
import ast
import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest

from dlbench.data import DataError, nietzsche

SRC = Path(__file__).resolve().parent.parent / "src" / "dlbench"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def real():
    return nietzsche.load("real")


def test_the_shipped_corpus_is_the_keras_examples(real):
    path = Path(nietzsche.FILES_DIR) / nietzsche.FILENAME
    assert hashlib.sha256(path.read_bytes()).hexdigest() == nietzsche.SHA256
    corpus = real.meta["corpus"]
    assert len(corpus) == 600893 and corpus == path.read_text(encoding="utf-8").lower()
    assert real.meta["chars"] == "".join(sorted(set(corpus))) == nietzsche.SYMBOL_TABLE
    assert len(nietzsche.SYMBOL_TABLE) == 57
    assert real.meta["text"] == corpus
    notice = (Path(nietzsche.FILES_DIR) / "NOTICE.md").read_text()
    assert nietzsche.FILENAME in notice and nietzsche.SHA256 in notice


def test_real_windows_are_the_keras_examples_all_of_them_for_training(real):
    """An epoch is the original's 200,285 windows; validation re-reads every 20th of them (nothing is held out: the
    original has no validation set and its ~1.40 is a training loss)."""
    text, chars = real.meta["text"], real.meta["chars"]
    starts = nietzsche.window_starts(len(text))
    assert len(starts) == 200285  # the Keras example's sentences
    assert (real.n_train, real.n_val) == (200285, 10015)
    for array in (real.x_train, real.x_val):
        assert array.dtype == np.int32 and array.shape[1] == 40
    assert real.y_train.dtype == np.int32 and real.y_val.dtype == np.int32
    assert nietzsche.decode(real.x_train[0], chars) == "preface\n\n\nsupposing that truth is a woma"
    assert chars[real.y_train[0]] == "n"
    # every window is the text at 3 * i, its target the character after it, up to the end of the book
    for i in (0, 1, 12345, real.n_train - 1):
        assert nietzsche.decode(real.x_train[i], chars) == text[3 * i:3 * i + 40]
        assert chars[real.y_train[i]] == text[3 * i + 40]
    assert 3 * (real.n_train - 1) + 40 == len(text) - 1  # the last target is the book's last character
    # validation: training windows, every 20th
    np.testing.assert_array_equal(real.x_val, real.x_train[::20])
    np.testing.assert_array_equal(real.y_val, real.y_train[::20])


def test_small_is_a_prefix_of_the_corpus_with_the_full_symbol_table(real):
    small = nietzsche.load("small")
    assert small.meta["chars"] == real.meta["chars"]
    assert small.meta["text"] == real.meta["corpus"][:nietzsche.SMALL_CHARS]
    assert small.meta["corpus"] == real.meta["corpus"]  # generated text is checked against the whole book
    assert (small.n_train, small.n_val) == (19987, 1000)
    np.testing.assert_array_equal(small.x_train, real.x_train[:small.n_train])


def test_synthetic_has_the_real_shapes_random_symbols_and_follows_the_seed(monkeypatch, tmp_path, real):
    monkeypatch.setattr(nietzsche, "FILES_DIR", str(tmp_path))  # it needs no files
    a, b = nietzsche.load("synthetic", seed=0), nietzsche.load("synthetic", seed=0)
    c = nietzsche.load("synthetic", seed=1)
    assert (a.n_train, a.n_val) == (real.n_train, real.n_val)
    assert a.x_train.dtype == np.int32 and a.y_train.dtype == np.int32
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    counts = np.bincount(a.x_train.ravel(), minlength=57)
    assert len(counts) == 57 and counts.min() > 0.8 * counts.mean()  # uniform over the 57 symbols
    assert a.meta["chars"] == nietzsche.SYMBOL_TABLE
    assert a.meta["corpus"] == a.meta["text"] and len(a.meta["text"]) == 600893
    assert nietzsche.decode(a.x_train[5], a.meta["chars"]) == a.meta["text"][15:55]
    nietzsche.ensure("synthetic")


def test_samples_limit_every_variant_and_validation_stays_in_sample():
    for variant in nietzsche.VARIANTS:
        dataset = nietzsche.load(variant, samples=1000)
        assert dataset.n_train == 1000 and dataset.n_val == 50
        assert dataset.meta["chars"] == nietzsche.SYMBOL_TABLE and dataset.variant == variant
        np.testing.assert_array_equal(dataset.x_val, dataset.x_train[::20])
    for samples in (1, 19, 21, 190000):  # every validation window is one of the windows trained on
        dataset = nietzsche.load("synthetic", samples=samples)
        assert dataset.n_val == -(-samples // 20)
        np.testing.assert_array_equal(dataset.x_val, dataset.x_train[::20])


def test_unknown_variant_names_the_variants():
    with pytest.raises(DataError) as error:
        nietzsche.load("full")
    assert "real, synthetic, small" in str(error.value)
    with pytest.raises(DataError):
        nietzsche.ensure("full")


def test_encode_and_decode_round_trip():
    chars = nietzsche.SYMBOL_TABLE
    text = "zarathustra, \"thus spoke\" -- überhaupt? no: ä æ é ë!\n"
    text = text.replace("ü", "u")
    ids = nietzsche.encode(text, chars)
    assert ids.dtype == np.int32 and nietzsche.decode(ids, chars) == text
    with pytest.raises(ValueError):
        nietzsche.encode("a~b", chars)


# --- the fallback download when the shipped copy is missing or altered -----------------------------------------

def test_a_missing_shipped_copy_is_downloaded_and_checked(monkeypatch, tmp_path, real):
    source = tmp_path / "served" / "nietzsche.txt"
    source.parent.mkdir()
    source.write_bytes((Path(nietzsche.FILES_DIR) / nietzsche.FILENAME).read_bytes())
    monkeypatch.setattr(nietzsche, "FILES_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(nietzsche, "URL", source.as_uri())
    dataset = nietzsche.load("real", samples=10)
    np.testing.assert_array_equal(dataset.x_train, real.x_train[:10])
    assert (tmp_path / "cache" / "nietzsche.txt").exists()


def test_an_altered_shipped_copy_is_not_used(monkeypatch, tmp_path):
    (tmp_path / nietzsche.FILENAME).write_text("the wrong text", encoding="utf-8")
    monkeypatch.setattr(nietzsche, "FILES_DIR", str(tmp_path))
    monkeypatch.setattr(nietzsche, "URL", closed_port_url())
    with pytest.raises(DataError) as error:
        nietzsche.ensure("real")
    message = str(error.value)
    assert "\n" not in message and "could not download nietzsche.txt" in message and "reinstall dlbench" in message


def test_a_download_of_the_wrong_text_is_refused(monkeypatch, tmp_path):
    wrong = tmp_path / "nietzsche.txt"
    wrong.write_text("Thus spoke nobody.\n", encoding="utf-8")
    monkeypatch.setattr(nietzsche, "FILES_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(nietzsche, "URL", wrong.as_uri())
    monkeypatch.setattr(nietzsche, "SHA256", hashlib.sha256(wrong.read_bytes()).hexdigest())
    with pytest.raises(DataError) as error:
        nietzsche.load("small")
    assert "19 characters" in str(error.value) and "expected 600893" in str(error.value)


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:{}/nietzsche.txt".format(port)


# --- the worker side stays Python 3.6 ----------------------------------------------------------------------------

@pytest.mark.parametrize("relative", ["data/nietzsche.py", "workloads/textgen.py", "workloads/char_lstm/__init__.py",
                                      "workloads/char_embed_lstm/__init__.py"])
def test_worker_side_files_parse_as_python_36(relative):
    tree = ast.parse((SRC / relative).read_text(), feature_version=(3, 6))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"dlbench", "numpy", "io", "os"}
