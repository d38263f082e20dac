"""Feature probes that run INSIDE a subprocess, one per framework: `python -m dlbench.report.probe FRAMEWORK_ID`.

This module imports the framework it probes, so the parent process never imports it: dlbench.report.features starts
it with a timeout and reads its answers. Each answer is one line on stdout, `DLBENCH-PROBE {json}`, printed as soon
as it is known, so that a probe that hangs or crashes still leaves the answers before it.

Every probe runs a tiny real computation and checks its result; an answer is
  {"feature": ..., "value": "yes" | "no" | "partly" | "unknown" | <a number>, "detail": what was run or what failed}.
"""
import importlib
import importlib.util
import json
import os
import re
import sys
import traceback

import numpy as np

from dlbench import frameworks

MARKER = "DLBENCH-PROBE "
FEATURES = ("autodiff", "jit", "bf16", "onnx", "gpus", "keras_backend")


def emit(feature, value, detail="", error=None):
    answer = {"feature": feature, "value": value, "detail": detail}
    if error:
        answer["error"] = error
    sys.stdout.write(MARKER + json.dumps(answer) + "\n")
    sys.stdout.flush()


def one_line(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0][:200] if text else "")


def missing_package(exc):
    """The package an exporter says it needs, from the exception (ModuleNotFoundError.name, or its message)."""
    for error in _chain(exc):
        name = getattr(error, "name", None)
        if isinstance(error, ImportError) and name:
            return name.split(".")[0]
        text = str(error)
        for pattern in (r"pip install [`'\"]?([A-Za-z0-9_.\-]+)", r"[Mm]odule '?([A-Za-z0-9_.\-]+)'? is not installed",
                        r"No module named '([A-Za-z0-9_.\-]+)'", r"requires the ([A-Za-z0-9_.\-]+) module"):
            found = re.search(pattern, text)
            if found:
                return found.group(1).split(".")[0]
    return None


def _chain(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def probe(feature, function):
    """Run one probe; whatever it raises becomes an honest answer instead of ending the others."""
    error = None
    try:
        value, detail = function()
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never crashes the others
        error = one_line(exc)
        needed = missing_package(exc) if feature == "onnx" else None
        if needed:
            value, detail = "no", "needs %s" % needed  # the exporter is not installed: that is the answer
        else:
            value, detail = "no", error
            sys.stderr.write(traceback.format_exc())
    emit(feature, value, detail, error)


def close(a, b, tolerance=1e-4):
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), atol=tolerance,
                       rtol=tolerance)


# A tiny model used by every probe: y = relu(x W1 + b1) W2 + b2, with fixed weights, so every framework computes
# the same numbers and the answer can be checked against NumPy.
RNG = np.random.RandomState(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
W1 = RNG.standard_normal((4, 8)).astype(np.float32)
B1 = RNG.standard_normal((8,)).astype(np.float32)
W2 = RNG.standard_normal((8, 2)).astype(np.float32)
B2 = RNG.standard_normal((2,)).astype(np.float32)
EXPECTED = np.maximum(X @ W1 + B1, 0) @ W2 + B2
# d/dx sum(x^3) = 3 x^2
GRAD_X = np.array([1.0, 2.0, -0.5], dtype=np.float32)
GRAD_EXPECTED = 3 * GRAD_X ** 2


def onnx_check(path):
    """After an export: run the file with onnxruntime when it is installed, otherwise say it was not verified."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return "no", "the exporter wrote no file"
    if importlib.util.find_spec("onnxruntime") is None:
        return "yes", "exported %d bytes (not run: onnxruntime is not installed)" % os.path.getsize(path)
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = session.run(None, {name: X})[0]
    if close(out, EXPECTED, 1e-3):
        return "yes", "exported and run by onnxruntime: outputs match"
    return "no", "exported, but onnxruntime's outputs differ"


def probes_for(framework_id):
    """(feature, function) pairs for one framework: its declaration names its probe module (<package>.probe), whose
    probes(framework) imports the framework."""
    framework = frameworks.get(framework_id)
    if framework.probe is None:
        raise ValueError("%s has no feature probes" % framework_id)
    return importlib.import_module(framework.probe).probes(framework)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: python -m dlbench.report.probe FRAMEWORK_ID\n")
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        probes = probes_for(argv[1])
    except Exception as exc:  # noqa: BLE001 - the framework does not even import
        emit("import", "no", one_line(exc))
        return 1
    emit("import", "yes", "")
    for feature, function in probes:
        probe(feature, function)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
