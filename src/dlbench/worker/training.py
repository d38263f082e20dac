"""One training trial inside its worker process (dlbench.worker.run hands training workloads here): the timing
protocol of training epochs.

Order matters: pin threads and set the framework's environment, load the data (numpy only), then import the
framework (timed, outside any epoch), build the model, and train. Every clock read follows a device sync.
"""
import math
import os
import platform
import sys
import time

import numpy as np

from dlbench import data, frameworks, machine, workloads
from dlbench.workloads import flops
from dlbench.frameworks.adapter import InputPipeline
from dlbench.frameworks.kernels import attention_kernel, rnn_kernel
from dlbench.worker.memory import DeviceMemory, peak_host_bytes, visible_index
from dlbench.worker.noise import Sampler
from dlbench.worker.process import imported_frameworks, pin_threads
from dlbench.worker.protocol import ENV, EPOCH, KERNEL, MEMORY, MODEL, SAMPLE


class Memory(object):
    """The trial's peak memory, reported once, just before its final event (also when it fails: an oom's peak is
    worth knowing)."""

    def __init__(self, settings):
        self.device = DeviceMemory(visible_index()) if settings.device == "gpu" else None
        self.trainer = None

    def emit(self, events):
        device_bytes, method = self.device.peak() if self.device else (None, None)
        allocator = self.trainer.allocator_peak() if self.trainer is not None else None
        events.emit(MEMORY, peak_host_bytes=peak_host_bytes(), peak_device_bytes=device_bytes,
                    device_method=method, allocator_peak_bytes=allocator)


def run_trial(trial, settings, events, memory, load_average=None):
    """One training trial; `settings` is its TrialSettings (dlbench.worker.settings)."""
    cpus = pin_threads(settings.threads)
    adapter = frameworks.load_adapter(trial["framework"])
    adapter.configure(settings)

    workload = workloads.get(trial["workload"])
    spec = workload.SPEC
    # A user's model file imports its framework itself and its data() may use it: the framework is imported (timed)
    # and seeded first. A bundled workload's data is NumPy only and loads before the import.
    user_model = spec.dataset is None
    if user_model:
        info, import_seconds = import_framework(adapter, settings)
    started = time.perf_counter()
    dataset = workload.load_dataset(settings) if user_model else \
        data.dataset_module(spec.dataset).load(settings.data, settings.samples, seed=settings.seed)
    train, val = workload.splits(dataset, adapter.layout)  # laid out once here, never transposed per batch
    spec = spec.with_hp(workload.hyper(dataset))  # sizes that depend on the data (a vocabulary, fasttext's bigrams)
    data_seconds = time.perf_counter() - started

    if not user_model:
        info, import_seconds = import_framework(adapter, settings)

    pipeline = InputPipeline(workload.augment, adapter.layout)
    started = time.perf_counter()
    trainer = adapter.trainer(workloads.framework_module(trial["workload"], trial["framework"]), spec, settings,
                              pipeline)
    build_seconds = time.perf_counter() - started
    memory.trainer = trainer
    info.update({
        # After the build, so that it shows everything the trial pulled in (flax is imported by the model code).
        "framework": trial["framework"], "imported": imported_frameworks(), "import_seconds": import_seconds,
        "data_seconds": data_seconds, "n_train": train.n, "n_val": val.n,
        "python": sys.version.split()[0], "platform": platform.platform(), "hostname": machine.hostname(),
        "cpu_model": machine.cpu_model(), "cpu_affinity": cpus, "threads_requested": settings.threads,
        "denormal_policy": "flush", "seed": settings.seed, "load_average": load_average,
        "cpu_count": os.cpu_count(),
        "augmentation": workload.augment is not None, "hyperparameters": spec.hp.as_dict(),
        "data_placement": trainer.data_placement, "compile_used": trainer.compile_mode(),
        "tuning": (trainer.tuning or "none: no tuned form for this framework yet, its default loop ran")
        if settings.tier == "tuned" else None,
    })
    info.setdefault("layout", adapter.layout)  # Keras reads its own back
    info.setdefault("matmul_precision", "fp32")  # the legacy frameworks: float32 on a CPU, no TF32 path
    precision_used = getattr(trainer, "precision_used", None)  # the dtypes read back from one forward pass
    info["precision"] = precision_used(first_batch(train, settings).inputs) \
        if precision_used else {"requested": settings.precision, "compute": "float32",
                                "read_back": False}  # adapters without mixed precision run fp32 only
    events.emit(ENV, **info)
    total, trainable = trainer.param_counts()
    events.emit(MODEL, params_total=total, params_trainable=trainable, build_seconds=build_seconds,
                flops_per_sample=flops.train_flops_per_sample(trial["workload"], spec.hp))

    clock = EpochClock(trainer, pipeline, train, val, settings, spec.warmup_epochs, events)
    trainer.train(train, val, settings.batch_size, np.random.RandomState(settings.seed), settings.epochs, clock)
    if clock.diverged:
        memory.emit(events)
        events.end("diverged", error=clock.diverged)
        return
    after_training(workload, spec, dataset, train, trainer, settings, events)
    memory.emit(events)
    events.end("ok")


