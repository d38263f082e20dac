import contextlib
import fcntl
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dlbench import frameworks

ROOT = Path(__file__).resolve().parent.parent
# The six training frameworks of dlbench's own environment. The workload tests name them rather than `all`, which
# also takes the legacy frameworks in their own environments (tests/test_legacy.py covers those).
MODERN = ("keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow")
IN_CI = os.environ.get("CI", "").lower() == "true"
# The command line's output under test is what a pipe gets: pytest-xdist's workers set COLUMNS to the terminal's.
os.environ.pop("COLUMNS", None)


def pytest_configure(config):
    """The frameworks' compilation caches, one folder per test run, shared by its processes: the xdist workers
    inherit the variables from this (the controlling) process, and the trials they start inherit them from them. A
    program that many tests compile (an initializer, mnist_mlp's step) is compiled once per run; the folder goes when
    the run ends, so a run's time never depends on an earlier one (torch.compile's own default, a folder in /tmp
    kept between runs, would make it so). A benchmark keeps JAX's default (no cache): its first epoch includes the
    compilation a user waits for."""
    if not hasattr(config, "workerinput") and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        config.caches = tempfile.mkdtemp(prefix="dlbench-tests-caches-")
        os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(config.caches, "jax")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(config.caches, "torchinductor")
        # Every program, not only those that took a second to compile (JAX's default): most of a short trial's
        # compilations are small (initializers, a scan's step), and a second run of mnist_hrnn's two JAX trials
        # took 16 s of CPU with them cached against 24 s without.
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"


def pytest_unconfigure(config):
    if getattr(config, "caches", None):
        shutil.rmtree(config.caches, ignore_errors=True)
        for name in ("JAX_COMPILATION_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR",
                     "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"):
            os.environ.pop(name, None)


@functools.lru_cache(maxsize=None)
def one_torch_thread():
    """The test process's own torch work (reference models, text sampling, short native training) runs one thread,
    as the trials it starts do: at torch's default, a thread per core, its OpenMP threads spin beside the other test
    process's trial (test_an_untrained_model_generates_garbage[char_lstm]: 37 s in CI, 2.4 s alone). The trials are
    processes of their own, with their own thread settings: this changes none of them."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def pytest_runtest_setup(item):
    one_torch_thread()


# The test files that take longest, longest first (seconds of CI's last run): xdist hands each process a file at a
# time in this order (--no-loadscope-reorder in the Makefile), so that no long file starts when the other process
# is about to run out of work. Unlisted files follow in their usual order.
LONGEST_FIRST = ["test_verify", "test_legacy", "test_workload_mnist_cnn_hrnn", "test_tiers", "test_workload_babi_gru",
                 "test_workload_cifar10", "test_workload_gpt", "test_workload_char", "test_inference_run",
                 "test_workload_imdb", "test_transformer_precision", "test_ray", "test_integration",
                 "test_user_model", "test_precision", "test_reliability", "test_workload_transformer",
                 "test_report_browser", "test_rnn_launches", "test_cli", "test_resnet50_features", "test_stats"]


def pytest_collection_modifyitems(items):
    rank = dict((name, i) for i, name in enumerate(LONGEST_FIRST))
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: a file's tests keep their order


def require_framework(framework_id):
    """Skip when a framework is missing on a developer's machine; under CI=true a missing core framework is a
    failure, never a skip (DESIGN.md)."""
    missing = frameworks.get(framework_id).missing()
    if missing:
        message = f"{framework_id} is not installed (missing {', '.join(missing)})"
        if IN_CI:
            pytest.fail(message + " and CI=true: the CI environment must install every core framework")
        pytest.skip(message)


# A one-thread trial pins itself to the lowest CPU its process may use (worker/process.py), so the one-thread runs of
# two xdist workers would share CPU 0 while CPU 1 idles: worker gwN's leave out the N lowest CPUs (gw0's keep all).
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
ONE_THREAD_CPUS = CPUS[int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]) % len(CPUS):] if CPUS else []


def one_thread(args):
    """Whether a command line's trials run one thread each (`--threads 1`; verify's workers by default)."""
    args = [str(a) for a in args]
    if "--threads" in args:
        return args[args.index("--threads") + 1] == "1"
    return args[:1] == ["verify"]


def dlbench(*args, cwd=None, timeout=900):
    """Run the real command line in a subprocess, as a user would (its one-thread trials on this test process's
    CPU: ONE_THREAD_CPUS)."""
    cpus = ONE_THREAD_CPUS if one_thread(args) and ONE_THREAD_CPUS != CPUS else None
    return subprocess.run([sys.executable, "-m", "dlbench.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)


def made_once(tmp_path_factory, name, make):
    """A folder made once per test run, not once per xdist process: the first process to ask calls make(folder)
    under a lock in the run's shared temporary folder, the others wait for it and reuse what it made. A make that
    failed leaves nothing to reuse: the next process to ask makes it again (and fails with its own message)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each xdist process has its own folder inside the run's
    folder = root / name
    with open(root / (name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released as the file closes
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder


def made_store(tmp_path_factory, name, *arguments):
    """A store made once per test run by `dlbench run ARGUMENTS --store` (made_once); tests read it, and a test that
    changes one works on a copy (copy_store)."""
    def make(folder):
        result = dlbench("run", *arguments, "--store", folder / "store.sqlite", timeout=1500)
        assert result.returncode == 0, result.stderr[-3000:]
    return made_once(tmp_path_factory, name, make) / "store.sqlite"


# Small real stores, made once per test run by the real CLI and shared. Training: torch on synthetic mnist_mlp, 2
# repeats of 2 epochs (~15 s); inference: resnet50_features in torch and ONNX Runtime (exported from torch), 2 images
# at batch size 1, 2 repeats (~30 s).
@pytest.fixture(scope="session")
def training_store(tmp_path_factory):
    require_framework("torch")
    return made_store(tmp_path_factory, "training-store", "--frameworks", "torch", "--workloads", "mnist_mlp",
                      "--data", "synthetic", "--samples", 512, "--epochs", 2, "--repeats", 2, "--threads", 1)


@pytest.fixture(scope="session")
def inference_store(tmp_path_factory):
    require_framework("torch")
    require_framework("onnxruntime")
    return made_store(tmp_path_factory, "inference-store", "--workloads", "resnet50_features", "--frameworks",
                      "torch,onnxruntime", "--compile", "none", "--device", "cpu", "--samples", 2, "--batch-size", 1,
                      "--epochs", 2, "--threads", 1, "--repeats", 2)


def copy_store(path, folder):
    """A copy of a store (WAL checkpointed first) that a test may change."""
    import sqlite3
    target = Path(folder) / Path(path).name
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    return target


@contextlib.contextmanager
def tmpfs(folder, options):
    """A real tmpfs mounted at `folder` with mount options (e.g. "ro,size=64k", "size=1m"): a read-only or a small
    file system for the tests of paths and full disks. Needs root, else the test skips."""
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
