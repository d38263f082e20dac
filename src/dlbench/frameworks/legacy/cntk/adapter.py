"""CNTK 2.7: cntk.layers models, a cntk.Trainer fed NumPy minibatches (train_minibatch), the idiom of CNTK's Python
tutorials. Runs in its own Python 3.6 environment (`dlbench setup cntk`): keep this file Python 3.6-safe.

CNTK's convolutions are channels-first (C, H, W), its native layout. Labels are fed as integer class ids (as float)
and one-hot encoded inside the graph. Dropout is active in train_minibatch only; Function.eval runs in inference
mode. CNTK has no setting of its own for denormals: dlbench sets the x86 FTZ and DAZ bits (the MXCSR register, as
torch.set_flush_denormal does) before CNTK starts, its OpenMP threads inherit them, and CNTK is then asked whether it
flushes.
"""
import numpy as np

from dlbench.frameworks import mxcsr
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals


def graph_ops(function):
    """The primitive op names of a CNTK graph, inside its blocks (cntk.layers wrap each layer in one) too, as
    "cntk:<op>": a Recurrence shows as cntk:PastValue (CNTK's recurrent loop), cuDNN's as cntk:OptimizedRNNStack."""
    import cntk as C

    found = C.logging.graph.depth_first_search(function, lambda node: isinstance(node, C.Function), depth=-1)
    return sorted({"cntk:" + node.op_name for node in found if not node.is_block})


class Adapter(BaseAdapter):
    layout = "channels_first"  # CNTK's convolutions take (C, H, W)

    def load(self, settings):
        flush = None  # stays None where the control register cannot be set (not x86-64 glibc)
        if mxcsr.flush_denormals():  # before CNTK's import: its threads inherit the control register
            flush = "MXCSR FTZ+DAZ set by dlbench before CNTK started (CNTK 2.7 has no setting for it)"
        import cntk as C

        C.cntk_py.set_max_num_cputhreads(settings.threads)
        C.cntk_py.set_fixed_random_seed(settings.seed)
        gpus = [d for d in C.device.all_devices() if d.type() == C.device.DeviceKind.GPU]
        if settings.device == "gpu":
            if not gpus:
                raise RuntimeError("--device gpu, but CNTK %s sees no GPU: this environment has CNTK's CPU wheel "
                                   "(cntk==2.7.post2); its GPU wheel (cntk-gpu 2.7) needs CUDA 10.0 and cuDNN 7. "
                                   "Use --device cpu" % C.__version__)
            device = gpus[0]
        else:
            device = C.device.cpu()
        C.device.try_set_default_device(device)
        a, b = C.input_variable(1), C.input_variable(1)
        product = C.element_times(a, b)
        self.info = {
            "threads": {"intra_op": C.cntk_py.get_max_num_cputhreads(), "inter_op": None},
            "denormals_flushed": flushes_denormals(
                lambda x, y: product.eval({a: x.reshape(1, 1), b: y.reshape(1, 1)})),
            "denormal_method": flush,
            "device": {"kind": settings.device, "name": str(device) if settings.device == "gpu" else "cpu"},
        }
        return self.info

    def trainer(self, workload_module, spec, settings, pipeline):
        if getattr(workload_module, "NOTE", None):  # where the model departs from CNTK's own layer: in the env event
            self.info["model_note"] = workload_module.NOTE
        return CNTKTrainer(workload_module, spec.hp, np.random.RandomState(settings.seed), pipeline)


class CNTKTrainer(BaseTrainer):
    """A cntk.Trainer over the workload's logits, its loss and its classification error. The learner's update runs
    inside train_minibatch; CNTK computes synchronously on a CPU, so reading the minibatch's loss back is the sync."""

    def __init__(self, module, hp, rng, pipeline):
        import cntk as C

        self.C, self.module, self.pipeline = C, module, pipeline
        self.inputs, self.logits, optimizer = module.build(hp, rng)
        self.labels = C.input_variable((), name="labels")  # class ids, one-hot encoded in the graph
        self.loss = module.loss_fn(self.logits, self.labels)
        self.errors = C.classification_error(self.logits, C.one_hot(self.labels, self.logits.shape[-1]))
        # Keras's RMSprop is a universal learner that is told each batch's size (cntk/optim.KerasRMSprop)
        self.set_samples = getattr(optimizer, "set_samples", None)
        self.trainer = C.Trainer(self.logits, (self.loss, self.errors), [getattr(optimizer, "learner", optimizer)])
        self.measures = C.combine([self.loss, self.errors])
        self.probabilities = C.softmax(self.logits)

    def _feed(self, inputs, targets=None):
        feed = dict((var, np.ascontiguousarray(a, dtype=np.float32)) for var, a in zip(self.inputs, inputs))
        if targets is not None:
            feed[self.labels] = targets[0].astype(np.float32)
        return feed

    def param_counts(self):
        total = sum(int(np.prod(p.shape)) for p in self.logits.parameters)
        return total, total  # no non-trainable state in these models

    def train_epoch(self, split, batch_size, rng):
        loss_sum, correct = 0.0, 0.0
        for inputs, targets in self.pipeline.epoch(split, batch_size, rng):
            n = len(targets[0])
            if self.set_samples is not None:
                self.set_samples(n)
            self.trainer.train_minibatch(self._feed(inputs, targets))
            loss_sum += self.trainer.previous_minibatch_loss_average * n
            correct += (1.0 - self.trainer.previous_minibatch_evaluation_average) * n
        return loss_sum / split.n, correct / split.n

    def evaluate(self, split, batch_size):
        loss_sum, errors = 0.0, 0.0
        for inputs, targets in self.pipeline.ordered(split, batch_size):
            out = self.measures.eval(self._feed(inputs, targets))  # inference mode: dropout off
            loss_sum += float(np.sum(out[self.loss.output]))
            errors += float(np.sum(out[self.errors.output]))
        return loss_sum / split.n, 1.0 - errors / split.n

    def predict(self, inputs):
        return self.probabilities.eval(self._feed(inputs))

    def precision_used(self, inputs):
        """float32 only (the registry declares fp32): read back from one forward pass in inference mode (untimed),
        the logits' dtype and the parameters'."""
        logits = np.asarray(self.logits.eval(self._feed(inputs)))
        params = sorted(set(np.dtype(p.dtype).name for p in self.logits.parameters))
        return {"requested": "fp32", "compute": logits.dtype.name, "params": ", ".join(params), "method": "none",
                "loss_scale": None}

    def rnn_evidence(self, inputs, targets):
        """The ops of the graph that train_minibatch runs (the loss over the model): CNTK has no op-level trace."""
        return graph_ops(self.loss)
