"""JAX with Flax NNX and optax: nnx.jit-compiled train and eval steps, the idiom of the Flax tutorials (the default
tier), or one jitted lax.scan over each epoch's batches with the data on the device (the tuned tier)."""
import numpy as np

from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals


def setup_jax(settings):
    """Device and denormal probe for JAX; shared with Keras on the jax backend. XLA on the CPU sizes its thread
    pool from the CPUs this process may use, which the worker has already pinned to `threads`."""
    import jax

    device = jax.devices()[0]
    if settings["device"] == "gpu" and device.platform != "gpu":
        raise RuntimeError("--device gpu, but JAX %s runs on %s: install jax[cuda12] (or cuda13), or use --device "
                           "cpu" % (jax.__version__, device.platform))
    return {
        "threads": {"intra_op": None, "inter_op": None, "note": "XLA CPU uses the process's CPU affinity"},
        "denormals_flushed": flushes_denormals(jax.jit(lambda a, b: a * b)),
        "device": {"kind": device.platform, "name": getattr(device, "device_kind", str(device))},
        # None is XLA's default precision, which on a GPU may compute float32 matmuls and convolutions in TF32.
        "tf32": {"default_matmul_precision": jax.config.jax_default_matmul_precision}
        if device.platform == "gpu" else None,
    }


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


class Adapter(BaseAdapter):
    def load(self, settings):
        return setup_jax(settings)

    def trainer(self, workload_module, spec, settings, pipeline):
        tuned = settings["tier"] == "tuned"
        if tuned and settings["device"] == "gpu" and pipeline.augment is None:
            return JaxScanTrainer(workload_module, spec.hp, settings["seed"], pipeline)
        trainer = JaxTrainer(workload_module, spec.hp, settings["seed"], pipeline)
        if tuned and pipeline.augment is not None:
            trainer.tuning = "none: the augmentation runs in NumPy on the host, batch by batch"
        elif tuned:  # measured: mnist_cnn's two steps took 25-30 s as a scan, 0.7 s as separate steps
            trainer.tuning = "none on a CPU: XLA:CPU runs convolutions inside a scanned loop far slower"
        return trainer


def train_step(nnx, module, model, optimizer, inputs, targets):
    """One update: the loss, its gradients, the optimizer step. Returns the batch's summed loss and correct count
    (summed inside the jitted step: an eager multiply per batch is a dispatch the GPU waits for)."""
    def loss_of(model):
        outputs = model(*inputs)
        return module.loss_fn(outputs, *targets), outputs
    (loss, outputs), grads = nnx.value_and_grad(loss_of, has_aux=True)(model)
    optimizer.update(model, grads)
    return loss * targets[0].shape[0], module.correct(outputs, *targets)


class JaxTrainer(BaseTrainer):
    def __init__(self, module, hp, seed, pipeline):
        import jax
        from flax import nnx

        self.jax, self.nnx, self.module, self.pipeline = jax, nnx, module, pipeline
        self.model, tx = module.build(hp, nnx.Rngs(params=seed, dropout=seed + 1))
        self.optimizer = nnx.Optimizer(self.model, tx, wrt=nnx.Param)

        @nnx.jit
        def train(model, optimizer, inputs, targets):
            return train_step(nnx, module, model, optimizer, inputs, targets)

        @nnx.jit
        def eval_step(model, inputs, targets):
            outputs = model(*inputs)
            return module.loss_fn(outputs, *targets) * targets[0].shape[0], module.correct(outputs, *targets)

        @nnx.jit
        def predict_step(model, inputs):
            return module.probabilities(model(*inputs))

        self.train_step, self.eval_step, self.predict_step = train, eval_step, predict_step

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
        self.model.train()
        return self._run(lambda x, y: self.train_step(self.model, self.optimizer, x, y),
                         self.pipeline.epoch(split, batch_size, rng), split)

    def evaluate(self, split, batch_size):
        self.model.eval()
        return self._run(lambda x, y: self.eval_step(self.model, x, y), self.pipeline.ordered(split, batch_size), split)

    def rnn_evidence(self, inputs, targets):
        """The primitives of the model's forward pass in training mode, traced (nothing runs)."""
        nnx = self.nnx
        graphdef, state = nnx.split(self.model)
        self.model.train()
        return jaxpr_ops(self.jax, lambda state, *x: nnx.merge(graphdef, state)(*x), state, *inputs)

    def predict(self, inputs):
        self.model.eval()
        return np.asarray(self.predict_step(self.model, inputs))

    def sync(self):
        self.jax.block_until_ready(self.nnx.state(self.model))

    def allocator_peak(self):
        return jax_allocator_peak(self.jax)


class JaxScanTrainer(JaxTrainer):
    """The tuned tier: the training set is put on the device once, and one jitted lax.scan runs every full batch of
    an epoch in the default tier's shuffled order; the last partial batch is one more jitted step, not dropped. The
    model and optimizer travel through the scan as one state pytree (nnx.split / nnx.merge). (Not donated: some
    workloads' states hold one buffer twice, which donation refuses.)"""

    tuning = "per epoch one jitted lax.scan over the full batches + one partial-batch step"
    data_placement = "device"

    def __init__(self, module, hp, seed, pipeline):
        JaxTrainer.__init__(self, module, hp, seed, pipeline)
        jax, nnx = self.jax, self.nnx
        self.model.train()  # the mode is part of the graph definition traced below
        graphdef, self.state = nnx.split((self.model, self.optimizer))
        self.on_device = {}

        def step(state, inputs, targets, index):
            model, optimizer = nnx.merge(graphdef, state)
            loss, correct = train_step(nnx, module, model, optimizer, [a[index] for a in inputs],
                                       [a[index] for a in targets])
            return nnx.state((model, optimizer)), (loss, correct)

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
        if full:
            self.state, result = self.scan_epoch(self.state, inputs, targets,
                                                 order[:full * batch_size].reshape(full, batch_size))
            sums.append(result)
        if split.n % batch_size:
            self.state, result = self.step(self.state, inputs, targets, order[full * batch_size:])
            sums.append(result)
        self.nnx.update((self.model, self.optimizer), self.state)  # evaluation and prediction read the model
        loss_sum, correct_sum = np.sum(jax.device_get(sums), axis=0)
        return float(loss_sum) / split.n, float(correct_sum) / split.n

    def sync(self):
        self.jax.block_until_ready(self.state)
