"""What every framework adapter does, and the pieces they share. Python 3.6-safe (a CNTK adapter will use it).

An adapter runs inside the trial process only. Its life is:
  configure(settings)  before the framework is imported: environment variables (threads, visible devices, backend)
  load(settings)       imports the framework, applies threads, denormal policy, seed and device; returns what it
                       read back from the framework (not what was asked for)
  trainer(...)         builds the workload's model for this framework and returns a Trainer
`settings` is the trial's TrialSettings (dlbench.worker.settings: attributes, every default filled in once).
A Trainer counts parameters, trains one epoch, evaluates, and synchronises the device before the clock is read.
Every native trainer takes its batches from the same InputPipeline, so shuffling, batching and augmentation are
one piece of NumPy code for all frameworks, and its cost is measured apart.
"""
import os
import time

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

# A float32 subnormal: a framework that flushes denormals turns 1e-40 * 1.0 into 0. Both operands are passed at run
# time: a compiler folds `x * 1.0` with a constant away (XLA and Grappler do) and the probe would measure nothing.
SUBNORMAL = np.array([1e-40], dtype=np.float32)
ONE = np.array([1.0], dtype=np.float32)


# Where a training run's batches come from (Trainer.data_placement, recorded as the run's env["data_placement"]),
# in the same words for the same thing in every adapter (docs/gpu.md, "Tiers"):
HOST_PER_BATCH = "host: per batch"  # NumPy batches from the host, handed to the framework every step (on a GPU
#                                     each is copied there inside the step's time): the default tier everywhere
HOST_PREFETCHED = "host: per batch, prefetched"  # the same through the framework's own fit, which starts the next
#                                     batch's copy to the device while a step runs (Keras on JAX on a GPU)
DEVICE_RESIDENT = "device: resident"  # the training set copied to the device once, before the first epoch; each
#                                     step gathers its batch there: the tuned tier wherever the framework can
DATA_PLACEMENTS = (HOST_PER_BATCH, HOST_PREFETCHED, DEVICE_RESIDENT)

# The float32 matmul and convolution precision a run used, read back from its framework (env["matmul_precision"]):
# "tf32" (TensorFloat-32 tensor cores: 10-bit mantissa inputs, float32 accumulation) or "fp32" (strict IEEE
# float32). TF32 is a GPU tensor-core format (NVIDIA Ampere, compute capability 8.0, and later): a CPU run, or a
# GPU without it, computes fp32 whatever is allowed.
TF32, FP32 = "tf32", "fp32"
TF32_CAPABILITY = (8, 0)


def tf32_allowed(settings):
    """The one TF32 policy of every framework: on a GPU TF32 is allowed for float32 matmuls and convolutions unless
    the suite sets tf32 = false (--no-tf32: strict FP32 everywhere). Unset (None) means allowed, as JAX and
    TensorFlow have it by default and as PyTorch recommends (torch.set_float32_matmul_precision("high")), so that
    every framework in a table does the same arithmetic. Never on a CPU."""
    return settings.device == "gpu" and settings.tf32 is not False


def matmul_precision(gpu, matmuls_tf32, convolutions_tf32, capability=None):
    """The run's env["matmul_precision"] from what its framework reports: "tf32" when float32 matmuls and
    convolutions may both use TF32 on a GPU that has it, "fp32" when neither may (or on a CPU, or a GPU older than
    compute capability 8.0). Every adapter sets both together; should a framework report them apart, the value
    says so in words (and no MFU peak is guessed for it: dlbench.peaks.peak)."""
    if not gpu or (capability is not None and tuple(capability) < TF32_CAPABILITY):
        return FP32
    if matmuls_tf32 and convolutions_tf32:
        return TF32
    if not matmuls_tf32 and not convolutions_tf32:
        return FP32
    return "tf32 for %s only" % ("matmuls" if matmuls_tf32 else "convolutions")


class SettingUnsupported(Exception):
    """An adapter cannot honour one of the trial's settings for this workload on this device: the trial ends
    `skipped` with this message, never run under other settings than its key says."""


class PrecisionUnsupported(SettingUnsupported):
    """The trial's precision, e.g. a kernel with no float16 form on the CPU."""


