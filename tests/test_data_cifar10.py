"""Tests for dlbench.data.cifar10: the real loader on a tiny archive in CIFAR-10's own format, served by a real
local HTTP server (never the network), the checksum and offline errors, the missing "small" variant, and the
learnable synthetic variant. NumPy only: no framework is imported here."""
import ast
import functools
import hashlib
import http.server
import io
import os
import pickle
import socket
import sys
import tarfile
import threading

import numpy as np
import pytest

from dlbench.data import DataError, cifar10
from dlbench.workloads import cifar10_cnn

from conftest import ROOT


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache, so that nothing here reads or writes the user's real one."""
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path / "cache"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """A real HTTP server on an ephemeral 127.0.0.1 port, serving a folder from a thread."""
    folder = tmp_path / "served"
    folder.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=functools.partial(httpd.serve_forever, poll_interval=0.05), daemon=True)
    thread.start()
    state = {"running": True}

    def stop():
        if state["running"]:
            httpd.shutdown()
            httpd.server_close()
            thread.join()
            state["running"] = False

    server = type("Served", (), {})()
    server.folder, server.stop = folder, stop
    server.url = lambda name: "http://127.0.0.1:{}/{}".format(httpd.server_address[1], name)
    yield server
    stop()


def closed_port_url(name):
    """A URL on a 127.0.0.1 port that nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:{}/{}".format(port, name)


# --- a tiny archive in the real format ----------------------------------------------------------------------

def _batch(rng, n, name):
    """One batch as the real files hold it: a dict with bytes keys (they were pickled by Python 2), b"data" a
    uint8 (n, 3072) array of red, green and blue 32x32 planes, b"labels" a list of ints."""
    return {b"batch_label": name.encode(), b"labels": [int(v) for v in rng.randint(0, 10, n)],
            b"data": rng.randint(0, 256, (n, 3072)).astype(np.uint8),
            b"filenames": [("img_%d.png" % i).encode() for i in range(n)]}


def _archive(batches, extra=None):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        # Protocol 2, as the real files; numpy 1.x (which wrote them) named its reconstructor numpy.core.multiarray.
        members = [("cifar-10-batches-py/" + name,
                    pickle.dumps(batch, protocol=2).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n"))
                   for name, batch in batches.items()]
        members.append(("cifar-10-batches-py/readme.html", b"<html></html>"))
        for name, payload in members + list(extra or []):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def _serve(served, monkeypatch, payload, sha256=None):
    (served.folder / cifar10.FILENAME).write_bytes(payload)
    monkeypatch.setattr(cifar10, "URL", served.url(cifar10.FILENAME))
    monkeypatch.setattr(cifar10, "SHA256", sha256 or hashlib.sha256(payload).hexdigest())


@pytest.fixture
def tiny_real(served, monkeypatch):
    rng = np.random.RandomState(0)
    batches = dict((name, _batch(rng, 4, name)) for name in cifar10.TRAIN_MEMBERS)
    batches["test_batch"] = _batch(rng, 3, "test_batch")
    # One known pixel: row 1, column 2 of the first training image is red 10, green 20, blue 30.
    data = batches["data_batch_1"][b"data"]
    data[0, 0 * 1024 + 1 * 32 + 2], data[0, 1 * 1024 + 1 * 32 + 2], data[0, 2 * 1024 + 1 * 32 + 2] = 10, 20, 30
    data[0, 0], data[0, 1] = 0, 255
    _serve(served, monkeypatch, _archive(batches))
    return batches


def test_load_real_downloads_parses_and_scales(tiny_real, served, tmp_path):
    cifar10.ensure("real")
    assert (tmp_path / "cache" / cifar10.FILENAME).is_file()
    served.stop()  # from here on, the verified cached copy must do

    dataset = cifar10.load("real")
    assert (dataset.name, dataset.variant) == ("cifar10", "real")
    assert (dataset.n_train, dataset.n_val) == (20, 3)
    assert dataset.x_train.shape == (20, 32, 32, 3) and dataset.x_val.shape == (3, 32, 32, 3)
    assert dataset.x_train.dtype == np.float32 and dataset.y_train.dtype == np.int32
    assert dataset.y_val.dtype == np.int32
    # Planes become channels-last: (row 1, column 2) holds the RGB triple written above.
    assert np.allclose(dataset.x_train[0, 1, 2] * 255, [10, 20, 30])
    assert dataset.x_train[0, 0, 0, 0] == 0.0 and dataset.x_train[0, 0, 1, 0] == 1.0
    # The five training batches in order, then the test batch.
    expected = np.concatenate([tiny_real[name][b"data"] for name in cifar10.TRAIN_MEMBERS])
    assert np.allclose(dataset.x_train * 255, expected.reshape(20, 3, 32, 32).transpose(0, 2, 3, 1))
    assert dataset.y_train.tolist() == sum((tiny_real[name][b"labels"] for name in cifar10.TRAIN_MEMBERS), [])
    assert dataset.y_val.tolist() == tiny_real["test_batch"][b"labels"]

    limited = cifar10.load("real", samples=10)
    assert (limited.n_train, limited.n_val) == (10, 2)


def test_real_checksum_mismatch_keeps_nothing(served, monkeypatch, tmp_path):
    rng = np.random.RandomState(1)
    payload = _archive(dict((name, _batch(rng, 2, name)) for name in cifar10.TRAIN_MEMBERS + ("test_batch",)))
    _serve(served, monkeypatch, payload, sha256=cifar10.SHA256)  # the real file's hash: this one does not match
    with pytest.raises(DataError) as info:
        cifar10.load("real")
    message = str(info.value)
    assert "\n" not in message
    assert hashlib.sha256(payload).hexdigest() in message and cifar10.SHA256 in message
    assert os.listdir(str(tmp_path / "cache")) == []


def test_real_offline_is_one_line_with_a_hint(monkeypatch, tmp_path):
    url = closed_port_url(cifar10.FILENAME)
    monkeypatch.setattr(cifar10, "URL", url)
    for call in (cifar10.ensure, cifar10.load):
        with pytest.raises(DataError) as info:
            call("real")
        message = str(info.value)
        assert "\n" not in message
        assert "could not download cifar-10-python.tar.gz from " + url in message
        assert "copy the file to " + str(tmp_path / "cache" / cifar10.FILENAME) in message
        assert message.endswith("or use --data synthetic to run without the network")


def test_the_real_url_and_hash_are_keras_s():
    assert cifar10.URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert cifar10.SHA256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


@pytest.mark.parametrize("case", ["not an archive", "missing test batch", "wrong shape", "code in the pickle"])
def test_a_broken_archive_is_a_clear_error(served, monkeypatch, case):
    rng = np.random.RandomState(2)
    batches = dict((name, _batch(rng, 2, name)) for name in cifar10.TRAIN_MEMBERS + ("test_batch",))
    if case == "not an archive":
        payload = b"this is not a gzip file"
    elif case == "missing test batch":
        del batches["test_batch"]
        payload = _archive(batches)
    elif case == "wrong shape":
        batches["data_batch_3"][b"data"] = np.zeros((2, 100), dtype=np.uint8)
        payload = _archive(batches)
    else:
        # A pickle that would call os.system when loaded: refused, never run.
        class Exploit(object):
            def __reduce__(self):
                return (os.system, ("echo pwned",))
        batches["data_batch_2"] = {b"data": Exploit(), b"labels": [0, 1]}
        payload = _archive(batches)
    _serve(served, monkeypatch, payload)
    with pytest.raises(DataError) as info:
        cifar10.load("real")
    message = str(info.value)
    assert "\n" not in message and "delete it and run again" in message
    if case == "missing test batch":
        assert "missing test_batch" in message
    if case == "code in the pickle":
        assert "refusing" in message and "system" in message


# --- small and unknown variants -----------------------------------------------------------------------------

def test_small_is_a_one_line_error_pointing_to_synthetic_and_real():
    for call in (cifar10.ensure, cifar10.load):
        with pytest.raises(DataError) as info:
            call("small")
        message = str(info.value)
        assert "\n" not in message
        assert "--data synthetic" in message and "--data real" in message


def test_small_fails_before_any_trial_on_the_command_line(tmp_path):
    from conftest import dlbench
    result = dlbench("run", "--workloads", "cifar10_vgg", "--frameworks", "torch", "--data", "small",
                     "--store", tmp_path / "s.sqlite")
    assert result.returncode == 2  # bad input: the command must change
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "--data synthetic" in lines[0] and "--data real" in lines[0]
    assert not (tmp_path / "s.sqlite").exists()  # refused before the store was opened


def test_unknown_variant_lists_the_valid_ones():
    for call in (cifar10.load, cifar10.ensure):
        with pytest.raises(DataError) as info:
            call("cifar100")
        assert "real, synthetic, small" in str(info.value)


# --- synthetic ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic():
    return cifar10.load("synthetic", seed=3)


def test_synthetic_has_the_real_shapes_types_and_value_grid(synthetic):
    d = synthetic
    assert (d.name, d.variant) == ("cifar10", "synthetic")
    assert (d.n_train, d.n_val) == (50000, 10000)
    assert d.x_train.shape == (50000, 32, 32, 3) and d.x_val.shape == (10000, 32, 32, 3)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int32 and d.y_val.dtype == np.int32
    assert d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0
    sample = d.x_train[:500] * 255
    assert np.allclose(sample, np.rint(sample), atol=1e-3)  # k / 255, as real pixels
    counts = np.bincount(d.y_train, minlength=10)
    assert len(counts) == 10 and counts.min() > 4500 and counts.max() < 5500


def test_synthetic_is_seeded_and_a_limited_set_is_a_prefix(synthetic):
    limited = cifar10.load("synthetic", samples=1000, seed=3)
    assert (limited.n_train, limited.n_val) == (1000, 200)
    assert np.array_equal(limited.x_train, synthetic.x_train[:1000])
    assert np.array_equal(limited.y_train, synthetic.y_train[:1000])
    assert np.array_equal(limited.x_val, synthetic.x_val[:200]) and np.array_equal(limited.y_val, synthetic.y_val[:200])
    again = cifar10.load("synthetic", samples=1000, seed=3)
    assert np.array_equal(again.x_train, limited.x_train) and np.array_equal(again.y_val, limited.y_val)
    other = cifar10.load("synthetic", samples=1000, seed=4)
    assert not np.array_equal(other.x_train, limited.x_train) and not np.array_equal(other.y_train, limited.y_train)
    with pytest.raises(DataError, match="at most 50000"):
        cifar10.load("synthetic", samples=50001)


def test_synthetic_is_learnable_and_survives_the_augmentation(synthetic):
    """Class means learnt from 2,000 training images classify the validation images (chance: 10%), also after
    cifar10_cnn's shifts and flips; the images are not just noise around one mean."""
    x, y = synthetic.x_train[:2000].reshape(2000, -1), synthetic.y_train[:2000]
    means = np.stack([x[y == c].mean(axis=0) for c in range(10)])

    def accuracy(images, labels):
        flat = images.reshape(len(images), -1)
        distances = (flat ** 2).sum(1)[:, None] - 2 * flat @ means.T + (means ** 2).sum(1)[None, :]
        return (distances.argmin(axis=1) == labels).mean()

    val_x, val_y = synthetic.x_val[:1000], synthetic.y_val[:1000]
    assert accuracy(val_x, val_y) > 0.95
    shifted = cifar10_cnn.augment([val_x], np.random.RandomState(0), "channels_last")[0]
    assert accuracy(shifted, val_y) > 0.8
    assert 0.05 < x.std(axis=0).mean() < 0.5  # per-pixel noise around each class's pattern


