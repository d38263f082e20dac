"""A user's model file as a workload: the same shape as a bundled workload package (SPEC, splits, a module per
framework with build()), so that the worker and the adapters run it through their own code, timing loop included.

The parent registers one (dlbench.workloads.use_model_file) from what it read statically (user_file.read); only the
worker executes the file, as the user's own code, from the source the trial carries. A mistake in the file ends the
trial failed with one line (UserModelError) and the traceback's last lines stored beside it.
"""
import linecache
import traceback
import types

import numpy as np

from dlbench.workloads.spec import Hyper, Split, Workload, WorkloadSpec
from dlbench.workloads.user_file import FORMS, WHAT_BUILD_RETURNS


class UserModelError(Exception):
    """The user's file did something dlbench cannot run: one line naming the file and what it must do."""

    says_it_all = True  # the trial's error is this message, without the class name (worker.process.one_line)

    def __init__(self, message, cause=None):
        Exception.__init__(self, message)
        # What the trial stores as its detail: the traceback of the user's own code, its last lines at the end; for a
        # wrong value the file returned, where dlbench found it.
        self.detail = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__) if cause else
                              traceback.format_stack()[-6:-1] + [message + "\n"])


class UserWorkload(Workload):
    def __init__(self, described):
        self.described = described
        self.name = described["name"] + ".py"
        self.frameworks = FORMS[described["form"]]
        self.SPEC = WorkloadSpec(id=described["workload_id"], source="model file %s" % described["path"],
                                 dataset=None, batch_size=described["batch_size"], epochs=described["epochs"],
                                 params=None, trainable_params=None, hp=Hyper(), optimizer=None,
                                 reference="the user's own model")
        self._module = None
        self.train = None  # the training split, once laid out: the fit probes read it

    def model_layers(self, hp):
        return None  # no declared layers: no FLOPs figure

    def module(self):
        """The file executed as a module (once), as the user's own code."""
        if self._module is None:
            path, source = self.described["path"], self.described["source"]
            # Tracebacks show the file's lines from the trial's copy, on a node that has no file at that path too.
            linecache.cache[path] = (len(source), None, source.splitlines(True), path)
            module = types.ModuleType("dlbench_user_model_" + self.described["name"])
            module.__file__ = path
            self.call(lambda: exec(compile(source, path, "exec"), module.__dict__), "running the file")
            self._module = module
        return self._module

    def call(self, function, what):
        try:
            return function()
        except UserModelError:
            raise
        except Exception as exc:
            message = (str(exc).strip().splitlines() or [""])[0]
            raise UserModelError("%s: %s raised %s: %s" % (self.name, what, type(exc).__name__, message), exc)

    def build(self):
        return self.call(self.module().build, "build()")

    def load_dataset(self, settings):
        """data()'s arrays, checked, as ((x_train, y_train), (x_val, y_val)) of lists; --samples keeps the first
        samples of the training set and the validation set in proportion."""
        result = self.call(self.module().data, "data()")
        try:
            (x_train, y_train), (x_val, y_val) = result
        except (TypeError, ValueError):
            raise UserModelError("%s: data() returned %s: it must return ((x_train, y_train), (x_val, y_val))"
                                 % (self.name, type(result).__name__))
        parts = [arrays(part, which, self.name) for part, which in
                 ((x_train, "x_train"), (y_train, "y_train"), (x_val, "x_val"), (y_val, "y_val"))]
        if settings.samples:
            n_train, n_val = len(parts[0][0]), len(parts[2][0])
            keep_val = max(1, int(round(n_val * min(settings.samples, n_train) / float(n_train))))
            parts = [[a[:settings.samples] for a in parts[0]], [a[:settings.samples] for a in parts[1]],
                     [a[:keep_val] for a in parts[2]], [a[:keep_val] for a in parts[3]]]
        return parts

    def splits(self, dataset, layout):
        x_train, y_train, x_val, y_val = dataset
        try:
            train, val = Split(x_train, y_train), Split(x_val, y_val)
        except ValueError as exc:
            raise UserModelError("%s: data(): the arrays of a split must hold the same number of samples (%s)"
                                 % (self.name, exc))
        self.train = train
        return train, val

    def framework_module(self, framework_id):
        return KerasModule(self) if self.described["form"] == "keras" else TorchModule(self)


def arrays(part, which, name):
    """One array, or a tuple/list of them (several inputs or outputs), as a list of NumPy arrays: float64 becomes
    float32 (what every framework trains in), integer labels int64 (what PyTorch's losses take)."""
    items = list(part) if isinstance(part, (tuple, list)) else [part]
    out = []
    for item in items:
        array = np.asarray(item)
        if array.dtype.kind not in "fiub" or array.ndim == 0:
            raise UserModelError("%s: data()'s %s is not a numeric array with a sample axis (dtype %s, shape %s)"
                                 % (name, which, array.dtype, array.shape))
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
        out.append(array)
    return out


