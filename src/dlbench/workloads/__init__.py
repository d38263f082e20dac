"""The workload registry: which workloads exist and which frameworks implement each, found without importing any
framework (a framework's version of a workload is a file beside the workload's spec).

Each workload is a package: __init__.py holds SPEC and `splits(dataset)`; keras.py, torch.py, jax.py and
tensorflow.py hold the same model written for each framework, side by side (and the legacy frameworks' files:
cntk.py, mxnet.py, theano.py, pytensor.py, chainer.py, paddle.py, keras2.py for Keras 2 on its three backends).
"""
import importlib
import os

_HERE = os.path.dirname(os.path.abspath(__file__))

# Every sub-package is a training workload: adding its folder is what registers it.
TRAINING_IDS = tuple(sorted(name for name in os.listdir(_HERE)
                            if os.path.isfile(os.path.join(_HERE, name, "__init__.py"))))
# Inference workloads live in dlbench.inference (their own package: one model, many runtimes); each lists the
# framework ids that run it, inference-only ones included (keras-openvino, onnxruntime, openvino).
INFERENCE = {
    "resnet50_features": ("dlbench.inference.resnet50_features",
                          ("keras-jax", "keras-tensorflow", "keras-torch", "keras-openvino", "torch", "jax",
                           "tensorflow", "onnxruntime", "openvino")),
}
WORKLOAD_IDS = tuple(sorted(TRAINING_IDS + tuple(INFERENCE)))



def framework_files():
    """{framework id: the file of a workload package that implements it}, from each framework's declaration (Keras 3
    is one file for three backends; the legacy frameworks' files are Python 3.6-safe where their environment is)."""
    from dlbench.frameworks import FRAMEWORKS
    return dict((f.id, f.workload_file) for f in FRAMEWORKS.values() if f.workload_file)


class UnknownWorkload(ValueError):
    pass


# A user's own model files of this process (`dlbench run --model`), by workload id (model:<stem>): registered by the
# parent from the file and by the worker from its trial, each a workload-like object (user_model.UserWorkload).
USER_MODELS = {}
_PACKAGES = {}  # workload id -> its PackageWorkload, made once


def use_model_file(described):
    """Register a model file read by user_file.read (the dict a trial carries); returns its workload id."""
    from dlbench.workloads.user_model import UserWorkload
    USER_MODELS[described["workload_id"]] = UserWorkload(described)
    return described["workload_id"]


def get(workload_id):
    """The workload (spec.Workload: its package's SPEC, splits and hooks); raises UnknownWorkload naming the valid
    ids."""
    if workload_id in USER_MODELS:
        return USER_MODELS[workload_id]
    if workload_id not in WORKLOAD_IDS:
        from dlbench.frameworks import did_you_mean
        raise UnknownWorkload("unknown workload %r%s: choose from %s" % (
            workload_id, did_you_mean(workload_id, WORKLOAD_IDS), ", ".join(WORKLOAD_IDS)))
    if workload_id not in _PACKAGES:
        from dlbench.workloads.spec import PackageWorkload
        name = INFERENCE[workload_id][0] if workload_id in INFERENCE else "dlbench.workloads." + workload_id
        _PACKAGES[workload_id] = PackageWorkload(importlib.import_module(name))
    return _PACKAGES[workload_id]


def model_layers(workload_id, hp=None):
    """The model's declared layers (its `model_layers(hp)`: dlbench.workloads.layers), or None for a workload without
    them (the inference workloads). hp defaults to the spec's; it may also be a plain dict (a run's stored
    env["hyperparameters"]). imdb_fasttext's spec leaves max_features to the data: pass hyper(dataset)."""
    from dlbench.workloads.spec import Hyper
    module = get(workload_id)
    if is_inference(workload_id):
        return None
    if isinstance(hp, dict):
        hp = Hyper(**hp)
    return module.model_layers(module.SPEC.hp if hp is None else hp)


def is_inference(workload_id):
    return workload_id in INFERENCE


def implementations(workload_id):
    """Framework ids with a version of this workload, in registry order (plus the test-only fault framework,
    which runs any workload, when the tests have enabled it)."""
    from dlbench import frameworks
    if workload_id in INFERENCE:
        return list(INFERENCE[workload_id][1])
    if workload_id in USER_MODELS:
        return list(USER_MODELS[workload_id].frameworks)
    folder = os.path.join(_HERE, workload_id)
    found = [fw for fw, stem in framework_files().items() if os.path.exists(os.path.join(folder, stem + ".py"))]
    return found + (["fault"] if "fault" in frameworks.FRAMEWORKS else [])


def framework_module(workload_id, framework_id):
    """Import the workload's version for one framework (only inside a worker: it imports the framework)."""
    if workload_id in USER_MODELS:
        return USER_MODELS[workload_id].framework_module(framework_id)
    stem = framework_files().get(framework_id)
    if stem is None:
        return None  # the fault framework brings its own model
    return importlib.import_module("dlbench.workloads.%s.%s" % (workload_id, stem))
