"""A framework is a folder (#21): what dlbench knows of one framework lives in src/dlbench/frameworks/<name>/ (its
declaration, adapter, probes, verify converter), so no other module names a framework id. This test reads every .py
file under src/dlbench/ and fails on a framework id written as a string literal ("torch", 'keras-jax') or a Keras id
prefix ("keras-", a startswith check) outside the places that may name one:
  - the framework folders (frameworks/<name>/..., frameworks/legacy/<name>/...) and the registry (frameworks/__init__.py)
  - the workload folders (workloads/, inference/: one file per framework or runtime, by design)
and the ALLOWED literals below, each with its reason. A flat shared module of frameworks/
(adapter.py, kernels.py, declaration.py, ...) is checked like any other."""
import ast
from pathlib import Path

from dlbench import frameworks

SRC = Path(__file__).resolve().parent.parent / "src" / "dlbench"
IDS = set(frameworks.FRAMEWORK_IDS)
PREFIXES = {i.split("-")[0] + "-" for i in IDS if "-" in i}  # keras-, keras2-: a family's startswith check

# (path relative to src/dlbench, literal): why it may stay.
ALLOWED = {
    ("report/probe.py", "onnxruntime"): "the package that runs an exported ONNX file to check it (onnx_check), for "
                                        "every framework's onnx probe: a package, not the framework id",
    ("suite.py", "torch"): "a user's model file's form (workloads.user_file.FORMS: keras or torch), not a framework id",
}


def exempt(relative):
    parts = relative.split("/")
    if parts[0] in ("workloads", "inference"):
        return True
    # A framework's own folder, and the registry that imports them all; the flat shared modules are checked.
    return parts[0] == "frameworks" and (len(parts) > 2 or relative == "frameworks/__init__.py")


def literals(path):
    """(line, literal) for every string constant naming a framework id or a Keras family prefix."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value in IDS or node.value in PREFIXES):
            yield node.lineno, node.value


def found():
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if exempt(relative):
            continue
        hits += [(relative, line, value) for line, value in literals(path) if (relative, value) not in ALLOWED]
    return hits


def test_no_framework_id_literal_outside_its_folder():
    hits = found()
    assert not hits, "framework ids named outside their folders (move the table into the declaration, or allow it " \
                     "in ALLOWED with the reason):\n" + "\n".join("  %s:%d %r" % hit for hit in hits)


def test_every_allowed_entry_is_still_needed():
    """An allowed literal that is gone is taken off the list, so that the list stays the exceptions there are."""
    present = set()
    for relative in set(r for r, _ in ALLOWED):
        if (SRC / relative).is_file():
            present |= {(relative, value) for _, value in literals(SRC / relative)}
    assert set(ALLOWED) <= present, sorted(set(ALLOWED) - present)
