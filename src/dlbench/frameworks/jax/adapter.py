"""JAX with Flax NNX and optax: nnx.jit-compiled train and eval steps fed NumPy batches from the host, the idiom of
the Flax tutorials (the default tier), called through nnx.cached_partial as Flax's performance guide advises (the
model's graph is traversed once, not on every call); or, in the tuned tier, the training set on the device and one
jitted lax.scan over each epoch's batches (on a CPU one jitted step per batch over the resident arrays).

Precision (the trial's `precision` setting), written out as DeepMind's jmp library does it, for every model without
touching its code (MixedPrecision below):
  fp32        float32 everywhere.
  bf16        inside the jitted step the float32 parameters and the floating inputs are cast to bfloat16, the model
              runs on the copies, and its outputs are cast back to float32 before the loss; the gradients flow back
              through the casts to the float32 parameters (the master weights), and optax's state stays float32.
              Non-parameter state the forward pass moves (dropout RNG counts, BatchNorm statistics) is written back
              to the model in float32. No loss scaling.
  fp16-mixed  the same with float16, and dynamic loss scaling (DynamicLossScale below, Keras's rule): the loss is
              multiplied by the scale (initial 2**15) before differentiation and the gradients divided by it; a step
              whose gradients are not all finite is undone (parameters and optimizer state kept) and halves the
              scale; 2000 finite steps in a row double it.
"""
import os

import numpy as np

from dlbench.frameworks.adapter import DEVICE_RESIDENT
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import PrecisionUnsupported
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals, matmul_precision, tf32_allowed

# jax_default_matmul_precision's values by what they do to float32 dots and convolutions on an NVIDIA GPU (JAX's
# "Matmul precision" guide): None and DEFAULT use TF32 where the GPU has it, HIGH ("tensorfloat32") TF32, HIGHEST
# ("float32") true float32. The dot-algorithm presets name their format.
JAX_TF32 = (None, "default", "fastest", "bfloat16", "high", "tensorfloat32", "bfloat16_3x", "TF32_TF32_F32")
JAX_FP32 = ("highest", "float32", "F32_F32_F32")


def jax_matmul_precision(value, gpu, capability=None):
    """The run's "tf32" or "fp32" from jax_default_matmul_precision's value (adapter.matmul_precision), or the
    value itself in words for a setting that is neither."""
    if gpu and value not in JAX_TF32 + JAX_FP32:
        return "jax_default_matmul_precision %s" % value
    tf32 = value in JAX_TF32
    return matmul_precision(gpu, tf32, tf32, capability)


def set_jax_tf32(jax, allowed):
    """dlbench's one TF32 policy (adapter.tf32_allowed) in JAX's terms, written out though XLA's default already
    allows TF32: the default precision of every float32 dot and convolution that names none (Flax's layers name
    none)."""
    jax.config.update("jax_default_matmul_precision", "tensorfloat32" if allowed else "float32")


def setup_jax(settings):
    """Device, matmul precision and denormal probe for JAX; shared with Keras on the jax backend. XLA on the CPU
    sizes its thread pool from the CPUs this process may use, which the worker has already pinned to `threads`."""
    import jax

    device = jax.devices()[0]
    if settings.device == "gpu" and device.platform != "gpu":
        raise RuntimeError("--device gpu, but JAX %s runs on %s: install jax[cuda12] (or cuda13), or use --device "
                           "cpu" % (jax.__version__, device.platform))
    gpu = device.platform == "gpu"
    if gpu:
        set_jax_tf32(jax, tf32_allowed(settings))
    capability = getattr(device, "compute_capability", None) if gpu else None
    return {
        "threads": {"intra_op": None, "inter_op": None, "note": "XLA CPU uses the process's CPU affinity"},
        "denormals_flushed": flushes_denormals(jax.jit(lambda a, b: a * b)),
        "device": {"kind": device.platform, "name": getattr(device, "device_kind", str(device)),
                   "xla_autotune": "--xla_gpu_autotune_level=0" not in os.environ.get("XLA_FLAGS", "")
                   if device.platform == "gpu" else None},
        "tf32": {"default_matmul_precision": jax.config.jax_default_matmul_precision,
                 "compute_capability": capability} if gpu else None,
        "matmul_precision": jax_matmul_precision(jax.config.jax_default_matmul_precision, gpu,
                                                 version_tuple(capability)),
    }


def version_tuple(text):
    """"9.0" -> (9, 0); None for anything else (then no capability check is made)."""
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return None


