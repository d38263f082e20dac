"""PaddlePaddle 3.3 in dynamic-graph (dygraph) mode: paddle.nn.Layer models, an eager loop as its tutorials write it
(forward, loss.backward(), optimizer.step(), optimizer.clear_grad()).

Threads: Paddle sets its math libraries (MKL, its OpenMP runtime libiomp5) to FLAGS_paddle_num_threads threads at
start-up, 1 by default whatever OMP_NUM_THREADS says, so configure sets that flag beside the thread variables and
load calls paddle's set_num_threads; what the libraries then report is recorded. oneDNN stays as a dygraph user gets
it (FLAGS_use_onednn off: Paddle's own CPU kernels with MKL's GEMM), recorded. The wheel here is a CPU build: a GPU
trial fails with a clear error. Paddle has no denormal switch in Python; the process-level one
(dlbench.frameworks.mxcsr: FTZ and DAZ, inherited by libiomp5's workers) applies the flush policy, and the probe asks
Paddle itself.
"""
import os

import numpy as np

from dlbench.frameworks import mxcsr
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals


def _library_threads(paddle):
    """What OpenMP and MKL (the libraries Paddle's CPU kernels use) report."""
    import ctypes

    found = {}
    libs = os.path.join(os.path.dirname(paddle.__file__), "libs")
    for key, name, symbol in (("omp", "libiomp5.so", "omp_get_max_threads"),
                              ("mkl", "libmklml_intel.so", "MKL_Get_Max_Threads")):
        try:
            found[key] = int(getattr(ctypes.CDLL(os.path.join(libs, name)), symbol)())
        except (OSError, AttributeError):
            found[key] = None
    return found


def profiled_ops(paddle, run):
    """The kernels Paddle launched for run(), as "paddle:<op>" (its profiler's DygraphKernelLaunch events:
    "rnn kernel launch" -> paddle:rnn)."""
    from paddle import profiler

    prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU], on_trace_ready=lambda p: None)
    prof.start()
    run()
    prof.stop()
    ops, stack = set(), list(prof.profiler_result.get_data().values())
    while stack:
        node = stack.pop()
        if str(node.type).endswith("DygraphKernelLaunch") and node.name.endswith(" kernel launch"):
            ops.add("paddle:" + node.name[:-len(" kernel launch")])
        stack.extend(node.children_node)
    return sorted(ops)


class Adapter(BaseAdapter):
    layout = "channels_first"  # NCHW: Paddle's Conv2D default data_format

    def configure(self, settings):
        super(Adapter, self).configure(settings)
        os.environ["FLAGS_paddle_num_threads"] = str(settings.threads)  # else Paddle sets MKL and OpenMP to 1

    def load(self, settings):
        import paddle

        if settings.device == "gpu" and not paddle.is_compiled_with_cuda():
            raise RuntimeError("--device gpu, but paddlepaddle %s here is a CPU build: install paddlepaddle-gpu, or "
                               "use --device cpu" % paddle.__version__)
        paddle.disable_static()
        paddle.set_device("gpu" if settings.device == "gpu" else "cpu")
        paddle.base.core.set_num_threads(settings.threads)
        paddle.seed(settings.seed)
        flushed_by = mxcsr.flush_denormals()
        flags = paddle.get_flags(["FLAGS_paddle_num_threads", "FLAGS_use_onednn"])
        library = _library_threads(paddle)
        return {
            "threads": {"intra_op": library["omp"], "inter_op": 1, "mkl": library["mkl"],
                        "paddle_num_threads": flags["FLAGS_paddle_num_threads"]},
            "denormals_flushed": flushes_denormals(
                lambda a, b: (paddle.to_tensor(a) * paddle.to_tensor(b)).numpy()),
            "denormal_method": flushed_by or "none: Paddle has no switch and MXCSR could not be set here",
            "device": {"kind": "gpu" if settings.device == "gpu" else "cpu", "name": paddle.device.get_device()},
            "versions": {"paddlepaddle": paddle.__version__, "numpy": np.__version__},
            "onednn": bool(flags["FLAGS_use_onednn"]),
            "mode": "dygraph" if paddle.in_dynamic_mode() else "static",
        }

    def trainer(self, workload_module, spec, settings, pipeline):
        return PaddleTrainer(workload_module, spec.hp, pipeline)


class PaddleTrainer(BaseTrainer):
    """An eager loop over the shared NumPy pipeline; the epoch's sums stay on the device until its end."""

    def __init__(self, module, hp, pipeline):
        import paddle

        self.paddle, self.module, self.pipeline = paddle, module, pipeline
        self.model, self.optimizer = module.build(hp)

    def param_counts(self):
        params = self.model.parameters()
        return sum(int(np.prod(p.shape)) for p in params), \
            sum(int(np.prod(p.shape)) for p in params if not p.stop_gradient)

    def _tensors(self, arrays):
        return [self.paddle.to_tensor(np.ascontiguousarray(a)) for a in arrays]

    def train_epoch(self, split, batch_size, rng):
        paddle = self.paddle
        self.model.train()
        loss_sum, correct = paddle.zeros([]), paddle.zeros([], dtype="int64")
        for inputs, targets in self.pipeline.epoch(split, batch_size, rng):
            inputs, targets = self._tensors(inputs), self._tensors(targets)
            outputs = self.model(*inputs)
            loss = self.module.loss_fn(outputs, *targets)
            loss.backward()
            self.optimizer.step()
            self.optimizer.clear_grad()
            with paddle.no_grad():
                loss_sum += loss.detach() * len(targets[0])
                correct += self.module.correct(outputs, *targets)
        return float(loss_sum) / split.n, float(correct) / split.n

    def evaluate(self, split, batch_size):
        paddle = self.paddle
        self.model.eval()
        loss_sum, correct = 0.0, 0.0
        with paddle.no_grad():
            for inputs, targets in self.pipeline.ordered(split, batch_size):
                inputs, targets = self._tensors(inputs), self._tensors(targets)
                outputs = self.model(*inputs)
                loss_sum += float(self.module.loss_fn(outputs, *targets)) * len(targets[0])
                correct += float(self.module.correct(outputs, *targets))
        return loss_sum / split.n, correct / split.n

    def precision_used(self, inputs):
        """float32 only (the registry declares fp32): read back from one forward pass in inference mode (untimed),
        the logits' dtype and the parameters'."""
        self.model.eval()
        with self.paddle.no_grad():
            logits = self.model(*self._tensors(inputs))
        params = sorted(set(str(p.dtype).replace("paddle.", "") for p in self.model.parameters()))
        return {"requested": "fp32", "compute": str(logits.dtype).replace("paddle.", ""), "params": ", ".join(params),
                "method": "none", "loss_scale": None}

    def rnn_evidence(self, inputs, targets):
        """The kernels of one forward and backward pass in training mode (no update; gradients cleared)."""
        self.model.train()
        inputs, targets = self._tensors(inputs), self._tensors(targets)
        ops = profiled_ops(self.paddle, lambda: self.module.loss_fn(self.model(*inputs), *targets).backward())
        self.optimizer.clear_grad()
        return ops

    def predict(self, inputs):
        probabilities = getattr(self.module, "probabilities", self.paddle.nn.functional.softmax)
        self.model.eval()
        with self.paddle.no_grad():
            return probabilities(self.model(*self._tensors(inputs))).numpy()
