"""Native TensorFlow: GradientTape inside a tf.function, the idiom of its custom-training-loop guide.

Precision (the trial's `precision` setting). TensorFlow's mixed precision is Keras's (dtype policies,
AutoCastVariable); outside Keras there is none, so dlbench writes Keras's autocast out (MixedPrecision below), for
the workloads whose native code is written for it (the registry's mixed_workloads; TensorFlow refuses to mix dtypes
in one op, so a float32 constant made inside a model, e.g. an LSTM's zero state, fails under it):
  fp32        float32 everywhere.
  bf16        while the step is traced, every float32 variable of the model reads as a bfloat16 copy (tf.cast: the
              gradients flow back through it to the float32 variables, the master weights), floating inputs are
              cast to bfloat16, the outputs cast back to float32 before the loss; the optimizer state stays float32.
              No loss scaling.
  fp16-mixed  the same with float16, and dynamic loss scaling (Keras's rule, written out: DynamicLossScale).
The other workloads' bf16 and fp16-mixed trials are recorded skipped with the registry's precision_note, before any
process starts; this adapter refuses too if asked directly. keras-tensorflow runs both everywhere.
"""
import os

import numpy as np

from dlbench.frameworks.adapter import DEVICE_RESIDENT, HOST_PER_BATCH
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import PrecisionUnsupported
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals, matmul_precision, shuffled_batches, tf32_allowed