def jax_allocator_peak(jax):
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform == "gpu" else None
    return int(stats["peak_bytes_in_use"]) if stats and "peak_bytes_in_use" in stats else None


def jaxpr_ops(jax, function, *args):
    """The primitives of function's jaxpr, nested ones included, as "jax:<name>" (a lax.scan shows as jax:scan; a
    custom call names its target)."""
    found = set()

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            found.add("jax:" + eqn.primitive.name)
            for key in ("call_target_name", "target_name"):
                if key in eqn.params:
                    found.add("jax:" + str(eqn.params[key]))
            for value in eqn.params.values():
                for sub in value if isinstance(value, (list, tuple)) else (value,):
                    inner = getattr(sub, "jaxpr", sub)
                    if hasattr(inner, "eqns"):
                        walk(inner)
    walk(jax.make_jaxpr(function)(*args).jaxpr)
    return sorted(found)


COMPUTE_DTYPES = {"fp32": None, "bf16": "bfloat16", "fp16-mixed": "float16"}


def refuse_unlowerable(jax, function, args, who):
    """Lower function(*args) under jit (nothing runs) and turn XLA's refusal into PrecisionUnsupported. An fp16-mixed
    trial on a CPU needs it: XLA:CPU has no float16 dot with float32 accumulation, which jax.nn.dot_product_attention
    asks for float16 inputs (DotAlgorithmPreset.F16_F16_F32; its fallback catches errors while tracing only), and
    the error would come only as the jitted step is lowered, as a failed trial."""
    try:
        jax.jit(function).lower(*args)
    except ValueError as error:
        message = str(error).splitlines()[0]
        if "F16_F16_F32" in message:
            message = "jax.nn.dot_product_attention asks float16 inputs for F16_F16_F32: '%s'" % message
        raise PrecisionUnsupported("%s fp16-mixed on a CPU: XLA:CPU cannot lower this model's float16 forward pass "
                                   "(jax %s; %s)" % (who, jax.__version__, message))


class MixedPrecision(object):
    """Compute in a half type with float32 master weights: cast the parameters and floating inputs down on the way
    in, the outputs up to float32 on the way out (the loss is computed in float32)."""

    def __init__(self, jax, nnx, dtype_name):
        self.jax, self.nnx, self.name = jax, nnx, dtype_name
        self.dtype = getattr(jax.numpy, dtype_name)

    def _cast(self, tree, dtype):
        jnp = self.jax.numpy
        return self.jax.tree_util.tree_map(
            lambda x: x.astype(dtype) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else x, tree)

    def forward(self, model, inputs, to_float32=True):
        nnx = self.nnx
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        half = nnx.merge(graphdef, self._cast(params, self.dtype), rest)
        # Flax's layers fix a compute dtype at construction (nnx.Embed: its table's float32; an LSTM cell makes its
        # carry in param_dtype) and would promote back to float32: on this copy both are the half type.
        for _, layer in nnx.iter_modules(half):
            for name in ("dtype", "param_dtype"):
                if name in vars(layer):
                    setattr(layer, name, self.dtype)
        outputs = half(*self._cast(list(inputs), self.dtype))
        # The state the pass moved on (RNG counts, BatchNorm statistics) goes back to the model, in float32.
        nnx.update(model, self._cast(nnx.state(half, nnx.Not(nnx.Param)), self.jax.numpy.float32))
        return self._cast(outputs, self.jax.numpy.float32) if to_float32 else outputs


class DynamicLossScale(object):
    """Keras's LossScaleOptimizer rule: initial scale 2**15, halved on a step with inf/NaN gradients (the step is
    undone), doubled after `growth_steps` finite steps in a row. Its two numbers travel through the jitted step
    as nnx Variables."""

    def __init__(self, jax, nnx, initial=2.0 ** 15, growth_steps=2000):
        jnp = jax.numpy
        self.jax, self.nnx, self.growth_steps = jax, nnx, growth_steps
        self.initial = initial

        class State(nnx.Module):
            def __init__(self):
                self.scale = nnx.Variable(jnp.asarray(initial, jnp.float32))
                self.good_steps = nnx.Variable(jnp.asarray(0, jnp.int32))
        self.state = State()

    def adjust(self, state, finite):
        jnp = self.jax.numpy
        good = state.good_steps[...] + 1
        grow = good >= self.growth_steps
        state.scale[...] = jnp.where(finite, jnp.where(grow, state.scale[...] * 2.0, state.scale[...]),
                                     state.scale[...] / 2.0)
        state.good_steps[...] = jnp.where(finite & ~grow, good, 0)