def import_framework(adapter, settings):
    """(what the adapter read back from its framework, the seconds its import and set-up took)."""
    started = time.perf_counter()
    info = adapter.load(settings)
    return info, time.perf_counter() - started


class EpochClock(object):
    """The clock around each epoch, which the trainer calls (adapter.Trainer.train): begin() syncs and reads it as the
    epoch starts; trained() syncs and reads it as the epoch's training ends; end() evaluates (unless the trainer
    brings the validation figures: Keras validates inside fit, as its users do), records the epoch, and returns
    False once the loss is no longer finite. setup(seconds) is what a trainer's one call pays before its first
    epoch (Keras's fit builds its data adapter and callbacks): recorded as call_seconds, inside the warm-up epoch."""

    def __init__(self, trainer, pipeline, train, val, settings, warmup_epochs, events):
        self.trainer, self.pipeline, self.train, self.val = trainer, pipeline, train, val
        self.batch_size, self.warmup_epochs, self.events = settings.batch_size, warmup_epochs, events
        self.noise = Sampler()
        self.call_seconds = None
        self.stopped = None
        self.diverged = None

    def begin(self):
        self.trainer.sync()
        self.input_seconds, self.input_batches = self.pipeline.seconds, self.pipeline.batches
        self.noise.start()
        self.started = time.perf_counter()
        self.stopped = None

    def setup(self, seconds):
        self.call_seconds = seconds

    def trained(self):
        self.trainer.sync()
        self.stopped = time.perf_counter()
        self.busy = self.noise.stop()

    def end(self, epoch, loss, accuracy, validation=None):
        if self.stopped is None:
            self.trained()
        val_loss, val_accuracy = validation or self.trainer.evaluate(self.val, self.batch_size)
        self.trainer.sync()
        train_seconds, pipeline = self.stopped - self.started, self.pipeline
        self.events.emit(EPOCH, epoch=epoch, warmup=epoch <= self.warmup_epochs, train_seconds=train_seconds,
                         call_seconds=self.call_seconds, eval_seconds=time.perf_counter() - self.stopped,
                         # the share of train_seconds spent gathering and augmenting batches (None: the framework's)
                         input_seconds=pipeline.seconds - self.input_seconds
                         if pipeline.batches > self.input_batches else None,
                         samples_per_second=self.train.n / train_seconds,
                         loss=loss, accuracy=accuracy, val_loss=val_loss, val_accuracy=val_accuracy, **self.busy)
        self.call_seconds = None
        if not math.isfinite(loss):
            self.diverged = "training loss became %r in epoch %d" % (loss, epoch)
        return self.diverged is None


def first_batch(train, settings):
    """The training set's first batch, in order: what the untimed probes (precision read-back, RNN kernel) run."""
    return train.take(np.arange(min(settings.batch_size, train.n)))


def after_training(workload, spec, dataset, train, trainer, settings, events):
    """Untimed, once the epochs are done: generate text where the workload does (and check that it looks like the
    corpus), then read which recurrent kernel and which attention kernel the framework ran."""
    if workload.sample_text is not None:
        started = time.perf_counter()
        text = workload.sample_text(trainer.predict, dataset, np.random.RandomState(settings.seed))
        seconds = time.perf_counter() - started
        events.emit(SAMPLE, text=text, seconds=seconds, **workload.check_sample(text, dataset))
    first = first_batch(train, settings)
    ops = trainer.rnn_evidence(first.inputs, first.targets)
    label, evidence = rnn_kernel(ops, spec.recurrent)
    attention, attention_evidence = attention_kernel(ops, spec.attention)
    if label is not None or attention is not None:
        events.emit(KERNEL, rnn_kernel=label, evidence=evidence, attention_kernel=attention,
                    attention_evidence=attention_evidence)

