"""The framework registry: every framework's declaration, read from its folder.

A framework is a folder: dlbench.frameworks.<name> (torch, jax, tensorflow, keras, onnxruntime, openvino; the seed
articles' frameworks under legacy/) whose __init__.py declares it (declaration.Framework: ids, what it needs
installed, its settings, its documented features) and whose modules hold the rest, each named by the declaration:
adapter.py (training, with its layers.py and optim.py), probe.py (the feature probes, dlbench.report.probe) and
verify.py (the weight converter of `dlbench verify`). The flat modules here are shared: adapter.py (the adapters'
base), kernels.py, mxcsr.py and fault_adapter.py (tests only). Adding a framework is adding a folder
and one import below.

Nothing here imports a framework: the parent process uses this module to decide what can run, and only a worker
imports an adapter (and through it the framework). Python 3.6-safe, like the worker.

Framework ids are a contract (DESIGN.md). Compile mode, precision, layout and tier are settings of a trial,
never framework ids.
"""
import importlib
import os

from dlbench.frameworks import jax, keras, onnxruntime, openvino, tensorflow, torch
from dlbench.frameworks import declaration
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import chainer, cntk, keras2, mxnet, paddle, pytensor, theano

PRECISIONS = declaration.PRECISIONS  # read here by dlbench.suite

# The training frameworks first, then the inference-only ones (a stable sort keeps each folder's order): the order
# every listing shows.
FRAMEWORKS = dict((f.id, f) for f in sorted(
    [f for folder in (keras, torch, jax, tensorflow, onnxruntime, openvino) for f in folder.FRAMEWORKS],
    key=lambda f: f.inference_only))
# The seed articles' frameworks, each in its own environment (dlbench.frameworks.legacy).
LEGACY = [f for folder in (cntk, mxnet, theano, pytensor, chainer, paddle, keras2) for f in folder.FRAMEWORKS]
FRAMEWORKS.update((f.id, f) for f in LEGACY)

# The seed's feature table has rows for frameworks no Python worker can drive: listed, with the reason, so that the
# table keeps every row.
NOT_PYTHON = [
    ("knet", "Knet", "written in Julia: there is no Python package to run a worker in"),
    ("dl4j", "Deeplearning4j", "runs on the JVM (Java/Scala): there is no Python package to run a worker in"),
    ("matconvnet", "MatConvNet", "a MATLAB toolbox: needs MATLAB, not Python"),
    ("torch7", "Torch7", "written in Lua (LuaJIT); its successor is PyTorch, which dlbench runs as torch"),
    ("caffe", "Caffe", "no pip package: models are prototxt files run by the caffe binary, with no Python training "
                       "loop to time; its successor Caffe2 became part of PyTorch"),
]
if os.environ.get("DLBENCH_FAULTS") == "1":
    # Test-only: a framework that fails on purpose (fault_adapter.py), for the reliability tests; never listed
    # for users, because nothing else sets this variable.
    FRAMEWORKS["fault"] = Framework("fault", "Fault injection (tests only)", [], [], [], None,
                                    adapter="dlbench.frameworks.fault_adapter")
FRAMEWORK_IDS = tuple(FRAMEWORKS)
# Every module a worker checks for (worker.process.imported_frameworks), in registry order.
FRAMEWORK_MODULES = tuple(dict.fromkeys(m for f in FRAMEWORKS.values() for m in f.modules))


class UnknownFramework(ValueError):
    pass


# Names users type for a framework whose dlbench id differs (difflib alone would offer pytensor for pytorch).
ALIASES = {"pytorch": "torch", "tf": "tensorflow", "tf2": "tensorflow",
           "flax": "jax", "onnx": "onnxruntime", "ort": "onnxruntime", "paddlepaddle": "paddle"}


def did_you_mean(name, ids, aliases=None):
    """' (did you mean x?)' for a mistyped name: its alias, else the closest id; '' when none is close."""
    import difflib
    close = (aliases or {}).get(name.lower()) or next(iter(difflib.get_close_matches(name.lower(), ids, 1, 0.8)),
                                                      None)
    return " (did you mean %s?)" % close if close in ids else ""


def get(framework_id):
    if framework_id not in FRAMEWORKS:
        raise UnknownFramework("unknown framework %r%s: choose from %s" % (
            framework_id, did_you_mean(framework_id, FRAMEWORK_IDS, ALIASES), ", ".join(FRAMEWORK_IDS)))
    return FRAMEWORKS[framework_id]


def load_adapter(framework_id):
    """The adapter instance for a framework (worker side; the framework itself is imported by adapter.load)."""
    framework = get(framework_id)
    if framework.adapter is None:
        raise ValueError("%s runs inference workloads only: it has no training adapter" % framework_id)
    module = importlib.import_module(framework.adapter)
    return module.Adapter(framework)