class Adapter(BaseAdapter):
    def load(self, settings):
        return setup_jax(settings)

    def trainer(self, workload_module, spec, settings, pipeline):
        tuned = settings.tier == "tuned"
        precision = settings.precision
        if tuned and pipeline.augment is None:
            # The scan on a GPU only. Measured: mnist_cnn's two steps took 25-30 s as a scan on a CPU, 0.7 s as
            # separate steps (XLA:CPU runs convolutions inside a scanned loop far slower).
            trainer = JaxScanTrainer(workload_module, spec.hp, settings.seed, pipeline, precision,
                                     scan=settings.device == "gpu")
        else:
            trainer = JaxTrainer(workload_module, spec.hp, settings.seed, pipeline, precision)
            if tuned:
                trainer.tuning = "none: the augmentation runs in NumPy on the host, batch by batch"
        if tuned and spec.attention:
            trainer.tuning += ("; attention: jax.nn.dot_product_attention inside the jitted step, its implementation "
                               "JAX's pick (XLA's on a CPU; cuDNN's fused kernel on a GPU where it applies)")
        return trainer


def forward(model, inputs, mixed=None):
    return model(*inputs) if mixed is None else mixed.forward(model, inputs)


def train_step(nnx, module, model, optimizer, inputs, targets, mixed=None, scaler=None, scale_state=None):
    """One update: the loss, its gradients, the optimizer step. Returns the batch's summed loss and correct count
    (summed inside the jitted step: an eager multiply per batch is a dispatch the GPU waits for). With a mixed
    precision policy the model computes in its half type; with a loss scaler (fp16-mixed) the loss is scaled
    before differentiation, the gradients unscaled, and a step with non-finite gradients undone."""
    def loss_of(model):
        outputs = forward(model, inputs, mixed)
        loss = module.loss_fn(outputs, *targets)
        return (loss * scale_state.scale[...] if scaler is not None else loss), (loss, outputs)
    (_, (loss, outputs)), grads = nnx.value_and_grad(loss_of, has_aux=True)(model)
    if scaler is None:
        optimizer.update(model, grads)
    else:
        jax = scaler.jax
        jnp = jax.numpy
        grads = jax.tree_util.tree_map(lambda g: g / scale_state.scale[...], grads)
        finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(g)) for g in jax.tree_util.tree_leaves(grads)]))
        written = nnx.Any(nnx.Param, nnx.OptState)  # what an update writes: parameters, optax's state, the step
        # The values themselves (nnx.state holds the Variables, which the update would change under it)
        before = jax.tree_util.tree_leaves(nnx.state((model, optimizer), written))
        optimizer.update(model, grads)
        after, treedef = jax.tree_util.tree_flatten(nnx.state((model, optimizer), written))
        nnx.update((model, optimizer), jax.tree_util.tree_unflatten(
            treedef, [jnp.where(finite, a, b) for a, b in zip(after, before)]))
        scaler.adjust(scale_state, finite)
    return loss * targets[0].shape[0], module.correct(outputs, *targets)


