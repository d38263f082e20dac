"""Keras 3 on one of its backends: model.fit and model.evaluate, as a Keras user runs them.

The backend is chosen by KERAS_BACKEND before Keras is imported, exactly as the seed articles flipped it. Threads,
denormals and the device are set up through the backend framework itself (the same code as its native adapter).

Precision (the trial's `precision` setting), through Keras's dtype policies, set globally before the workload's
model is built, on every backend:
  fp32        the float32 policy.
  bf16        mixed_bfloat16: layers compute in bfloat16, their variables (the master weights) and the optimizer
              state stay float32. No loss scaling.
  fp16-mixed  mixed_float16: float16 compute, float32 variables; Model.compile wraps the optimizer in a
              keras.optimizers.LossScaleOptimizer (dynamic loss scaling: initial scale 2**15, halved and the step
              skipped on inf/NaN gradients, doubled after 2000 good steps).
The model's output layers (each workload's last Dense, with its softmax or sigmoid) are set to the float32 policy,
as the Keras mixed-precision guide advises: the probabilities the loss takes the log of are computed in float32
(a bfloat16 softmax loses small probabilities); Keras's losses compute in float32 in any case. Under a mixed policy
the last layer's matmul is therefore float32 too: a small share of any workload's FLOPs.
"""
import os
import time

import numpy as np

from dlbench.frameworks.adapter import HOST_PER_BATCH, HOST_PREFETCHED
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import PrecisionUnsupported, SettingUnsupported
from dlbench.frameworks.adapter import Trainer as BaseTrainer

# Each backend runs in the layout its fast path prefers: Keras's torch backend transposes channels-last convolutions
# on every call, TensorFlow's CPU convolutions want channels-last (WORKLOADS.md).
IMAGE_DATA_FORMAT = {"jax": "channels_last", "tensorflow": "channels_last", "torch": "channels_first"}


class Adapter(BaseAdapter):
    layouts = ("channels_first", "channels_last")  # every workload's keras.py follows image_data_format
    requested_layout = None

    @property
    def layout(self):
        return self.requested_layout or IMAGE_DATA_FORMAT[self.framework.keras_backend]

    def configure(self, settings):
        BaseAdapter.configure(self, settings)
        self.requested_layout = settings.layout
        os.environ["KERAS_BACKEND"] = self.framework.keras_backend

    def load(self, settings):
        backend = self.framework.keras_backend
        if backend == "torch":
            from dlbench.frameworks.torch.adapter import setup_torch
            info = setup_torch(settings)[1]
        elif backend == "tensorflow":
            from dlbench.frameworks.tensorflow.adapter import setup_tensorflow
            info = setup_tensorflow(settings)
        else:
            from dlbench.frameworks.jax.adapter import setup_jax
            info = setup_jax(settings)
        import keras

        if keras.backend.backend() != backend:
            raise RuntimeError("Keras loaded the %r backend, not %r" % (keras.backend.backend(), backend))
        set_random_seed(keras, settings.seed, backend)
        keras.config.set_image_data_format(self.layout)
        info["keras_backend"] = keras.backend.backend()
        info["layout"] = keras.config.image_data_format()
        return info

    def trainer(self, workload_module, spec, settings, pipeline):
        return KerasTrainer(workload_module, spec.hp, pipeline, tuned=settings.tier == "tuned",
                            precision=settings.precision, compile=self.framework.compile_for(settings),
                            attention=spec.attention)


POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16-mixed": "mixed_float16"}
COMPUTE_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16-mixed": "float16"}


def output_layers(model):
    """The layers that produce the model's outputs, in output order."""
    return [tensor._keras_history.operation for tensor in model.outputs]


def flash_attention(keras, dtype):
    """Keras's flash attention for the tuned tier, in words: turned on (keras.config.enable_flash_attention(), its
    default: each attention call checks whether the backend's flash kernel applies), and whether it does here, read
    back by asking one small call in the compute dtype for it (flash_attention=True raises where it cannot)."""
    keras.config.enable_flash_attention()
    q = keras.ops.zeros((1, 64, 2, 32), dtype=dtype)
    try:
        keras.ops.dot_product_attention(q, q, q, is_causal=True, flash_attention=True)
    except Exception as error:  # each backend raises its own kind
        return ("keras.config.enable_flash_attention(), but Keras's flash kernel does not apply here (%s: %s): the "
                "backend's attention call runs without it, the kernel it picks recorded"
                % (keras.backend.backend(), str(error).splitlines()[0]))
    return "keras.config.enable_flash_attention(): Keras's flash kernel applies here"