def set_tensorflow_threads(tf, threads):
    """TensorFlow's two pools, the same in training and inference (dlbench.inference calls this too): intra-op =
    inter-op = `threads`. That is TensorFlow's own default on a machine of `threads` cores (0, its default, picks
    the CPUs the process may use, which the worker has pinned to `threads`), so both tiers and both kinds of trial
    run TensorFlow as a user's program on those cores would. Inter-op threads only run independent ops side by
    side (an optimizer's per-variable updates, the two directions of a bidirectional layer, a ResNet block's
    shortcut beside its main branch); the arithmetic of each op uses the one intra-op pool, so the pinned CPUs are
    not oversubscribed by more than the schedulers."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def set_tensorflow_tf32(tf, allowed):
    """dlbench's one TF32 policy (adapter.tf32_allowed) in TensorFlow's terms: one switch for float32 matmuls and
    convolutions alike, on by default."""
    tf.config.experimental.enable_tensor_float_32_execution(allowed)


def tensorflow_tf32_used(tf, gpu, capability=None):
    """(TF32 enabled, read back; env["matmul_precision"])."""
    enabled = bool(tf.config.experimental.tensor_float_32_execution_enabled())
    return enabled, matmul_precision(gpu, enabled, enabled, capability)


def setup_tensorflow(settings):
    """Threads, seed, device, matmul precision and denormal probe for TensorFlow; shared with Keras on the
    tensorflow backend."""
    import tensorflow as tf

    set_tensorflow_threads(tf, settings.threads)
    tf.random.set_seed(settings.seed)
    gpus = tf.config.list_physical_devices("GPU")
    if settings.device == "gpu" and not gpus:
        raise RuntimeError("--device gpu, but TensorFlow %s sees no GPU: install tensorflow[and-cuda], or use "
                           "--device cpu" % tf.__version__)
    if gpus:  # written out, though TensorFlow's default allows TF32 already
        set_tensorflow_tf32(tf, tf32_allowed(settings))
    details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
    tf32, used = tensorflow_tf32_used(tf, bool(gpus), details.get("compute_capability"))
    build = tf.sysconfig.get_build_info()
    return {
        "threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
        "denormals_flushed": flushes_denormals(tf.function(lambda x, y: x * y)),
        "device": {"kind": "gpu" if gpus else "cpu",
                   "name": details.get("device_name") if gpus else "cpu",
                   "cuda": build.get("cuda_version"), "cudnn": build.get("cudnn_version"),
                   "cudnn_autotune": os.environ.get("TF_CUDNN_USE_AUTOTUNE", "1") != "0" if gpus else None},
        "tf32": {"enabled": tf32, "compute_capability": details.get("compute_capability")} if gpus else None,
        "matmul_precision": used,
    }


def tf_allocator_peak(tf):
    if not tf.config.list_physical_devices("GPU"):
        return None
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def graph_ops(concrete_function):
    """The op types of a traced tf.function, the bodies of its loops and calls included, as "tf:<type>" (a
    tf.while_loop shows as tf:While, cuDNN's LSTM as tf:CudnnRNNV3)."""
    graph = concrete_function.graph.as_graph_def()
    nodes = list(graph.node) + [node for function in graph.library.function for node in function.node_def]
    return sorted({"tf:" + node.op for node in nodes})


def top_ops(concrete_function):
    """A traced tf.function's top-level op types that its outputs depend on (kernels.tf_graph_top_ops)."""
    from dlbench.frameworks.kernels import tf_graph_top_ops
    graph = concrete_function.graph
    return tf_graph_top_ops(graph.as_graph_def(), [t.op.name for t in graph.outputs])


COMPUTE_DTYPES = {"fp32": None, "bf16": "bfloat16", "fp16-mixed": "float16"}


class MixedPrecision(object):
    """Compute in a half type with float32 master weights, for a tf.Module that does not know it (Keras's autocast
    written out): while forward() runs (inside a traced step) each float32 tf.Variable attribute of the model's
    modules is swapped for its cast copy, floating inputs are cast down, and the outputs cast up to float32."""

    def __init__(self, tf, dtype_name):
        self.tf, self.name, self.dtype = tf, dtype_name, getattr(tf, dtype_name)

    def forward(self, model, inputs, training, to_float32=True):
        tf = self.tf
        swapped = [(module, name, value) for module in [model] + list(model.submodules)
                   for name, value in vars(module).items()
                   if isinstance(value, tf.Variable) and value.dtype == tf.float32]
        try:  # object.__setattr__: past tf.Module's tracking, which keeps the variables themselves
            for module, name, variable in swapped:
                object.__setattr__(module, name, tf.cast(variable, self.dtype))
            outputs = model(*[tf.cast(x, self.dtype) if x.dtype.is_floating else x for x in inputs],
                            training=training)
        finally:
            for module, name, variable in swapped:
                object.__setattr__(module, name, variable)
        return tf.cast(outputs, tf.float32) if to_float32 else outputs


class DynamicLossScale(object):
    """Keras's LossScaleOptimizer rule, written out: initial scale 2**15, halved on a step with inf/NaN gradients
    (the update is skipped), doubled after `growth_steps` finite steps in a row; its two numbers are variables the
    compiled step updates."""

    def __init__(self, tf, initial=2.0 ** 15, growth_steps=2000):
        self.tf, self.initial, self.growth_steps = tf, initial, growth_steps
        self.scale = tf.Variable(initial, dtype=tf.float32, trainable=False)
        self.good_steps = tf.Variable(0, dtype=tf.int64, trainable=False)

    def unscale(self, gradients):
        """(the gradients divided by the scale, whether they are all finite); an embedding's IndexedSlices stay so."""
        tf = self.tf
        dense = [g.values if isinstance(g, tf.IndexedSlices) else g for g in gradients]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in dense])
        return [tf.IndexedSlices(g.values / self.scale, g.indices, g.dense_shape) if isinstance(g, tf.IndexedSlices)
                else g / self.scale for g in gradients], finite

    def adjust(self, finite):
        tf = self.tf
        good = self.good_steps + 1
        grow = good >= self.growth_steps
        self.scale.assign(tf.where(finite, tf.where(grow, self.scale * 2.0, self.scale), self.scale / 2.0))
        self.good_steps.assign(tf.where(finite & ~grow, good, tf.zeros_like(good)))