class JaxTrainer(BaseTrainer):
    """The default tier: NumPy batches from the host into nnx.jit steps (host: per batch). Each step is called through
    nnx.cached_partial with the model and the optimizer bound: plain nnx.jit traverses their object graph in Python
    on every call (Flax's performance guide), a cost the other frameworks' steps do not pay and that shows on small
    models. The partials hold clones of the model that share its Variables (every update reaches the model) and
    keep the mode they were made in: the train step's clone is in training mode, the eval and predict steps' in
    inference mode."""

    def __init__(self, module, hp, seed, pipeline, precision="fp32"):
        import jax
        from flax import nnx

        self.jax, self.nnx, self.module, self.pipeline = jax, nnx, module, pipeline
        self.model, tx = module.build(hp, nnx.Rngs(params=seed, dropout=seed + 1))
        self.optimizer = nnx.Optimizer(self.model, tx, wrt=nnx.Param)
        self.precision = precision
        mixed = MixedPrecision(jax, nnx, COMPUTE_DTYPES[precision]) if COMPUTE_DTYPES[precision] else None
        scaler = DynamicLossScale(jax, nnx) if precision == "fp16-mixed" else None
        self.mixed, self.scaler = mixed, scaler
        self.scale_state = scaler.state if scaler is not None else None

        if scaler is None:
            @nnx.jit
            def train(model, optimizer, inputs, targets):
                return train_step(nnx, module, model, optimizer, inputs, targets, mixed)
            bound = (self.model, self.optimizer)
        else:
            @nnx.jit
            def train(model, optimizer, scale_state, inputs, targets):
                return train_step(nnx, module, model, optimizer, inputs, targets, mixed, scaler, scale_state)
            bound = (self.model, self.optimizer, self.scale_state)

        @nnx.jit
        def eval_step(model, inputs, targets):
            outputs = forward(model, inputs, mixed)
            return module.loss_fn(outputs, *targets) * targets[0].shape[0], module.correct(outputs, *targets)

        @nnx.jit
        def predict_step(model, inputs):
            return module.probabilities(forward(model, inputs, mixed))

        # Each partial's clone keeps the mode the model is in here (class docstring).
        self.model.eval()
        self.eval_step = nnx.cached_partial(eval_step, self.model)
        self.predict_step = nnx.cached_partial(predict_step, self.model)
        self.model.train()
        self.train_step = nnx.cached_partial(train, *bound)

    def param_counts(self):
        def size(state):
            return sum(int(np.prod(x.shape)) for x in self.jax.tree_util.tree_leaves(state))
        # Params are trainable; BatchStat (running statistics) counts in the total, as in Keras.
        trainable = size(self.nnx.state(self.model, self.nnx.Param))
        return trainable + size(self.nnx.state(self.model, self.nnx.BatchStat)), trainable

    def _run(self, step, batches, split):
        sums = []
        for inputs, targets in batches:
            sums.append(step(inputs, targets))  # (summed loss, correct count) of the batch
        # One transfer at the end: reading each step's loss would synchronise every step.
        loss_sum, correct_sum = np.sum(self.jax.device_get(sums), axis=0)
        return float(loss_sum) / split.n, float(correct_sum) / split.n

    def train_epoch(self, split, batch_size, rng):
        return self._run(self.train_step, self.pipeline.epoch(split, batch_size, rng), split)

    def evaluate(self, split, batch_size):
        return self._run(self.eval_step, self.pipeline.ordered(split, batch_size), split)

    def rnn_evidence(self, inputs, targets):
        """The primitives of the model's forward pass in training mode, traced (nothing runs)."""
        nnx = self.nnx
        graphdef, state = nnx.split(self.model)
        self.model.train()
        return jaxpr_ops(self.jax, lambda state, *x: nnx.merge(graphdef, state)(*x), state, *inputs)

    def forward_top_ops(self, inputs):
        """The top-level primitives of one forward pass in training mode, traced (nothing runs), for
        kernels.recurrent_launches (tests/test_rnn_launches.py)."""
        from dlbench.frameworks.kernels import jaxpr_top_ops
        nnx = self.nnx
        graphdef, state = nnx.split(self.model)
        self.model.train()
        return jaxpr_top_ops(self.jax.make_jaxpr(lambda state, *x: nnx.merge(graphdef, state)(*x))(state, *inputs))

    def predict(self, inputs):
        return np.asarray(self.predict_step(inputs))

    def compile_mode(self):
        return "nnx.jit: one XLA program per step"

    def sync(self):
        self.jax.block_until_ready(self.nnx.state(self.model))

    def allocator_peak(self):
        return jax_allocator_peak(self.jax)

    def precision_used(self, inputs):
        """What the trial really computes in, read back from the traced forward pass in inference mode (traced
        with jax.eval_shape: the dtypes XLA is given, nothing runs): the model's raw output (the logits, before
        the cast to float32 for the loss), the parameters (master weights) and optax's state."""
        jax, nnx = self.jax, self.nnx
        self.model.eval()
        graphdef, state = nnx.split(self.model)

        def raw(state, *x):
            model = nnx.merge(graphdef, state)
            return model(*x) if self.mixed is None else self.mixed.forward(model, x, to_float32=False)
        outputs = jax.eval_shape(raw, state, *inputs)

        def dtypes(tree):
            return ", ".join(sorted({str(jax.numpy.dtype(leaf.dtype)) for leaf in jax.tree_util.tree_leaves(tree)
                                     if jax.numpy.issubdtype(leaf.dtype, jax.numpy.floating)}))
        compute = dtypes(outputs)
        if self.precision == "fp16-mixed" and jax.default_backend() == "cpu":
            refuse_unlowerable(jax, raw, (state,) + tuple(inputs), "jax")
        if self.mixed is not None and compute != self.mixed.name:
            raise PrecisionUnsupported(
                "jax %s: this model's output is still computed in %s (read back by tracing its forward pass: a value "
                "made inside the model in float32 promotes the %s casts back), so it would run float32 under the %s "
                "name" % (self.precision, compute, self.mixed.name, self.precision))
        return {"requested": self.precision, "compute": compute,
                "params": dtypes(nnx.state(self.model, nnx.Param)),
                "optimizer_state": dtypes(nnx.state(self.optimizer, nnx.OptState)),
                "method": "float32 params and inputs cast to %s inside the jitted step, outputs cast back to float32"
                          % self.mixed.name if self.mixed is not None else "none",
                "loss_scale": "dynamic: written out (Keras's rule), initial scale %g, growth every %d steps" % (
                    self.scaler.initial, self.scaler.growth_steps) if self.scaler is not None else None}