class Adapter(object):
    # The image layout this framework's fast path prefers; workloads lay their arrays out once, at load time.
    layout = "channels_last"
    # The layouts a suite's `layout` setting may ask of it (None: only `layout`).
    layouts = None

    def __init__(self, framework):
        self.framework = framework

    def configure(self, settings):
        requested = settings.layout
        if requested is not None and requested not in (self.layouts or (self.layout,)):
            raise SettingUnsupported("%s's workloads are written for %s only, not layout = %s"
                                     % (self.framework.id, " and ".join(self.layouts or (self.layout,)), requested))
        threads = str(settings.threads)
        for name in THREAD_VARIABLES:
            os.environ[name] = threads
        if settings.device == "cpu":
            # Hide GPUs so that a CPU trial cannot silently run (or allocate) anywhere else.
            os.environ["CUDA_VISIBLE_DEVICES"] = ""
            os.environ["JAX_PLATFORMS"] = "cpu"
        else:
            # JAX takes 75% of the card and TensorFlow all of it at start-up by default: every memory figure would
            # be that, whatever the model needs. Both allocate as they go instead, as PyTorch does.
            os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
            os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
            if settings.cudnn_autotune is False:  # both read at import; torch's flag is set in its setup
                os.environ["TF_CUDNN_USE_AUTOTUNE"] = "0"
                os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_gpu_autotune_level=0").strip()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def load(self, settings):
        raise NotImplementedError

    def trainer(self, workload_module, spec, settings, pipeline):
        raise NotImplementedError


class Trainer(object):
    # What the tuned tier changed, in words (None: nothing, the framework has no tuned form here), and where the
    # training batches come from (one of DATA_PLACEMENTS).
    tuning = None
    data_placement = HOST_PER_BATCH

    def param_counts(self):
        """(total, trainable): Keras's count_params() rule, non-trainable state (BatchNorm statistics) included."""
        raise NotImplementedError

    def train(self, split, val, batch_size, rng, epochs, clock):
        """Every epoch between clock.begin() and clock.end(epoch, loss, accuracy), which reads the clock, evaluates on
        val, records and returns False to stop (a diverged loss). A native loop is one train_epoch call per epoch;
        Keras overrides this with one fit over all the epochs, validating inside it, as its users train."""
        for epoch in range(1, epochs + 1):
            clock.begin()
            loss, accuracy = self.train_epoch(split, batch_size, rng)
            if not clock.end(epoch, loss, accuracy):
                return

    def train_epoch(self, split, batch_size, rng):
        """One pass over every sample, reshuffled, last partial batch kept. Returns (mean loss, accuracy)."""
        raise NotImplementedError

    def evaluate(self, split, batch_size):
        """Inference mode (dropout off, BatchNorm frozen). Returns (mean loss, accuracy)."""
        raise NotImplementedError

    def predict(self, inputs):
        """The main output's probabilities for one batch (a list of numpy arrays), in inference mode: what text
        generation samples from."""
        raise NotImplementedError

    def rnn_evidence(self, inputs, targets):
        """The names of the ops the framework runs for one training batch (profiled or traced), from which
        dlbench.frameworks.kernels reads the recurrent kernel. Called after training: it may disturb state."""
        return []

    def compile_mode(self):
        """What executes the training step, read from the framework where it can be (e.g. "torch.compile(mode=
        'default')", "jit_compile=True"); None: the framework's one executor."""
        return None

    def sync(self):
        """Wait until every queued device computation is done, so that a clock read after it is honest."""

    def allocator_peak(self):
        """The framework allocator's peak bytes on the GPU (None on a CPU, or where it keeps no count)."""
        return None


class InputPipeline(object):
    """Batches of numpy arrays: gather a shuffled batch, apply the workload's augmentation (if it has one).

    `seconds` sums the time spent here, which is the input pipeline's share of an epoch; `batches` counts the
    batches it produced (a Keras fit on plain arrays uses Keras's own pipeline and leaves both at zero)."""

    def __init__(self, augment=None, layout="channels_last"):
        self.augment = augment  # the workload's augment(inputs, rng, layout): a list of numpy arrays -> a new list
        self.layout = layout
        self.seconds = 0.0
        self.batches = 0

    def epoch(self, split, batch_size, rng):
        for index in shuffled_batches(split.n, batch_size, rng):
            yield self.batch(split, index, rng)

    def batch(self, split, index, rng):
        started = time.perf_counter()
        inputs = [a[index] for a in split.inputs]
        if self.augment is not None:
            inputs = self.augment(inputs, rng, self.layout)
        targets = [a[index] for a in split.targets]
        self.seconds += time.perf_counter() - started
        self.batches += 1
        return inputs, targets

    def ordered(self, split, batch_size):
        """Evaluation batches: in order, never augmented."""
        for index in ordered_batches(split.n, batch_size):
            yield [a[index] for a in split.inputs], [a[index] for a in split.targets]


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
