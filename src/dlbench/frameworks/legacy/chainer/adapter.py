"""Chainer 7.8: define-by-run chainer.Chain models, its own optimizers, the idiom of its tutorials' custom loops.

On a CPU Chainer computes with NumPy: its matrix products and convolutions (im2col, then a matrix product) are
NumPy's OpenBLAS, so the thread count is OpenBLAS's (OPENBLAS_NUM_THREADS, read back from the library). iDeep
(Chainer's oneDNN backend) and CuPy are not installed: a GPU trial fails with a clear error. Chainer has no switch
for denormals; the process-level one (dlbench.frameworks.mxcsr: FTZ and DAZ, the BLAS pool restarted to inherit
them) applies the flush policy, and the probe asks Chainer itself. Evaluation runs under
chainer.using_config('train', False) (dropout off) and chainer.no_backprop_mode() (no graph kept).
"""
import numpy as np

from dlbench.frameworks import mxcsr
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals


def graph_ops(chainer, outputs):
    """The function nodes of the graph that produced `outputs`, as "chainer:<label>" (NStepGRU on a CPU shows its
    per-step LinearFunction, Sigmoid, Tanh ...; with cuDNN it would be one NStepGRU node)."""
    seen, ops, stack = set(), set(), [v.creator_node for v in outputs if v.creator_node is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        ops.add("chainer:" + node.label)
        stack.extend(x.creator_node for x in node.inputs if x.creator_node is not None)
    return sorted(ops)


class Adapter(BaseAdapter):
    layout = "channels_first"  # NCHW: Chainer's convolutions take it natively

    def load(self, settings):
        import chainer

        if settings.device == "gpu":
            raise RuntimeError("--device gpu, but Chainer %s has no CuPy here (chainer.backends.cuda.available is "
                               "%s): install cupy for your CUDA, or use --device cpu"
                               % (chainer.__version__, chainer.backends.cuda.available))
        flushed_by = mxcsr.flush_denormals()
        blas = mxcsr.restart_openblas() if flushed_by else None
        np.random.seed(settings.seed)  # Chainer's initialisers and dropout draw from NumPy's global generator
        chainer.config.use_ideep = "never"
        from chainer.backends import intel64
        return {
            "threads": {"intra_op": mxcsr.openblas_threads(), "inter_op": 1,
                        "note": "NumPy's OpenBLAS pool (Chainer computes with NumPy on a CPU)"},
            "denormals_flushed": flushes_denormals(lambda a, b: (chainer.Variable(a) * chainer.Variable(b)).array),
            "denormal_method": (flushed_by + ("; OpenBLAS pool restarted to inherit it" if blas else ""))
            if flushed_by else "none: Chainer has no switch and MXCSR could not be set here",
            "device": {"kind": "cpu", "name": "cpu"},
            "versions": {"chainer": chainer.__version__, "numpy": np.__version__},
            "backend": {"numpy": True, "ideep": bool(intel64.is_ideep_available()),
                        "cupy": bool(chainer.backends.cuda.available)},
        }

    def trainer(self, workload_module, spec, settings, pipeline):
        return ChainerTrainer(workload_module, spec.hp, pipeline)


class ChainerTrainer(BaseTrainer):
    """A plain loop over the shared NumPy pipeline: forward, cleargrads, backward, optimizer.update()."""

    def __init__(self, module, hp, pipeline):
        import chainer

        self.chainer, self.module, self.pipeline = chainer, module, pipeline
        self.model, self.optimizer = module.build(hp)

    def param_counts(self):
        total = sum(p.size for p in self.model.params())
        return total, sum(p.size for p in self.model.params() if p.update_rule is None or p.update_rule.enabled)

    def train_epoch(self, split, batch_size, rng):
        chainer = self.chainer
        loss_sum, correct = 0.0, 0
        with chainer.using_config("train", True):
            for inputs, targets in self.pipeline.epoch(split, batch_size, rng):
                outputs = self.model(*inputs)
                loss = self.module.loss_fn(outputs, *targets)
                self.model.cleargrads()
                loss.backward()
                self.optimizer.update()
                loss_sum += float(loss.array) * len(targets[0])
                correct += self.module.correct(outputs, *targets)
        return loss_sum / split.n, float(correct) / split.n

    def evaluate(self, split, batch_size):
        chainer = self.chainer
        loss_sum, correct = 0.0, 0
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            for inputs, targets in self.pipeline.ordered(split, batch_size):
                outputs = self.model(*inputs)
                loss_sum += float(self.module.loss_fn(outputs, *targets).array) * len(targets[0])
                correct += self.module.correct(outputs, *targets)
        return loss_sum / split.n, float(correct) / split.n

    def precision_used(self, inputs):
        """float32 only (the registry declares fp32): read back from one forward pass in inference mode (untimed),
        the logits' dtype and the parameters'."""
        with self.chainer.using_config("train", False), self.chainer.no_backprop_mode():
            logits = self.model(*inputs)
        params = sorted(set(p.dtype.name for p in self.model.params()))
        return {"requested": "fp32", "compute": logits.dtype.name, "params": ", ".join(params), "method": "none",
                "loss_scale": None}

    def rnn_evidence(self, inputs, targets):
        """The function nodes of one training-mode forward pass (backward runs the same nodes' backward); no
        update, gradients cleared."""
        with self.chainer.using_config("train", True):
            loss = self.module.loss_fn(self.model(*inputs), *targets)
            ops = graph_ops(self.chainer, [loss])
        self.model.cleargrads()
        return ops

    def predict(self, inputs):
        probabilities = getattr(self.module, "probabilities", self.chainer.functions.softmax)
        with self.chainer.using_config("train", False), self.chainer.no_backprop_mode():
            return probabilities(self.model(*inputs)).array
