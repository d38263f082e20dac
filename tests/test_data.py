"""Tests for dlbench.data: the shipped MNIST files, the download cache (against a real local HTTP server, never
the network), and the Python 3.6 / stdlib+numpy constraint of the worker-side modules."""
import ast
import functools
import gzip
import hashlib
import http.server
import io
import os
import socket
import struct
import sys
import threading

import numpy as np
import pytest

import dlbench.data as data
from dlbench.data import DataError, Dataset, cache_dir, fetch, limit
from dlbench.data import mnist


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache, so that nothing here reads or writes the user's real one."""
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path / "cache"))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    """A real HTTP server on an ephemeral 127.0.0.1 port, serving one folder from a thread."""

    def __init__(self, folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        serve = functools.partial(self.httpd.serve_forever, poll_interval=0.05)  # quick to shut down
        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        self.running = True

    def url(self, name):
        return "http://127.0.0.1:{}/{}".format(self.httpd.server_address[1], name)

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.running = False


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    server = Server(folder)
    server.folder = folder
    yield server
    server.stop()


def closed_port_url(name):
    """A URL on a 127.0.0.1 port that nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:{}/{}".format(port, name)


# --- cache_dir ----------------------------------------------------------------------------------------------

def test_cache_dir_prefers_dlbench_cache_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBENCH_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == str(tmp_path / "explicit")
    assert (tmp_path / "explicit").is_dir()

    monkeypatch.delenv("DLBENCH_CACHE")
    assert cache_dir() == str(tmp_path / "xdg" / "dlbench")

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == str(tmp_path / "home" / ".cache" / "dlbench")
    assert (tmp_path / "home" / ".cache" / "dlbench").is_dir()


def test_one_cache_variable_and_the_old_one_still_read_with_a_warning(tmp_path):
    """DLBENCH_CACHE names dlbench's one cache folder (downloads and the report's feature probes); the probes' old
    DLBENCH_CACHE_DIR still counts, with one line saying so."""
    import subprocess
    script = ("from dlbench.data import cache_folder; from dlbench.report.features import cache_path; "
              "print(cache_folder()); print(cache_path())")
    old = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=dict(os.environ, DLBENCH_CACHE_DIR=str(tmp_path / "old"), DLBENCH_CACHE=""))
    assert old.stdout.split() == [str(tmp_path / "old"), str(tmp_path / "old" / "features.json")]
    assert old.stderr == "dlbench: DLBENCH_CACHE_DIR is deprecated: set DLBENCH_CACHE instead (the same folder)\n"
    new = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=dict(os.environ, DLBENCH_CACHE_DIR=str(tmp_path / "old"), DLBENCH_CACHE=str(tmp_path)))
    assert new.stdout.split() == [str(tmp_path), str(tmp_path / "features.json")] and new.stderr == ""


# --- fetch --------------------------------------------------------------------------------------------------

def test_fetch_downloads_verifies_then_uses_the_cache(served, tmp_path):
    payload = os.urandom(3 * (1 << 20) + 17)  # several download chunks
    (served.folder / "blob.bin").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()

    path = fetch(served.url("blob.bin"), "blob.bin", digest)
    assert path == str(tmp_path / "cache" / "blob.bin")
    assert open(path, "rb").read() == payload
    assert os.listdir(str(tmp_path / "cache")) == ["blob.bin"]  # no temporary file left behind

    served.stop()  # the second call cannot reach the network: it must use the cached file
    assert fetch(served.url("blob.bin"), "blob.bin", digest.upper()) == path


def test_fetch_rejects_a_wrong_checksum_and_keeps_nothing(served, tmp_path):
    (served.folder / "blob.bin").write_bytes(b"not what was promised")
    wrong = "0" * 64
    with pytest.raises(DataError) as info:
        fetch(served.url("blob.bin"), "blob.bin", wrong)
    message = str(info.value)
    assert wrong in message and sha256(served.folder / "blob.bin") in message
    assert os.listdir(str(tmp_path / "cache")) == []


def test_fetch_unreachable_url_gives_a_one_line_error_with_the_hint():
    url = closed_port_url("mnist.npz")
    with pytest.raises(DataError) as info:
        fetch(url, "mnist.npz", "0" * 64, timeout=5, hint="use --data small instead")
    message = str(info.value)
    assert "\n" not in message
    assert "could not download mnist.npz from " + url in message
    assert "refused" in message.lower()
    assert message.endswith(": use --data small instead")
    assert os.listdir(cache_dir()) == []


def test_fetch_http_error_names_the_status_and_default_hint_names_the_path(served, tmp_path):
    with pytest.raises(DataError) as info:
        fetch(served.url("missing.bin"), "missing.bin", "0" * 64)
    message = str(info.value)
    assert "HTTP 404" in message
    assert message.endswith("copy the file to " + str(tmp_path / "cache" / "missing.bin"))
    assert os.listdir(str(tmp_path / "cache")) == []


def test_fetch_replaces_a_corrupt_cached_file(served, tmp_path):
    payload = b"the real thing" * 1000
    (served.folder / "blob.bin").write_bytes(payload)
    cached = tmp_path / "cache" / "blob.bin"
    cached.parent.mkdir()
    cached.write_bytes(payload[:100])  # e.g. an interrupted copy by hand

    path = fetch(served.url("blob.bin"), "blob.bin", hashlib.sha256(payload).hexdigest())
    assert path == str(cached)
    assert cached.read_bytes() == payload


def test_data_error_is_always_one_line():
    assert str(DataError("first line\nsecond line:  do this")) == "first line second line: do this"


# --- Dataset and limit --------------------------------------------------------------------------------------

def _toy(n_train, n_val):
    return Dataset(np.arange(n_train), np.arange(n_train), np.arange(n_val), np.arange(n_val), "toy", "test")


def test_limit_keeps_proportional_prefixes():
    small = _toy(8000, 2000)
    limited = limit(small, 4000)
    assert (limited.n_train, limited.n_val) == (4000, 1000)
    assert (limited.name, limited.variant) == ("toy", "test")
    assert np.array_equal(limited.x_train, np.arange(4000)) and np.array_equal(limited.y_val, np.arange(1000))
    assert (small.n_train, small.n_val) == (8000, 2000)  # the original is untouched
    assert limit(small, None) is small
    assert limit(small, 8000).n_val == 2000
    assert limit(small, 1).n_val == 1  # 0.25 rounds to 0, but validation needs at least one row


def test_limit_rejects_more_samples_than_there_are():
    with pytest.raises(DataError, match="at most 8000"):
        limit(_toy(8000, 2000), 8001)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(DataError):
            limit(_toy(8000, 2000), bad)


# --- the shipped "small" variant ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    return mnist.load("small")


def test_small_shapes_dtypes_and_range(small):
    assert (small.name, small.variant) == ("mnist", "small")
    assert (small.n_train, small.n_val) == (8000, 2000)
    assert small.x_train.shape == (8000, 28, 28) and small.x_val.shape == (2000, 28, 28)
    assert small.y_train.shape == (8000,) and small.y_val.shape == (2000,)
    assert small.x_train.dtype == np.float32 and small.x_val.dtype == np.float32
    assert small.y_train.dtype == np.int32 and small.y_val.dtype == np.int32
    for x in (small.x_train, small.x_val):
        assert x.min() == 0.0 and x.max() == 1.0


def test_small_is_real_handwriting(small):
    # Every digit about a tenth of the data (MNIST's rarest digit, 5, is ~9%).
    for labels, n in ((small.y_train, 8000), (small.y_val, 2000)):
        counts = np.bincount(labels, minlength=10)
        assert len(counts) == 10
        assert counts.min() > 0.07 * n and counts.max() < 0.13 * n
    # MNIST's mean pixel is ~0.13 (mostly black background); uniform noise would give 0.5.
    assert 0.12 < small.x_train.mean() < 0.145 and 0.12 < small.x_val.mean() < 0.145
    # Backgrounds: the border pixels are black in nearly every real digit.
    assert small.x_train[:, 0, :].mean() < 0.01
    # Label and image agree: the mean "1" has much less ink than the mean "0".
    ink = [small.x_train[small.y_train == digit].mean() for digit in range(10)]
    assert ink[1] < 0.6 * ink[0]


def test_small_is_deterministic(small):
    again = mnist.load("small")
    assert np.array_equal(again.x_train, small.x_train) and np.array_equal(again.y_val, small.y_val)


def test_load_small_with_samples(small):
    limited = mnist.load("small", samples=4000)
    assert (limited.n_train, limited.n_val) == (4000, 1000)
    assert np.array_equal(limited.x_train, small.x_train[:4000])
    with pytest.raises(DataError, match="at most 8000"):
        mnist.load("small", samples=9000)


# --- the IDX parser -----------------------------------------------------------------------------------------

def _write_idx(path, magic, shape, data, compress=True):
    raw = struct.pack(">I", magic) + struct.pack(">" + "I" * len(shape), *shape) + bytes(data)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return str(path)


def test_read_idx_parses_a_valid_file(tmp_path):
    path = _write_idx(tmp_path / "ok.gz", 2051, (2, 3, 4), range(24))
    array = mnist.read_idx(path, 2051)
    assert array.shape == (2, 3, 4) and array.dtype == np.uint8
    assert array[1, 2, 3] == 23


@pytest.mark.parametrize("case", ["wrong magic", "truncated data", "extra data", "short header", "not gzip",
                                  "truncated gzip", "missing"])
def test_read_idx_rejects_broken_files(tmp_path, case):
    path = tmp_path / "broken.gz"
    if case == "wrong magic":
        _write_idx(path, 2049, (2, 3, 4), range(24))
    elif case == "truncated data":
        _write_idx(path, 2051, (2, 3, 4), range(20))
    elif case == "extra data":
        _write_idx(path, 2051, (2, 3, 4), range(25))
    elif case == "short header":
        path.write_bytes(gzip.compress(struct.pack(">II", 2051, 2)))
    elif case == "not gzip":
        _write_idx(path, 2051, (2, 3, 4), range(24), compress=False)
    elif case == "truncated gzip":
        path.write_bytes(gzip.compress(bytes(2000))[:-30])
    with pytest.raises(DataError) as info:
        mnist.read_idx(str(path), 2051)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_small_fails_cleanly_when_the_shipped_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "FILES_DIR", str(tmp_path))
    with pytest.raises(DataError):
        mnist.ensure("small")
    with pytest.raises(DataError):
        mnist.load("small")
    mnist.ensure("synthetic")  # generated: needs no files


# --- synthetic ----------------------------------------------------------------------------------------------

def test_synthetic_shapes_and_seeding():
    a = mnist.load("synthetic", seed=3)
    assert (a.n_train, a.n_val) == (60000, 10000)
    assert a.x_train.shape == (60000, 28, 28) and a.x_train.dtype == np.float32
    assert a.y_train.dtype == np.int32 and set(np.unique(a.y_train)) == set(range(10))
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    assert 0.49 < a.x_train.mean() < 0.51  # uniform, unlike real digits

    b = mnist.load("synthetic", seed=3, samples=1000)
    assert (b.n_train, b.n_val) == (1000, 167)
    assert np.array_equal(b.x_train, a.x_train[:1000]) and np.array_equal(b.y_val, a.y_val[:167])
    c = mnist.load("synthetic", seed=4, samples=1000)
    assert not np.array_equal(c.x_train, b.x_train)


def test_unknown_variant_lists_the_valid_ones():
    for call in (mnist.load, mnist.ensure):
        with pytest.raises(DataError) as info:
            call("fashion")
        assert "real, synthetic, small" in str(info.value)


# --- real (a tiny mnist.npz served locally) -----------------------------------------------------------------

@pytest.fixture
def tiny_real(served, monkeypatch):
    rng = np.random.RandomState(0)
    arrays = dict(x_train=rng.randint(0, 256, (50, 28, 28)).astype(np.uint8),
                  y_train=rng.randint(0, 10, 50).astype(np.uint8),
                  x_test=rng.randint(0, 256, (10, 28, 28)).astype(np.uint8),
                  y_test=rng.randint(0, 10, 10).astype(np.uint8))
    arrays["x_train"][0, 0, 0], arrays["x_train"][0, 0, 1] = 0, 255
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    (served.folder / "mnist.npz").write_bytes(buffer.getvalue())
    monkeypatch.setattr(mnist, "URL", served.url("mnist.npz"))
    monkeypatch.setattr(mnist, "SHA256", hashlib.sha256(buffer.getvalue()).hexdigest())
    return arrays


def test_load_real_downloads_and_scales(tiny_real, served, tmp_path):
    mnist.ensure("real")
    assert (tmp_path / "cache" / "mnist.npz").is_file()
    served.stop()  # from here on, the cached copy must do

    dataset = mnist.load("real")
    assert (dataset.name, dataset.variant) == ("mnist", "real")
    assert (dataset.n_train, dataset.n_val) == (50, 10)
    assert dataset.x_train.shape == (50, 28, 28) and dataset.x_val.shape == (10, 28, 28)
    assert dataset.x_train.dtype == np.float32 and dataset.y_train.dtype == np.int32
    assert dataset.x_train[0, 0, 0] == 0.0 and dataset.x_train[0, 0, 1] == 1.0
    assert np.allclose(dataset.x_val * 255, tiny_real["x_test"])
    assert np.array_equal(dataset.y_train, tiny_real["y_train"])

    limited = mnist.load("real", samples=25)
    assert (limited.n_train, limited.n_val) == (25, 5)


def test_load_real_offline_suggests_the_shipped_data(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist, "URL", closed_port_url("mnist.npz"))
    with pytest.raises(DataError) as info:
        mnist.load("real")
    message = str(info.value)
    assert "\n" not in message
    assert "copy the file to " + str(tmp_path / "cache" / "mnist.npz") in message
    assert "--data small" in message


# --- the worker-side constraint: Python 3.6, stdlib + numpy -------------------------------------------------

# Standard-library modules that Python 3.6 does not have yet.
_NEWER_THAN_36 = {"contextvars", "dataclasses", "graphlib", "tomllib", "zoneinfo", "importlib.metadata",
                  "importlib.resources"}


@pytest.mark.parametrize("module", [data, mnist], ids=["data", "mnist"])
def test_worker_modules_parse_as_python36_and_import_only_stdlib_and_numpy(module):
    source = open(module.__file__, encoding="utf-8").read()
    # Rejects walrus, positional-only parameters and f"{x=}"; not annotations, which are checked below.
    tree = ast.parse(source, feature_version=(3, 6))

    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "absolute imports only"
            imported.add(node.module)
            if node.module == "__future__":
                assert "annotations" not in [alias.name for alias in node.names]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # No annotations at all keeps clear of `list[int]` and `X | None`, which 3.6 cannot evaluate.
            args = node.args
            every = args.args + args.kwonlyargs + [args.vararg, args.kwarg]
            assert node.returns is None and all(a.annotation is None for a in every if a is not None), node.name
        elif isinstance(node, ast.AnnAssign):
            pytest.fail("variable annotation at line {}".format(node.lineno))

    for name in imported:
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or top in ("numpy", "dlbench"), name
        assert name not in _NEWER_THAN_36 and top not in _NEWER_THAN_36, name
