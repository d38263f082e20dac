"""MXNet 1.9 with Gluon, the idiom of its tutorials: a HybridBlock, hybridize(), autograd.record, loss.backward()
and gluon.Trainer.step(batch_size), in MXNet's own environment (Python 3.11, numpy 1.23: MXNet 1.9 needs np.bool).

MXNet is asynchronous: every operator call only queues work for its engine, so sync() waits for all of it
(mx.nd.waitall) before a clock is read, and the epoch's loss and accuracy stay on the engine until the epoch ends.
Threads: the operators' OpenMP pool takes OMP_NUM_THREADS (read back from the OpenMP runtime MXNet loaded); the
engine runs one CPU worker thread (MXNET_CPU_WORKER_NTHREADS=1, its default, set explicitly) that issues them.
Denormals: MXNet 1.9 has no switch for them (set_flush_denorms came with 2.0), so the FTZ and DAZ bits of the CPU
are set (dlbench.frameworks.mxcsr) before MXNet is imported: the engine's and OpenMP's threads start after that and
inherit them (the probe asks MXNet itself whether 1e-40 * 1 comes back as 0).
The default tier hybridizes with hybridize() (a cached graph per input shape); the tuned tier adds static_alloc and
static_shape (memory planned once per shape and reused).
"""
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from dlbench.frameworks import mxcsr
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals


def omp_max_threads():
    """omp_get_max_threads() of the OpenMP runtime libmxnet loaded (None if it cannot be asked)."""
    try:
        return int(ctypes.CDLL("libgomp.so.1").omp_get_max_threads())
    except (OSError, AttributeError):
        return None


class Adapter(BaseAdapter):
    layout = "channels_first"  # NCHW: Gluon's Conv2D default, the layout its oneDNN and cuDNN convolutions take

    def configure(self, settings):
        BaseAdapter.configure(self, settings)
        os.environ["MXNET_CPU_WORKER_NTHREADS"] = "1"  # the engine's default: one thread issues the operators

    def load(self, settings):
        mxcsr.flush_denormals()  # before MXNet starts its threads (they inherit FTZ and DAZ)
        import mxnet as mx
        from mxnet import runtime

        features = runtime.Features()
        gpu = settings.device == "gpu"
        if gpu and not features.is_enabled("CUDA"):
            raise RuntimeError("--device gpu, but this MXNet %s is a CPU build: install a CUDA build "
                               "(mxnet-cu112==1.9.1) in its environment, or use --device cpu" % mx.__version__)
        mx.random.seed(settings.seed)
        self.ctx = mx.gpu(0) if gpu else mx.cpu()
        return {
            "threads": {"intra_op": omp_max_threads(), "inter_op": int(os.environ["MXNET_CPU_WORKER_NTHREADS"]),
                        "engine": os.environ.get("MXNET_ENGINE_TYPE", "ThreadedEnginePerDevice")},
            "denormals_flushed": flushes_denormals(
                lambda a, b: (mx.nd.array(a, ctx=self.ctx) * mx.nd.array(b, ctx=self.ctx)).asnumpy()),
            "device": {"kind": "gpu" if gpu else "cpu", "name": "gpu 0" if gpu else "cpu",
                       "cudnn": features.is_enabled("CUDNN") if gpu else None},
            "mxnet_features": sorted(f.name for f in features.values() if f.enabled),
        }

    def trainer(self, workload_module, spec, settings, pipeline):
        return MXNetTrainer(workload_module, spec.hp, self.ctx, pipeline, tuned=settings.tier == "tuned")