class JaxScanTrainer(JaxTrainer):
    """The tuned tier: the training set is put on the device once (jax.device_put), and each step gathers its batch
    there in the default tier's shuffled order. With scan (a GPU) one jitted lax.scan runs every full batch of an
    epoch; without it (a CPU, where XLA runs convolutions inside a scanned loop far slower) each batch is one jitted
    step over the resident arrays. The last partial batch is one more jitted step, not dropped. The model and
    optimizer travel through the steps as one state pytree (nnx.split / nnx.merge, Flax's functional training loop).
    (Not donated: some workloads' states hold one buffer twice, which donation refuses.)"""

    data_placement = DEVICE_RESIDENT

    def __init__(self, module, hp, seed, pipeline, precision="fp32", scan=True):
        JaxTrainer.__init__(self, module, hp, seed, pipeline, precision)
        self.scan = scan
        self.tuning = ("the training set resident on the device; per epoch one jitted lax.scan over the full batches "
                       "+ one partial-batch step" if scan else
                       "the training set resident on the device, one jitted step per batch gathering it there (no "
                       "scan on a CPU: XLA:CPU runs convolutions inside a scanned loop far slower)")
        jax, nnx = self.jax, self.nnx
        mixed, scaler = self.mixed, self.scaler
        self.model.train()  # the mode is part of the graph definition traced below
        # The loss scale (fp16-mixed) travels through the scan with the model and the optimizer.
        self.objects = (self.model, self.optimizer) + ((self.scale_state,) if scaler is not None else ())
        graphdef, self.state = nnx.split(self.objects)
        self.on_device = {}

        def step(state, inputs, targets, index):
            objects = nnx.merge(graphdef, state)
            loss, correct = train_step(nnx, module, objects[0], objects[1], [a[index] for a in inputs],
                                       [a[index] for a in targets], mixed, scaler,
                                       objects[2] if scaler is not None else None)
            return nnx.state(objects), (loss, correct)

        @jax.jit
        def epoch(state, inputs, targets, order):
            state, (losses, corrects) = jax.lax.scan(lambda s, index: step(s, inputs, targets, index), state, order)
            return state, (losses.sum(), corrects.sum())

        self.scan_epoch, self.step = epoch, jax.jit(step)

    def train_epoch(self, split, batch_size, rng):
        jax = self.jax
        if id(split) not in self.on_device:  # once, in the warm-up epoch
            self.on_device[id(split)] = (jax.device_put(list(split.inputs)), jax.device_put(list(split.targets)))
        inputs, targets = self.on_device[id(split)]
        order = rng.permutation(split.n)  # the permutation shuffled_batches draws in the default tier
        full = split.n // batch_size
        sums = []
        if full and self.scan:
            self.state, result = self.scan_epoch(self.state, inputs, targets,
                                                 order[:full * batch_size].reshape(full, batch_size))
            sums.append(result)
        elif full:
            for start in range(0, full * batch_size, batch_size):
                self.state, result = self.step(self.state, inputs, targets, order[start:start + batch_size])
                sums.append(result)
        if split.n % batch_size:
            self.state, result = self.step(self.state, inputs, targets, order[full * batch_size:])
            sums.append(result)
        self.nnx.update(self.objects, self.state)  # evaluation and prediction read the model
        loss_sum, correct_sum = np.sum(jax.device_get(sums), axis=0)
        return float(loss_sum) / split.n, float(correct_sum) / split.n

    def compile_mode(self):
        if self.scan:
            return "jax.jit of a lax.scan over the epoch's full batches, plus one partial-batch step"
        return "jax.jit: one XLA program per step over the resident arrays"

    def sync(self):
        self.jax.block_until_ready(self.state)