class Adapter(BaseAdapter):
    def load(self, settings):
        return setup_tensorflow(settings)

    def trainer(self, workload_module, spec, settings, pipeline):
        mixed = self.framework.mixed_workloads
        if settings.precision != "fp32" and spec.id not in mixed:
            raise PrecisionUnsupported("tensorflow runs fp32 only for %s: %s" % (spec.id,
                                                                                self.framework.precision_note))
        tuned = settings.tier == "tuned"
        trainer = TensorFlowTrainer(workload_module, spec.hp, settings.seed, pipeline,
                                    jit=self.framework.compile_for(settings) == "jit",
                                    resident=tuned and pipeline.augment is None,
                                    device="/GPU:0" if settings.device == "gpu" else "/CPU:0",
                                    precision=settings.precision)
        if tuned:
            trainer.tuning = ("tf.function(jit_compile=True): XLA compiles the training step" if trainer.jit else
                              "no XLA: compile = none was asked, and XLA is TensorFlow's tuned form")
            trainer.tuning += ("; the training set resident on the device, each step gathers its batch there"
                               if trainer.resident else
                               "; batches from the host: the augmentation runs in NumPy, batch by batch")
            if spec.attention:
                trainer.tuning += ("; attention written out (TensorFlow has no fused attention op outside Keras)"
                                   + (", fused by XLA in the compiled step" if trainer.jit else ""))
        return trainer