class MXNetTrainer(BaseTrainer):
    """Gluon: the model hybridized to a cached graph, the loss summed per sample in autograd.record, gradients
    averaged by Trainer.step(len(batch)) (so the last partial batch is a true mean, as in Keras)."""

    def __init__(self, module, hp, ctx, pipeline, tuned=False):
        import mxnet as mx
        from mxnet import gluon

        self.mx, self.module, self.ctx, self.pipeline = mx, module, ctx, pipeline
        self.model, optimizer = module.build(hp)
        self.model.initialize(ctx=ctx)  # every parameter declares its own initialiser (the workload's file)
        self.hybridize = dict(static_alloc=True, static_shape=True) if tuned else {}
        self.model.hybridize(**self.hybridize)
        if tuned:
            self.tuning = "hybridize(static_alloc=True, static_shape=True): memory planned once per input shape"
        self.trainer = gluon.Trainer(self.model.collect_params(), optimizer, kvstore=None)

    def compile_mode(self):
        return "hybridize(%s)" % ", ".join("%s=%s" % item for item in sorted(self.hybridize.items()))

    def param_counts(self):
        params = list(self.model.collect_params().values())
        total = sum(int(np.prod(p.shape)) for p in params)
        return total, sum(int(np.prod(p.shape)) for p in params if p.grad_req != "null")

    def _arrays(self, arrays):
        return [self.mx.nd.array(a, ctx=self.ctx, dtype=a.dtype) for a in arrays]

    def train_epoch(self, split, batch_size, rng):
        autograd = self.mx.autograd
        loss_sum = self.mx.nd.zeros((1,), ctx=self.ctx)
        correct = self.mx.nd.zeros((1,), ctx=self.ctx)
        for inputs, targets in self.pipeline.epoch(split, batch_size, rng):
            inputs, targets = self._arrays(inputs), self._arrays(targets)
            with autograd.record():  # training mode: dropout on
                outputs = self.model(*inputs)
                loss = self.module.loss_fn(outputs, *targets)  # one value per sample
            loss.backward()
            self.trainer.step(len(targets[0]))  # gradients / batch size: the batch mean
            loss_sum += loss.sum()
            correct += self.module.correct(outputs, *targets)
        return float(loss_sum.asscalar()) / split.n, float(correct.asscalar()) / split.n

    def evaluate(self, split, batch_size):
        loss_sum = self.mx.nd.zeros((1,), ctx=self.ctx)
        correct = self.mx.nd.zeros((1,), ctx=self.ctx)
        for inputs, targets in self.pipeline.ordered(split, batch_size):
            inputs, targets = self._arrays(inputs), self._arrays(targets)
            outputs = self.model(*inputs)  # outside autograd.record: inference mode, dropout off
            loss_sum += self.module.loss_fn(outputs, *targets).sum()
            correct += self.module.correct(outputs, *targets)
        return float(loss_sum.asscalar()) / split.n, float(correct.asscalar()) / split.n

    def precision_used(self, inputs):
        """float32 only (the registry declares fp32): read back from one forward pass in inference mode (untimed),
        the logits' dtype and the parameters'."""
        logits = self.model(*self._arrays(inputs))
        params = sorted(set(np.dtype(p.dtype).name for p in self.model.collect_params().values()))
        return {"requested": "fp32", "compute": np.dtype(logits.dtype).name, "params": ", ".join(params),
                "method": "none", "loss_scale": None}

    def predict(self, inputs):
        return self.mx.nd.softmax(self.model(*self._arrays(inputs))).asnumpy()

    def graph_ops(self, n_inputs):
        """The operator names of the hybridized graph, as "mxnet:<op>" (a Gluon GRU is one fused "RNN" op)."""
        names = ["data%d" % i for i in range(n_inputs)]
        symbol = self.model(*[self.mx.sym.var(name) for name in names])
        return sorted({"mxnet:" + node["op"] for node in json.loads(symbol.tojson())["nodes"] if node["op"] != "null"})

    def rnn_evidence(self, inputs, targets):
        """The graph's operators and, where it has an RNN op on a CPU, the oneDNN primitives that op executed.
        libmxnet exports no switch for oneDNN's verbose mode, which is read once per process: the trained model is
        exported and one training-mode forward and backward pass of it is replayed in a child process of this
        environment with DNNL_VERBOSE=1; its "exec" lines name the primitive and its algorithm (lbr_gru: oneDNN's
        linear-before-reset GRU, the cuDNN form). MXNet runs it as its MKLDNN RNN path, named so here."""
        ops = self.graph_ops(len(inputs))
        if "mxnet:RNN" not in ops or self.ctx.device_type != "cpu":
            return ops
        folder = tempfile.mkdtemp(prefix="dlbench-mxnet-")
        try:
            prefix = os.path.join(folder, "model")
            self.model.export(prefix)
            np.savez(os.path.join(folder, "batch.npz"), *inputs)
            env = dict(os.environ, DNNL_VERBOSE="1", MKLDNN_VERBOSE="1")
            child = subprocess.run([sys.executable, "-c", REPLAY, prefix], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if child.returncode != 0:
            return ops + ["mxnet:oneDNN replay failed: %s" % (child.stderr.strip().splitlines() or [""])[-1]]
        return ops + sorted(set(onednn_primitives(child.stdout)))


# The child's side of rnn_evidence: load the exported graph and run one training-mode pass of the saved batch.
REPLAY = """
import sys
import numpy as np
import mxnet as mx
prefix = sys.argv[1]
batch = np.load(prefix[:-len("model")] + "batch.npz")
xs = [mx.nd.array(batch["arr_%d" % i], dtype=batch["arr_%d" % i].dtype) for i in range(len(batch.files))]
names = ["data%d" % i for i in range(len(xs))] if len(xs) > 1 else ["data"]
net = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", names, prefix + "-0000.params")
with mx.autograd.record():
    out = net(*xs)
out.backward()
mx.nd.waitall()
"""


def onednn_primitives(verbose):
    """'mxnet:mkldnn_rnn <alg> <prop>' for every RNN primitive oneDNN's verbose lines say it executed."""
    found = []
    for line in verbose.splitlines():
        fields = line.split(",")
        if len(fields) > 8 and fields[0] in ("dnnl_verbose", "mkldnn_verbose") and fields[1] == "exec" \
                and fields[3] == "rnn":
            alg = [part[4:] for part in " ".join(fields[6:]).split() if part.startswith("alg:")]
            found.append("mxnet:mkldnn_rnn %s %s (oneDNN %s)" % (alg[0] if alg else "?", fields[5], fields[4]))
    return found
