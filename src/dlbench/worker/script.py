"""An unchanged Keras script as a trial (`dlbench run --script train.py -- args`): the script runs as `__main__` in
this worker, once per Keras backend, and every keras.Model.fit it calls gets one more callback, dlbench's, which
records each epoch: the device synchronised before every clock read (as the Keras adapter does), training timed
apart from fit's own validation, the loss and metrics fit logs. The seed project's CSV callback, done for the user.

What the script decides (its data, model, batch size, epochs, optimizer) dlbench does not control: it records what
it saw (the script's arguments, its fit calls with their training samples and epochs) in the run's env["script"]. Epochs are
numbered across the script's fit calls; the first is the warm-up.
"""
import os
import platform
import sys
import time
import traceback

import numpy as np

from dlbench import frameworks, machine
from dlbench.worker.noise import Sampler
from dlbench.worker.process import imported_frameworks, pin_threads
from dlbench.worker.protocol import ENV, EPOCH, MODEL


class ScriptError(Exception):
    """The script failed, or never trained: one line naming it; detail: its own traceback."""

    says_it_all = True  # worker.process.one_line shows the message alone

    def __init__(self, message, detail=None):
        Exception.__init__(self, message)
        self.detail = detail


class Recording(object):
    """What the script's fit calls did, as events: the model once, the environment at the first fit, each epoch."""

    def __init__(self, events, info):
        self.events, self.info = events, info
        self.fits, self.epochs, self.calls = 0, 0, []
        self.noise = Sampler()

    def fit_called(self, model, samples):
        self.fits += 1
        self.calls.append({"samples": samples, "epochs_seen": 0})
        if self.fits == 1:
            self.info["n_train"] = samples
            self.info["imported"] = imported_frameworks()
            self.info["script"]["fit_calls"] = self.calls
            self.events.emit(ENV, **self.info)
            trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
            self.events.emit(MODEL, params_total=model.count_params(), params_trainable=trainable,
                             build_seconds=None, flops_per_sample=None)

    def epoch_done(self, train_seconds, eval_seconds, logs, busy):
        self.epochs += 1
        self.calls[-1]["epochs_seen"] += 1
        samples = self.calls[-1]["samples"]
        accuracy = next((logs[k] for k in ("accuracy", "acc") if k in logs), None)
        val_accuracy = next((logs[k] for k in ("val_accuracy", "val_acc") if k in logs), None)
        self.events.emit(EPOCH, epoch=self.epochs, warmup=self.epochs == 1, train_seconds=train_seconds,
                         call_seconds=None, eval_seconds=eval_seconds, input_seconds=None,
                         samples_per_second=samples / train_seconds if samples else None,
                         loss=_number(logs.get("loss")), accuracy=_number(accuracy),
                         val_loss=_number(logs.get("val_loss")), val_accuracy=_number(val_accuracy), **busy)


def _number(value):
    return None if value is None else float(value)


def sync(model):
    """Reading a weight back waits for the update that wrote it, on every backend (the Keras adapter's sync)."""
    if model.trainable_weights:
        np.asarray(model.trainable_weights[-1].numpy())


def epoch_callback(keras, recording):
    class DlbenchEpochs(keras.callbacks.Callback):
        """Clock reads after a device sync: epoch begin, fit's validation begin and end (fit passes its callbacks
        to its evaluate), epoch end."""

        def on_epoch_begin(self, epoch, logs=None):
            sync(self.model)
            recording.noise.start()
            self.begin, self.trained, self.evaluated = time.perf_counter(), None, None

        def on_test_begin(self, logs=None):
            if getattr(self, "begin", None) is not None and self.trained is None:
                sync(self.model)
                self.trained = time.perf_counter()

        def on_test_end(self, logs=None):
            if self.trained is not None:
                sync(self.model)
                self.evaluated = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            sync(self.model)
            end = time.perf_counter()
            trained = self.trained if self.trained is not None else end
            busy = recording.noise.stop()
            recording.epoch_done(trained - self.begin, (self.evaluated or end) - trained
                                 if self.trained is not None else None, dict(logs or {}), busy)
            self.begin = None

    return DlbenchEpochs()


CALLBACKS_POSITION = 5  # fit(x, y, batch_size, epochs, verbose, callbacks, ...)


def training_samples(args, kwargs):
    """The samples an epoch of this fit trains on, where fit's arguments show it (arrays, no validation_split);
    None where they do not (a dataset or generator: dlbench cannot see inside it)."""
    x = args[0] if args else kwargs.get("x")
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    if isinstance(x, (list, tuple)):
        x = x[0] if x else None
    if not hasattr(x, "shape") or not getattr(x, "shape", None) or kwargs.get("validation_split"):
        return None
    return int(x.shape[0])


def patch_fit(keras, recording):
    original = keras.Model.fit

    def fit(self, *args, **kwargs):
        args = list(args)
        if len(args) > CALLBACKS_POSITION:
            args[CALLBACKS_POSITION] = list(args[CALLBACKS_POSITION] or []) + [epoch_callback(keras, recording)]
        else:
            kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [epoch_callback(keras, recording)]
        recording.fit_called(self, training_samples(args, kwargs))
        return original(self, *args, **kwargs)

    keras.Model.fit = fit


def run_script(described, args):
    """Run the script's source as __main__, argv as a command line would give it; a SystemExit of 0 is a normal
    end. Raises ScriptError for an exception or a non-zero exit."""
    path, source, name = described["path"], described["source"], described["name"] + ".py"
    sys.argv = [path] + list(args)
    namespace = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__}
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # as `python train.py` has it: modules beside the script import
    try:
        exec(compile(source, path, "exec"), namespace)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise ScriptError("%s exited with code %s" % (name, exc.code), traceback.format_exc())
    except Exception as exc:
        message = (str(exc).strip().splitlines() or [""])[0]
        raise ScriptError("%s raised %s: %s" % (name, type(exc).__name__, message), traceback.format_exc())


def run_trial(trial, settings, events, memory, load_average=None):
    cpus = pin_threads(settings.threads)
    adapter = frameworks.load_adapter(trial["framework"])
    adapter.configure(settings)
    started = time.perf_counter()
    info = adapter.load(settings)
    import_seconds = time.perf_counter() - started
    import keras

    described = trial["model"]
    info.update({
        "framework": trial["framework"], "import_seconds": import_seconds, "python": sys.version.split()[0],
        "platform": platform.platform(), "hostname": machine.hostname(), "cpu_model": machine.cpu_model(),
        "cpu_affinity": cpus, "threads_requested": settings.threads, "seed": settings.seed,
        "load_average": load_average, "cpu_count": os.cpu_count(), "compile_used": "the script's own",
        "data_placement": "the script's own",
        "script": {"path": described["path"], "args": list(described.get("args") or []),
                   "not_controlled": "the script's data, model, optimizer, batch size and epochs are its own: "
                                     "dlbench records them, it does not set them"},
    })
    recording = Recording(events, info)
    patch_fit(keras, recording)
    linecache_source(described)
    run_script(described, described.get("args") or [])
    if not recording.fits:
        raise ScriptError("%s.py never called fit(): dlbench times the epochs of the script's keras.Model.fit "
                          "calls" % described["name"])
    events.emit(ENV, **recording.info)  # again, complete: every fit call with the epochs it ran (the store keeps this)
    memory.emit(events)
    events.end("ok")


def linecache_source(described):
    """Tracebacks show the script's lines from the trial's copy, also on a node that has no file at its path."""
    import linecache
    source = described["source"]
    linecache.cache[described["path"]] = (len(source), None, source.splitlines(True), described["path"])