def test_class_patterns_are_distinct_and_mirror_symmetric():
    patterns = cifar10.class_patterns()
    assert patterns.shape == (10, 32, 32, 3)
    assert np.array_equal(patterns, patterns[:, :, ::-1])
    halves = patterns[:, ::8, :16:8].reshape(10, -1)  # one pixel per 8x8 block of the left half
    differing = (halves[:, None] != halves[None]).sum(-1)
    assert differing[np.triu_indices(10, 1)].min() >= 9


# --- the worker-side constraint: Python 3.6, stdlib + numpy -------------------------------------------------

_NEWER_THAN_36 = {"contextvars", "dataclasses", "graphlib", "tomllib", "zoneinfo", "importlib.metadata",
                  "importlib.resources"}


@pytest.mark.parametrize("relative", ["data/cifar10.py", "workloads/cifar10_cnn/__init__.py",
                                      "workloads/cifar10_vgg/__init__.py"])
def test_worker_side_files_parse_as_python36_and_import_only_stdlib_and_numpy(relative):
    source = (ROOT / "src" / "dlbench" / relative).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 6))  # rejects walrus, positional-only parameters, f"{x=}"
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module != "__future__", relative
            names = [node.module]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = args.args + args.kwonlyargs + [args.vararg, args.kwarg]
            assert node.returns is None and all(a.annotation is None for a in every if a is not None), node.name
        elif isinstance(node, ast.AnnAssign):
            pytest.fail("variable annotation at line {}".format(node.lineno))
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top in ("numpy", "dlbench"), name
            assert name not in _NEWER_THAN_36 and top not in _NEWER_THAN_36, name
