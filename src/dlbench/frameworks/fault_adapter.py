"""A framework that fails on purpose, the ways real frameworks fail: for the reliability tests only.

It is registered only when DLBENCH_FAULTS=1 (never shown to users). It trains a real, tiny NumPy softmax
regression on the workload's data, so the epochs before a fault are real epochs, and at epoch DLBENCH_FAULT_EPOCH
(default 2) does what DLBENCH_FAULT says (a comma-separated list: trial with seed s gets entry s mod its length, so
one suite with repeats can hold every fault):
    none      finish normally            raise     raise an exception          exit   exit(3), no final event
    segfault  die of SIGSEGV             abort     os.abort() (SIGABRT)        kill   SIGKILL itself (as the OOM killer)
    oom       allocate under an address-space limit until MemoryError          nan    report a NaN loss
    slow      no fault, but every epoch takes 0.5 s longer (a trial is surely in flight when a test looks)
    hang      block forever, with a child process (whose pid goes to DLBENCH_FAULT_CHILD_PIDFILE) that must die with it
Python 3.6-safe and NumPy only, like the worker.
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np

from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer


class Adapter(BaseAdapter):
    def load(self, settings):
        return {"threads": {"intra_op": 1, "inter_op": 1}, "denormals_flushed": False,
                "device": {"kind": "cpu", "name": "numpy"}}

    def trainer(self, workload_module, spec, settings, pipeline):
        return FaultTrainer(pipeline, settings.seed)


class FaultTrainer(BaseTrainer):
    def __init__(self, pipeline, seed):
        self.pipeline = pipeline
        self.rng = np.random.RandomState(seed)
        self.weights = None
        self.epoch = 0
        faults = os.environ.get("DLBENCH_FAULT", "none").split(",")
        self.fault = faults[seed % len(faults)]
        self.fault_epoch = int(os.environ.get("DLBENCH_FAULT_EPOCH", "2"))

    def _ensure(self, x, classes=10):
        if self.weights is None:
            self.weights = self.rng.normal(0, 0.01, (x.shape[1], classes))

    def param_counts(self):
        return (0, 0) if self.weights is None else (self.weights.size, self.weights.size)

    def _step(self, inputs, labels, learn):
        x = inputs[0].reshape(len(inputs[0]), -1)
        self._ensure(x)
        logits = x.dot(self.weights)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(labels)), labels] + 1e-12).mean()
        if learn:
            p[np.arange(len(labels)), labels] -= 1.0
            self.weights -= 0.1 * x.T.dot(p) / len(labels)
        return loss * len(labels), float((logits.argmax(axis=1) == labels).sum())

    def _run(self, batches, n, learn):
        totals = np.zeros(2)
        for inputs, targets in batches:
            totals += self._step(inputs, targets[0], learn)
        return totals[0] / n, totals[1] / n

    def train_epoch(self, split, batch_size, rng):
        self.epoch += 1
        if self.fault == "slow":
            time.sleep(0.5)
        loss, accuracy = self._run(self.pipeline.epoch(split, batch_size, rng), split.n, learn=True)
        if self.epoch == self.fault_epoch:
            return self._inject(loss), accuracy
        return loss, accuracy

    def evaluate(self, split, batch_size):
        return self._run(self.pipeline.ordered(split, batch_size), split.n, learn=False)

    def _inject(self, loss):
        fault = self.fault
        if fault == "raise":
            raise RuntimeError("injected fault: the framework raised")
        if fault == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if fault == "abort":
            os.abort()
        if fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if fault == "exit":
            os._exit(3)
        if fault == "nan":
            return float("nan")
        if fault == "oom":
            import resource
            limit = 2 * 1024 ** 3
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            hoard = []
            while True:
                hoard.append(np.ones(64 * 1024 ** 2 // 8))
        if fault == "hang":
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
            with open(os.environ["DLBENCH_FAULT_CHILD_PIDFILE"], "w") as f:
                f.write(str(child.pid))
            while True:
                time.sleep(60)
        return loss