class KerasModule(object):
    """What KerasTrainer takes from a workload's keras.py: build(hp) -> a compiled keras.Model, and ACCURACY (the
    name of the accuracy in fit's logs: the file's ACCURACY, else "accuracy")."""

    def __init__(self, workload):
        self.workload = workload
        self.ACCURACY = getattr(workload.module(), "ACCURACY", "accuracy")

    def build(self, hp):
        import keras

        name, model = self.workload.name, self.workload.build()
        if not isinstance(model, keras.Model):
            raise UserModelError("%s: build() returned %s on a Keras backend: %s"
                                 % (name, type(model).__name__, WHAT_BUILD_RETURNS))
        if not getattr(model, "compiled", False):
            raise UserModelError("%s: build()'s model is not compiled: call model.compile(optimizer=..., loss=..., "
                                 "metrics=['accuracy']) before returning it" % name)
        metrics = str((model.get_compile_config() or {}).get("metrics"))
        if self.ACCURACY == "accuracy" and "accuracy" not in metrics:
            raise UserModelError("%s: build()'s model tracks no accuracy: compile it with metrics=['accuracy'] (or "
                                 "set ACCURACY to the name fit logs it under, e.g. 'main_accuracy')" % name)
        check_keras_shapes(model, self.workload.train, name)
        return model


def check_keras_shapes(model, train, name):
    """data()'s training arrays against the model's declared inputs and outputs, before any step runs."""
    inputs, outputs = list(model.inputs), list(model.outputs)
    for what, declared, given in (("inputs", inputs, train.inputs), ("outputs", outputs, train.targets)):
        if len(declared) != len(given):
            raise UserModelError("%s: the model has %d %s but data() gives %d array(s) for them (a tuple for several)"
                                 % (name, len(declared), what, len(given)))
    for i, (tensor, array) in enumerate(zip(inputs, train.inputs)):
        shape = tuple(tensor.shape)[1:]
        if len(shape) != array.ndim - 1 or any(d is not None and d != a for d, a in zip(shape, array.shape[1:])):
            raise UserModelError("%s: data()'s training input %d has samples of shape %s but the model's input "
                                 "takes %s" % (name, i, tuple(array.shape[1:]), shape))


class TorchModule(object):
    """What TorchTrainer takes from a workload's torch.py: build(hp) -> (module, optimizer), loss_fn and correct."""

    def __init__(self, workload):
        self.workload = workload
        self.user_correct = getattr(workload.module(), "correct", None)
        self.loss = None

    def build(self, hp):
        import torch

        name, result = self.workload.name, self.workload.build()
        if not (isinstance(result, (tuple, list)) and len(result) == 3 and isinstance(result[0], torch.nn.Module)
                and isinstance(result[1], torch.optim.Optimizer) and callable(result[2])):
            raise UserModelError("%s: build() returned %s: %s" % (name, describe(result), WHAT_BUILD_RETURNS))
        model, optimizer, self.loss = result
        self.probe(torch, model)
        return model, optimizer

    def probe(self, torch, model):
        """One forward pass, loss and count of correct predictions on two training samples, before any step: data
        that does not fit the model fails here in one line, not in the middle of the first epoch."""
        train = self.workload.train
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        inputs = [torch.from_numpy(np.ascontiguousarray(a[:2])).to(device) for a in train.inputs]
        targets = [torch.from_numpy(np.ascontiguousarray(a[:2])).to(device) for a in train.targets]
        try:
            with torch.no_grad():
                outputs = model(*inputs)
                self.loss_fn(outputs, *targets)
                self.correct(outputs, *targets)
        except UserModelError:
            raise
        except Exception as exc:
            message = (str(exc).strip().splitlines() or [""])[0]
            raise UserModelError("%s: data() does not fit the model: a forward pass and loss on 2 training samples "
                                 "raised %s: %s" % (self.workload.name, type(exc).__name__, message), exc)

    def loss_fn(self, outputs, *targets):
        return self.loss(outputs, *targets)

    def correct(self, outputs, *targets):
        """The file's correct(outputs, *targets) if it has one, else a classifier's: the argmax of 2-d outputs
        against integer labels."""
        if self.user_correct is not None:
            return self.user_correct(outputs, *targets)
        labels = targets[0]
        if getattr(outputs, "dim", lambda: 0)() != 2 or labels.dim() != 1 or labels.is_floating_point():
            raise UserModelError("%s: dlbench counts correct predictions as the argmax of (batch, classes) outputs "
                                 "against integer labels: for another model define correct(outputs, targets) -> "
                                 "the number correct in the batch" % self.workload.name)
        return (outputs.argmax(dim=1) == labels).sum()


def describe(value):
    if isinstance(value, (tuple, list)):
        return "a %s of %d (%s)" % (type(value).__name__, len(value), ", ".join(type(v).__name__ for v in value))
    return type(value).__name__
