"""The worker side must run on Python 3.6 with the standard library and numpy only (DESIGN.md)."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlbench import frameworks

SRC = Path(__file__).resolve().parent.parent / "src" / "dlbench"
ENTRY = "dlbench.worker.__main__"  # what the parent runs: python -m dlbench.worker
ADDED_AFTER_36 = {"dataclasses", "contextvars", "importlib.metadata", "importlib.resources", "tomllib", "graphlib",
                  "zoneinfo"}


def module_path(name):
    """The source file of a dlbench module, or None where `name` is not one (an attribute, not a submodule)."""
    parts = name.split(".")[1:]
    folder = SRC.joinpath(*parts)
    for candidate in (folder / "__init__.py", folder.with_suffix(".py") if parts else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def import_time_nodes(body):
    """The statements Python runs when it imports a module: its body, into if/try/with/for blocks and class bodies,
    but not into functions (those imports run only when called: a framework imported lazily)."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from import_time_nodes(getattr(node, field, []) or [])


def imported_names(node, module, is_package):
    """The module names one import statement asks for, relative imports resolved (`from a import b` may name the
    submodule a.b: both are returned, module_path tells which exist)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    return [base] + ["%s.%s" % (base, alias.name) for alias in node.names]


def dynamic_roots():
    """The dlbench modules a worker imports by a computed name whatever its framework: every workload's package
    (workloads.get), each training workload's data loader (data.dataset_module) and each inference workload's
    canonical weights and runtimes (importlib in dlbench.worker.inference). The framework's own files (adapters,
    a workload's torch.py, ...) are left out: they run on the Python their framework needs."""
    from dlbench import workloads
    names = []
    for workload_id in workloads.WORKLOAD_IDS:
        package = workloads.get(workload_id)
        names.append(package.__name__)
        if workloads.is_inference(workload_id):
            names += [package.__name__ + ".weights", package.__name__ + ".runtimes"]
        else:
            names.append("dlbench.data." + package.SPEC.dataset)
    return names


def worker_modules():
    """Every dlbench module a trial process imports before any framework: the worker entry's import-time imports and
    the dynamic roots, followed transitively within dlbench (a module's parent packages included)."""
    found, todo = {}, [ENTRY] + dynamic_roots()
    while todo:
        name = todo.pop()
        path = module_path(name)
        if name in found or path is None:
            continue
        found[name] = path
        parent = name.rsplit(".", 1)[0]
        todo.append(parent)
        tree = ast.parse(path.read_text())
        for node in import_time_nodes(tree.body):
            todo += [n for n in imported_names(node, name, path.name == "__init__.py") if n.split(".")[0] == "dlbench"]
    return sorted(str(path.relative_to(SRC)) for path in found.values())


WORKER_SIDE = worker_modules()
# Imports inside functions run only where their framework is installed (the framework's own environment).
LAZY_ALLOWED = {package for framework in frameworks.FRAMEWORKS.values() for package in framework.packages}


def test_the_worker_side_is_discovered_from_its_imports():
    """A sanity check of the discovery itself: the entry, both trial protocols, the registries and the modules a
    hand-kept list once left out are found."""
    for relative in ("worker/__main__.py", "worker/run.py", "worker/training.py", "worker/inference.py",
                     "worker/protocol.py", "worker/memory.py", "workloads/flops.py", "workloads/layers.py",
                     "environments.py", "frameworks/adapter.py", "frameworks/declaration.py",
                     "frameworks/torch/__init__.py", "frameworks/legacy/cntk/__init__.py",
                     "data/mnist.py", "workloads/cifar10_vgg/__init__.py", "inference/resnet50_features/weights.py"):
        assert relative in WORKER_SIDE
    assert not any(path.endswith(("torch.py", "_adapter.py", "cli.py", "store.py")) for path in WORKER_SIDE)
    # A framework folder's declaration (its __init__.py) is worker side; its adapter, layers and optimizer rules are not.
    assert not [path for path in WORKER_SIDE if path.startswith("frameworks/") and path.count("/") > 1
                and not path.endswith("/__init__.py")]


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
    at_import = set(map(id, import_time_nodes(tree.body)))
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
            allowed = ("numpy", "dlbench") if id(node) in at_import else ("numpy", "dlbench", *LAZY_ALLOWED)
            assert top in sys.stdlib_module_names or top in allowed, f"{relative} imports {name}"


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
