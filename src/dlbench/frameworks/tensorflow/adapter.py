"""Native TensorFlow: GradientTape inside a tf.function, the idiom of its custom-training-loop guide.

Precision: fp32 only. TensorFlow's mixed precision is Keras's (dtype policies, AutoCastVariable); outside Keras
there is no autocast, and TensorFlow refuses to mix dtypes in one op, so each native model (tf.Module with float32
tf.Variables, and float32 tensors made inside, e.g. an LSTM's zero state) would need its compute dtype written into
its code. A bf16 or fp16-mixed trial of this framework is recorded skipped with that reason (the registry's
precision_note, before any process starts; this adapter refuses too if asked directly). keras-tensorflow runs both.
"""
import os

import numpy as np

from dlbench.frameworks import FRAMEWORKS
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


class Adapter(BaseAdapter):
    def load(self, settings):
        return setup_tensorflow(settings)

    def trainer(self, workload_module, spec, settings, pipeline):
        if settings.precision != "fp32":
            raise PrecisionUnsupported("tensorflow runs fp32 only: " + FRAMEWORKS["tensorflow"].precision_note)
        tuned = settings.tier == "tuned"
        trainer = TensorFlowTrainer(workload_module, spec.hp, settings.seed, pipeline,
                                    jit=self.framework.compile_for(settings) == "jit",
                                    resident=tuned and pipeline.augment is None,
                                    device="/GPU:0" if settings.device == "gpu" else "/CPU:0")
        if tuned:
            trainer.tuning = ("tf.function(jit_compile=True): XLA compiles the training step" if trainer.jit else
                              "no XLA: compile = none was asked, and XLA is TensorFlow's tuned form")
            trainer.tuning += ("; the training set resident on the device, each step gathers its batch there"
                               if trainer.resident else
                               "; batches from the host: the augmentation runs in NumPy, batch by batch")
        return trainer


class TensorFlowTrainer(BaseTrainer):
    """GradientTape steps under tf.function. Data placement (adapter.DATA_PLACEMENTS): the default tier hands each
    NumPy batch to the step as tensors (tf.constant per batch, copied to the device inside the step's time); the
    tuned tier (resident) copies a training set without augmentation to the device once and passes each step the
    batch's indices, which it gathers there (tf.gather inside the compiled step)."""

    def __init__(self, module, hp, seed, pipeline, jit=False, resident=False, device="/CPU:0"):
        import tensorflow as tf

        self.tf, self.pipeline, self.jit, self.resident, self.device = tf, pipeline, jit, resident, device
        self.data_placement = DEVICE_RESIDENT if resident else HOST_PER_BATCH
        self.on_device = {}
        self.model, self.optimizer = module.build(hp, tf.random.Generator.from_seed(seed))
        model, optimizer = self.model, self.optimizer
        # The epoch's sums live in variables that the steps add to inside their graphs: adding them up in eager
        # mode costs two eager ops per batch, which is how a standalone loop and dlbench drifted apart.
        self.loss_sum, self.correct_sum = tf.Variable(0.0, trainable=False), tf.Variable(0.0, trainable=False)

        def accumulate(loss, correct, targets):
            self.loss_sum.assign_add(loss * tf.cast(tf.shape(targets[0])[0], tf.float32))
            self.correct_sum.assign_add(tf.cast(correct, tf.float32))

        def train_body(inputs, targets):
            with tf.GradientTape() as tape:
                outputs = model(*inputs, training=True)
                loss = module.loss_fn(outputs, *targets)
            variables = model.trainable_variables
            optimizer.apply(tape.gradient(loss, variables), variables)
            accumulate(loss, module.correct(outputs, *targets), targets)

        @tf.function(jit_compile=jit)
        def train_step(inputs, targets):
            train_body(inputs, targets)

        @tf.function(jit_compile=jit)
        def gathered_step(inputs, targets, index):
            train_body([tf.gather(a, index) for a in inputs], [tf.gather(a, index) for a in targets])

        @tf.function
        def eval_step(inputs, targets):
            outputs = model(*inputs, training=False)
            accumulate(module.loss_fn(outputs, *targets), module.correct(outputs, *targets), targets)

        @tf.function
        def predict_step(inputs):
            return module.probabilities(model(*inputs, training=False))

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

    def sync(self):
        # TensorFlow has no device-wide barrier in eager mode: reading a value back waits for what produced it.
        self.model.trainable_variables[0].numpy()

    def allocator_peak(self):
        return tf_allocator_peak(self.tf)
