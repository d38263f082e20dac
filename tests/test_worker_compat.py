"""The worker side must run on Python 3.6 with the standard library and numpy only (DESIGN.md)."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "dlbench"
WORKER_SIDE = [
    "__init__.py", "machine.py", "worker/__init__.py", "worker/__main__.py", "worker/protocol.py", "worker/run.py",
    "worker/noise.py", "worker/memory.py",
    "data/__init__.py", "data/mnist.py", "workloads/__init__.py", "workloads/spec.py",
    "workloads/mnist_mlp/__init__.py", "workloads/mnist_cnn/__init__.py", "workloads/mnist_hrnn/__init__.py",
    "workloads/cifar10_cnn/__init__.py", "workloads/cifar10_vgg/__init__.py", "data/cifar10.py",
    "frameworks/__init__.py", "frameworks/adapter.py", "frameworks/fault_adapter.py", "frameworks/kernels.py",
    "data/imdb.py", "workloads/imdb_bilstm/__init__.py", "workloads/imdb_fasttext/__init__.py",
    "data/babi.py", "workloads/babi_rnn/__init__.py", "workloads/imdb_gru/__init__.py",
    "data/nietzsche.py", "workloads/textgen.py", "workloads/char_lstm/__init__.py",
    "workloads/char_embed_lstm/__init__.py",
    "inference/__init__.py", "inference/resnet50_features/__init__.py", "inference/resnet50_features/weights.py",
]
ADDED_AFTER_36 = {"dataclasses", "contextvars", "importlib.metadata", "importlib.resources", "tomllib", "graphlib",
                  "zoneinfo"}


def pyenv_python36():
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
    candidates = sorted(Path(root, "versions").glob("3.6.*/bin/python")) if root else []
    return candidates[-1] if candidates else None


@pytest.mark.parametrize("relative", WORKER_SIDE)
def test_parses_as_python_36_and_imports_only_stdlib_numpy_dlbench(relative):
    source = (SRC / relative).read_text()
    tree = ast.parse(source, feature_version=(3, 6))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            assert "annotations" not in {a.name for a in node.names}, "from __future__ import annotations is 3.7+"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.returns is None and all(a.annotation is None for a in node.args.args), \
                f"{relative}:{node.lineno}: annotations may use syntax 3.6 evaluates differently"
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert name not in ADDED_AFTER_36 or "except ImportError" in source, f"{relative}: {name} is newer than 3.6"
            assert top in sys.stdlib_module_names or top in ("numpy", "dlbench"), f"{relative} imports {name}"


def test_real_python_36_compiles_the_worker_side():
    python36 = pyenv_python36()
    if python36 is None:
        pytest.skip("no Python 3.6 under pyenv on this machine")
    files = [str(SRC / relative) for relative in WORKER_SIDE]
    result = subprocess.run([str(python36), "-m", "py_compile", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_real_python_36_speaks_the_protocol(tmp_path):
    """The event writer and reader, run by a real Python 3.6: the parent must decode what it writes."""
    python36 = pyenv_python36()
    if python36 is None:
        pytest.skip("no Python 3.6 under pyenv on this machine")
    script = ("import os, sys; sys.path.insert(0, %r); from dlbench.worker.protocol import EventWriter;"
              "r, w = os.pipe(); e = EventWriter(w); e.emit('epoch', epoch=1, loss=float('nan'));"
              "e.end('diverged', error='nan'); os.close(w) if False else None;"
              "sys.stdout.write(os.read(r, 65536).decode())") % str(SRC.parent)
    result = subprocess.run([str(python36), "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    from dlbench.worker.protocol import decode
    events = [decode(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["epoch", "end"]
    assert events[0]["loss"] != events[0]["loss"]  # NaN survived the trip
    assert events[1]["status"] == "diverged"