class TensorFlowTrainer(BaseTrainer):
    """GradientTape steps under tf.function. Data placement (adapter.DATA_PLACEMENTS): the default tier hands each
    NumPy batch to the step as tensors (tf.constant per batch, copied to the device inside the step's time); the
    tuned tier (resident) copies a training set without augmentation to the device once and passes each step the
    batch's indices, which it gathers there (tf.gather inside the compiled step)."""

    def __init__(self, module, hp, seed, pipeline, jit=False, resident=False, device="/CPU:0", precision="fp32"):
        import tensorflow as tf

        self.tf, self.pipeline, self.jit, self.resident, self.device = tf, pipeline, jit, resident, device
        self.data_placement = DEVICE_RESIDENT if resident else HOST_PER_BATCH
        self.on_device = {}
        self.model, self.optimizer = module.build(hp, tf.random.Generator.from_seed(seed))
        model, optimizer = self.model, self.optimizer
        self.precision = precision
        mixed = MixedPrecision(tf, COMPUTE_DTYPES[precision]) if COMPUTE_DTYPES[precision] else None
        scaler = DynamicLossScale(tf) if precision == "fp16-mixed" else None
        self.mixed, self.scaler = mixed, scaler

        def forward(inputs, training):
            return model(*inputs, training=training) if mixed is None else mixed.forward(model, inputs, training)
        # The epoch's sums live in variables that the steps add to inside their graphs: adding them up in eager
        # mode costs two eager ops per batch, which is how a standalone loop and dlbench drifted apart.
        self.loss_sum, self.correct_sum = tf.Variable(0.0, trainable=False), tf.Variable(0.0, trainable=False)

        def accumulate(loss, correct, targets):
            self.loss_sum.assign_add(loss * tf.cast(tf.shape(targets[0])[0], tf.float32))
            self.correct_sum.assign_add(tf.cast(correct, tf.float32))

        def train_body(inputs, targets):
            with tf.GradientTape() as tape:
                outputs = forward(inputs, True)
                loss = module.loss_fn(outputs, *targets)
                scaled = loss * scaler.scale if scaler is not None else loss
            variables = model.trainable_variables
            gradients = tape.gradient(scaled, variables)
            if scaler is None:
                optimizer.apply(gradients, variables)
            else:  # the update only when every gradient is finite
                gradients, finite = scaler.unscale(gradients)
                tf.cond(finite, lambda: applied(gradients, variables), lambda: tf.constant(False))
                scaler.adjust(finite)
            accumulate(loss, module.correct(outputs, *targets), targets)

        def applied(gradients, variables):
            optimizer.apply(gradients, variables)
            return tf.constant(True)

        @tf.function(jit_compile=jit)
        def train_step(inputs, targets):
            train_body(inputs, targets)

        @tf.function(jit_compile=jit)
        def gathered_step(inputs, targets, index):
            train_body([tf.gather(a, index) for a in inputs], [tf.gather(a, index) for a in targets])

        @tf.function
        def eval_step(inputs, targets):
            outputs = forward(inputs, False)
            accumulate(module.loss_fn(outputs, *targets), module.correct(outputs, *targets), targets)

        @tf.function
        def predict_step(inputs):
            return module.probabilities(forward(inputs, False))

        self.train_step, self.eval_step, self.predict_step = train_step, eval_step, predict_step
        self.gathered_step = gathered_step

    def param_counts(self):
        def size(variables):
            return sum(int(np.prod(v.shape)) for v in variables)
        return size(self.model.variables), size(self.model.trainable_variables)

    def _run(self, step, batches, split):
        tf = self.tf
        self.loss_sum.assign(0.0)
        self.correct_sum.assign(0.0)
        for inputs, targets in batches:
            step([tf.constant(a) for a in inputs], [tf.constant(a) for a in targets])
        return float(self.loss_sum.numpy()) / split.n, float(self.correct_sum.numpy()) / split.n

    def train_epoch(self, split, batch_size, rng):
        if not self.resident:
            return self._run(self.train_step, self.pipeline.epoch(split, batch_size, rng), split)
        tf = self.tf
        if id(split) not in self.on_device:  # once, in the warm-up epoch: tf.identity under the device scope copies
            with tf.device(self.device):    # the host tensor there
                self.on_device[id(split)] = ([tf.identity(a) for a in split.inputs],
                                             [tf.identity(a) for a in split.targets])
        inputs, targets = self.on_device[id(split)]
        self.loss_sum.assign(0.0)
        self.correct_sum.assign(0.0)
        for index in shuffled_batches(split.n, batch_size, rng):  # the pipeline's shuffled order
            self.gathered_step(inputs, targets, tf.constant(index))
        return float(self.loss_sum.numpy()) / split.n, float(self.correct_sum.numpy()) / split.n

    def evaluate(self, split, batch_size):
        return self._run(self.eval_step, self.pipeline.ordered(split, batch_size), split)

    def rnn_evidence(self, inputs, targets):
        tf = self.tf
        return graph_ops(self.train_step.get_concrete_function([tf.constant(a) for a in inputs],
                                                               [tf.constant(a) for a in targets]))

    def forward_top_ops(self, inputs):
        """The top-level ops of one forward pass in training mode, traced (nothing runs), for
        kernels.recurrent_launches (tests/test_rnn_launches.py)."""
        tf, model = self.tf, self.model
        forward = tf.function(lambda *x: model(*x, training=True))
        return top_ops(forward.get_concrete_function(*[tf.constant(a) for a in inputs]))

    def predict(self, inputs):
        return self.predict_step([self.tf.constant(a) for a in inputs]).numpy()

    def compile_mode(self):
        return "tf.function(jit_compile=%s)" % self.jit

    def precision_used(self, inputs):
        """What the trial really computes in, read back from the traced forward pass in inference mode (traced, not
        run: the dtypes the graph holds): the model's raw output (the logits, before the cast to float32 for the
        loss; its main head's where it has several), the variables (master weights) and the optimizer's slots, and
        the loss scaling."""
        tf, model, mixed = self.tf, self.model, self.mixed
        x = [tf.constant(a) for a in inputs]
        raw = tf.function(lambda *x: model(*x, training=False) if mixed is None else
                          mixed.forward(model, x, False, to_float32=False))
        try:
            compute = tf.nest.flatten(raw.get_concrete_function(*x).structured_outputs)[0].dtype.name
        except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:  # a float32 value mixed in
            raise PrecisionUnsupported("tensorflow %s: this model's code mixes float32 into the %s compute: %s" % (
                self.precision, mixed.name, str(error).splitlines()[0]))
        if compute != (mixed.name if mixed is not None else "float32"):
            raise PrecisionUnsupported("tensorflow %s: this model's output is computed in %s" % (self.precision,
                                                                                                 compute))

        def dtypes(variables):
            return ", ".join(sorted({v.dtype.name for v in variables if v.dtype.is_floating}))
        return {"requested": self.precision, "compute": compute, "params": dtypes(model.trainable_variables),
                "optimizer_state": dtypes(self.optimizer.variables),
                "method": "float32 variables and inputs cast to %s inside the traced step (Keras's autocast written "
                          "out), outputs cast back to float32" % mixed.name if mixed is not None else "none",
                "loss_scale": "dynamic: written out (Keras's rule), initial scale %g, growth every %d steps" % (
                    self.scaler.initial, self.scaler.growth_steps) if self.scaler is not None else None}

    def sync(self):
        # TensorFlow has no device-wide barrier in eager mode: reading a value back waits for what produced it.
        self.model.trainable_variables[0].numpy()

    def allocator_peak(self):
        return tf_allocator_peak(self.tf)
