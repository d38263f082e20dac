"""What every framework adapter does, and the pieces they share. Python 3.6-safe (a CNTK adapter will use it).

An adapter runs inside the trial process only. Its life is:
  configure(settings)  before the framework is imported: environment variables (threads, visible devices, backend)
  load(settings)       imports the framework, applies threads, denormal policy, seed and device; returns what it
                       read back from the framework (not what was asked for)
  trainer(...)         builds the workload's model for this framework and returns a Trainer
A Trainer counts parameters, trains one epoch, evaluates, and synchronises the device before the clock is read.
"""
import os

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

# A float32 subnormal: a framework that flushes denormals turns 1e-40 * 1.0 into 0. Both operands are passed at run
# time: a compiler folds `x * 1.0` with a constant away (XLA and Grappler do) and the probe would measure nothing.
SUBNORMAL = np.array([1e-40], dtype=np.float32)
ONE = np.array([1.0], dtype=np.float32)


class Adapter(object):
    def __init__(self, framework):
        self.framework = framework

    def configure(self, settings):
        threads = str(settings["threads"])
        for name in THREAD_VARIABLES:
            os.environ[name] = threads
        if settings["device"] == "cpu":
            # Hide GPUs so that a CPU trial cannot silently run (or allocate) anywhere else.
            os.environ["CUDA_VISIBLE_DEVICES"] = ""
            os.environ["JAX_PLATFORMS"] = "cpu"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def load(self, settings):
        raise NotImplementedError

    def trainer(self, workload_module, spec, settings):
        raise NotImplementedError


class Trainer(object):
    def param_counts(self):
        """(total, trainable): Keras's count_params() rule, non-trainable state (BatchNorm statistics) included."""
        raise NotImplementedError

    def train_epoch(self, split, batch_size, rng):
        """One pass over every sample, reshuffled, last partial batch kept. Returns (mean loss, accuracy)."""
        raise NotImplementedError

    def evaluate(self, split, batch_size):
        """Inference mode (dropout off, BatchNorm frozen). Returns (mean loss, accuracy)."""
        raise NotImplementedError

    def sync(self):
        """Wait until every queued device computation is done, so that a clock read after it is honest."""


def shuffled_batches(n, batch_size, rng):
    """Index arrays of one epoch: a fresh permutation of every sample, the last partial batch kept."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def ordered_batches(n, batch_size):
    for start in range(0, n, batch_size):
        yield np.arange(start, min(start + batch_size, n))


def flushes_denormals(multiply):
    """Ask the framework itself: does multiply(1e-40, 1.0), computed by it, come back as 0?"""
    return bool(np.asarray(multiply(SUBNORMAL, ONE)).reshape(-1)[0] == 0.0)