def _one_or_list(arrays):
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def augmented_batches(keras, pipeline, split, batch_size, rng):
    """A Keras PyDataset over dlbench's input pipeline: the modern form of the seed scripts'
    `fit(datagen.flow(...))`, with the same shuffling and augmentation code as the native frameworks."""

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)  # in this process, like the native loops
            self.on_epoch_end()

        def on_epoch_end(self):  # Keras calls it as each epoch ends: the next one is reshuffled
            self.order = rng.permutation(split.n)

        def __len__(self):
            return -(-split.n // batch_size)

        def __getitem__(self, i):
            inputs, targets = pipeline.batch(split, self.order[i * batch_size:(i + 1) * batch_size], rng)
            return _one_or_list(inputs), _one_or_list(targets)

    return Batches()


def epoch_clock_callback(keras, clock, accuracy, fit_called):
    """A callback that hands each of fit's epochs to the worker's clock (worker.training.EpochClock): begin as the
    epoch begins, trained (after a sync) as fit's validation begins, end with the epoch's logs as it ends. The first
    epoch's clock starts when fit is called, so that Keras's one-off setup (data adapter, callbacks) counts in that
    warm-up epoch and is recorded apart."""

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 0:
                clock.setup(time.perf_counter() - fit_called)
            else:
                clock.begin()

        def on_test_begin(self, logs=None):
            clock.trained()

        def on_epoch_end(self, epoch, logs=None):
            if not clock.end(epoch + 1, logs["loss"], logs[accuracy], (logs["val_loss"], logs["val_" + accuracy])):
                self.model.stop_training = True

    return EpochClock()


def fit_placement(keras):
    """Where Keras's fit on NumPy arrays (or a PyDataset) takes its batches from (adapter.DATA_PLACEMENTS): the
    host, batch by batch, on every backend; Keras has no device-resident path for arrays (its JAX and torch
    iterators slice NumPy arrays on the host; its TensorFlow one is a tf.data pipeline on the host). On JAX, fit
    also starts the next batch's copy to the device while a step runs (read from the installed Keras: its
    JAXEpochIterator goes one batch ahead on a GPU, not on a CPU; older versions two batches ahead on any device)."""
    if keras.backend.backend() != "jax":
        return HOST_PER_BATCH
    import jax
    try:
        from keras.src.backend.jax.trainer import JAXEpochIterator
    except ImportError:  # a Keras laid out otherwise: host-fed per batch in any case, the look-ahead unknown
        return HOST_PER_BATCH
    if hasattr(JAXEpochIterator, "_one_batch_ahead_iterator"):
        return HOST_PREFETCHED if jax.default_backend() != "cpu" else HOST_PER_BATCH
    return HOST_PREFETCHED if hasattr(JAXEpochIterator, "_prefetch_numpy_iterator") else HOST_PER_BATCH


def set_random_seed(keras, seed, backend):
    """keras.utils.set_random_seed(seed), without importing TensorFlow on the other backends: Keras imports it
    wherever it is installed, only to seed it (2-4 s of a trial's start and 0.45 GB of its peak memory on JAX
    or torch, which never use it). Seeded as if TensorFlow were absent, which changes no number a JAX or torch trial
    computes. TensorFlow's trials, a process that has imported TensorFlow already, and a Keras without this lazy module
    (its private part) seed exactly as Keras does."""
    try:
        from keras.src.utils.module_utils import tensorflow as lazy
    except ImportError:
        lazy = None
    if backend == "tensorflow" or getattr(lazy, "module", True) is not None or not hasattr(lazy, "_available"):
        return keras.utils.set_random_seed(seed)
    available, lazy._available = lazy._available, False
    try:
        keras.utils.set_random_seed(seed)
    finally:
        lazy._available = available


class KerasTrainer(BaseTrainer):
    """model.fit on NumPy arrays (a PyDataset for an augmented set), as a Keras user trains, in both tiers: Keras
    feeds fit from the host (fit_placement). Its tuned tier changes the executor (steps_per_execution), not the
    data placement."""

    def __init__(self, module, hp, pipeline, tuned=False, precision="fp32", compile="none", attention=False):
        import keras

        self.keras, self.module, self.pipeline = keras, module, pipeline
        self.precision = precision
        # The policy every layer built from here on takes (and Model.compile reads for the loss scaling).
        keras.config.set_dtype_policy(POLICIES[precision])
        self.model = module.build(hp)
        if precision != "fp32":
            for layer in output_layers(self.model):  # probabilities in float32 (module docstring)
                layer.dtype_policy = "float32"
        if keras.backend.backend() != "jax":  # jax: always jitted (its one compile mode), as Keras's "auto" has it
            self.model.jit_compile = compile == "jit"
            if self.model.jit_compile != (compile == "jit"):  # Keras turns it off, with a warning, for some models
                raise SettingUnsupported("keras-%s: Keras refused jit_compile=True for this model"
                                         % keras.backend.backend())
        # Keras's torch backend refuses steps_per_execution > 1: its tuned tier is its default.
        self.tuned = tuned and keras.backend.backend() != "torch"
        self.data_placement = fit_placement(keras)
        if self.tuned:
            self.tuning = ("steps_per_execution = the batches of an epoch: one compiled call runs the whole epoch; "
                           "batches still from the host (Keras's fit has no device-resident path for arrays)")
        elif tuned:
            self.tuning = ("none: Keras's torch backend refuses steps_per_execution > 1, and its fit has no "
                           "device-resident path for arrays")
        if tuned and attention:
            self.tuning += "; attention: " + flash_attention(keras, COMPUTE_DTYPES[precision])
        # The accuracy to report: "accuracy", or for a model with several outputs its main head's (e.g.
        # "main_accuracy"), as the workload's keras.py names it.
        self.accuracy = getattr(module, "ACCURACY", "accuracy")

    def param_counts(self):
        trainable = sum(int(np.prod(w.shape)) for w in self.model.trainable_weights)
        return self.model.count_params(), trainable

    def train(self, split, val, batch_size, rng, epochs, clock):
        """One fit over every epoch, validating inside it, as a Keras user trains. fit(epochs=1) once per epoch
        would leave out of the epoch what Keras does between epochs inside one fit (on TensorFlow, the next epoch's
        data iterator, made as an epoch ends): measured on mnist_mlp at 1 thread, TensorFlow's epochs were 0.52 s in
        that form and 0.62 s in one fit (benchmarks/standalone/mnist_mlp_keras.py times the user's form). And
        validating with model.evaluate from a callback inside fit slowed TensorFlow's epochs: faithful.py's ratio
        was 1.30 that way and 1.06 with fit's own validation_data (mnist_mlp, 1 thread, quiet machine)."""
        clock.begin()
        self.fit(split, batch_size, rng, epochs, [epoch_clock_callback(self.keras, clock, self.accuracy,
                                                                       time.perf_counter())], val)

    def train_epoch(self, split, batch_size, rng):
        """One fit(epochs=1): verify's one update, and tests that want one epoch's loss without the worker."""
        logs = self.fit(split, batch_size, rng, 1, []).history
        return logs["loss"][-1], logs[self.accuracy][-1]

    def fit(self, split, batch_size, rng, epochs, callbacks, val=None):
        if self.tuned:  # read when fit first builds its train function
            self.model.steps_per_execution = -(-split.n // batch_size)
        validation = dict(validation_data=(_one_or_list(val.inputs), _one_or_list(val.targets)),
                          validation_batch_size=batch_size) if val is not None else {}
        if self.pipeline.augment is not None:
            return self.model.fit(augmented_batches(self.keras, self.pipeline, split, batch_size, rng), epochs=epochs,
                                  verbose=0, callbacks=callbacks, **validation)
        # In-memory arrays, as a Keras user fits them: Keras shuffles every sample each epoch itself (its own seeded
        # generator) and keeps the last partial batch.
        return self.model.fit(_one_or_list(split.inputs), _one_or_list(split.targets), batch_size=batch_size,
                              epochs=epochs, shuffle=True, verbose=0, callbacks=callbacks, **validation)

    def evaluate(self, split, batch_size):
        logs = self.model.evaluate(_one_or_list(split.inputs), _one_or_list(split.targets), batch_size=batch_size,
                                   verbose=0, return_dict=True)
        return logs["loss"], logs[self.accuracy]

    def rnn_evidence(self, inputs, targets):
        """The ops of the model's forward pass in training mode, read as its backend shows them."""
        model, backend, x = self.model, self.keras.backend.backend(), list(inputs)
        if backend == "jax":
            import jax

            from dlbench.frameworks.jax.adapter import jaxpr_ops
            return jaxpr_ops(jax, lambda trainable, other, *x: model.stateless_call(
                trainable, other, _one_or_list(list(x)), training=True)[0],
                [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], *x)
        if backend == "tensorflow":
            import tensorflow as tf

            from dlbench.frameworks.tensorflow.adapter import graph_ops
            forward = tf.function(lambda *x: model(_one_or_list(list(x)), training=True))
            return graph_ops(forward.get_concrete_function(*[tf.constant(a) for a in x]))
        import torch

        from dlbench.frameworks.torch.adapter import profiled_ops
        return profiled_ops(torch, lambda: model(_one_or_list(x), training=True))

    def forward_top_ops(self, inputs):
        """The top-level ops of one forward pass in training mode, read as its backend shows them (traced on jax
        and tensorflow, profiled on torch), for kernels.recurrent_launches (tests/test_rnn_launches.py)."""
        from dlbench.frameworks import kernels
        model, backend, x = self.model, self.keras.backend.backend(), list(inputs)
        if backend == "jax":
            import jax

            return kernels.jaxpr_top_ops(jax.make_jaxpr(lambda trainable, other, x: model.stateless_call(
                trainable, other, x, training=True)[0])([v.value for v in model.trainable_variables],
                                                        [v.value for v in model.non_trainable_variables],
                                                        _one_or_list(x)))
        if backend == "tensorflow":
            import tensorflow as tf

            from dlbench.frameworks.tensorflow.adapter import top_ops
            forward = tf.function(lambda *x: model(_one_or_list(list(x)), training=True))
            return top_ops(forward.get_concrete_function(*[tf.constant(a) for a in x]))
        import torch

        from dlbench.frameworks.torch.adapter import profiled_top_ops
        return profiled_top_ops(torch, lambda: model(_one_or_list(x), training=True))

    def predict(self, inputs):
        # predict_on_batch runs the compiled predict function (a direct model call is eager: 0.8 s a call on jax).
        return np.asarray(self.module.probabilities(self.model.predict_on_batch(_one_or_list(list(inputs)))))

    def precision_used(self, inputs):
        """What the trial really computes in, read back from one forward pass in inference mode (untimed): the dtype
        of the activation entering the (first) output layer and of the output itself, the variables' dtypes (the
        master weights), and the loss scaling Model.compile set up."""
        keras, model = self.keras, self.model
        if self.precision == "fp16-mixed" and keras.backend.backend() == "jax":
            import jax

            from dlbench.frameworks.jax.adapter import refuse_unlowerable
            if jax.default_backend() == "cpu":  # the probe below runs eagerly, where JAX's attention falls back
                refuse_unlowerable(jax, lambda trainable, other, x: model.stateless_call(
                    trainable, other, x, training=False)[0], ([v.value for v in model.trainable_variables],
                                                              [v.value for v in model.non_trainable_variables],
                                                              _one_or_list(list(inputs))), "keras-jax")
        out_layer = output_layers(model)[0]
        probe = keras.Model(model.inputs, [out_layer.input, model.outputs[0]])
        hidden, output = probe(_one_or_list(list(inputs)), training=False)
        optimizer = model.optimizer
        scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        compute = keras.backend.standardize_dtype(hidden.dtype)
        if compute != COMPUTE_DTYPES[self.precision]:
            raise PrecisionUnsupported("%s %s: the activation entering this model's output layer is %s, not %s"
                                       % (self.framework_id(), self.precision, compute,
                                          COMPUTE_DTYPES[self.precision]))
        return {"requested": self.precision, "compute": compute,
                "output": keras.backend.standardize_dtype(output.dtype),
                "params": ", ".join(sorted({keras.backend.standardize_dtype(v.dtype) for v in model.weights})),
                "method": "keras dtype policy %s (output layers float32)" % model.dtype_policy.name
                if self.precision != "fp32" else "keras dtype policy float32",
                "loss_scale": "dynamic: keras LossScaleOptimizer, initial scale %g, growth every %d steps" % (
                    float(np.asarray(optimizer.initial_scale)), optimizer.dynamic_growth_steps) if scaled else None}

    def framework_id(self):
        return "keras-" + self.keras.backend.backend()

    def compile_mode(self):
        return "jit_compile=%s" % (self.model.jit_compile,)

    def sync(self):
        # Reading a weight back waits for the update that wrote it, on every backend.
        np.asarray(self.model.trainable_weights[-1].numpy())

    def allocator_peak(self):
        backend = self.keras.backend.backend()
        if backend == "jax":
            import jax

            from dlbench.frameworks.jax.adapter import jax_allocator_peak
            return jax_allocator_peak(jax)
        if backend == "tensorflow":
            import tensorflow as tf

            from dlbench.frameworks.tensorflow.adapter import tf_allocator_peak
            return tf_allocator_peak(tf)
        import torch

        from dlbench.frameworks.torch.adapter import torch_allocator_peak
        return torch_allocator_peak(torch)
