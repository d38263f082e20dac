"""Theano and PyTensor (its maintained fork): one implementation, parameterised by the module.

The idiom of both: the model is a symbolic graph over shared variables; theano.function / pytensor.function compiles
one training function whose `updates` apply the optimizer, and the first call of a new function generates and
compiles C code (cached under base_compiledir, one folder per environment so that parallel runs do not wait on each
other's lock). That compilation happens in the first epoch, which is the warm-up epoch.

The two differ in what they still ship, and the Backend below hides exactly that:
- Theano 1.0.5 has nnet.conv2d (CorrMM, an im2col + gemm C op) and signal.pool.pool_2d; PyTensor 2.x removed the
  nnet and pool modules, so its convolution is written as im2col (nine shifted slices stacked, one matmul) and its
  2x2 max-pool as a reshape and a max: the same functions (correlation, no kernel flip, as Keras).
- Random streams: Theano's MRG_RandomStreams (what Keras 2's Theano backend used for dropout), PyTensor's
  RandomStream.
- BLAS: the environments link none (blas.ldflags empty; the numpy wheels bundle OpenBLAS under suffixed symbol
  names that a C op cannot link). Theano then compiles its gemm ops against "a NumPy C-API based implementation",
  which calls numpy's bundled OpenBLAS; PyTensor 2.x runs its dot products through numpy.dot from Python. Both are
  recorded in the env info ("blas").
Optimizers are Keras 3's rules, written out as update pairs (neither framework has optimizers of its own).
Environments: Theano on Python 3.8 (on 3.11 its scan's Cython-generated C, scan_perform, fails to compile:
"longintrepr.h: No such file or directory", the header moved in 3.11), PyTensor on 3.11. Nothing here runs in a
3.6 worker.
"""
import os

import numpy as np

from dlbench.frameworks import mxcsr
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals

FLAGS_VARIABLE = {"theano": "THEANO_FLAGS", "pytensor": "PYTENSOR_FLAGS"}


class Backend(object):
    """What the workload files use: the framework module under one set of names (B.T is theano.tensor or
    pytensor.tensor), Keras's initialisers, the layers whose API the two frameworks no longer share, and Keras's
    optimizer rules."""

    def __init__(self, name, seed):
        self.name = name
        if name == "theano":
            import theano
            import theano.tensor as T
            from theano.sandbox.rng_mrg import MRG_RandomStreams
            from theano.tensor.nnet import conv2d
            from theano.tensor.signal.pool import pool_2d

            self.streams = MRG_RandomStreams(seed + 1)  # MRG refuses seed 0
            self._conv2d, self._pool_2d = conv2d, pool_2d
            self.sigmoid = T.nnet.sigmoid  # the exact sigmoid (ultra_fast_sigmoid only when asked)
        else:
            import pytensor as theano
            import pytensor.tensor as T
            from pytensor.tensor.random.utils import RandomStream

            self.streams = RandomStream(seed)
            self.sigmoid = T.sigmoid
        self.module, self.T = theano, T
        self.rng = np.random.RandomState(seed)  # initial weights, drawn in numpy as Keras 2 did

    # -- variables ---------------------------------------------------------------------------------------------
    def shared(self, value, name):
        return self.module.shared(np.asarray(value, dtype=np.float32), name=name)

    def variable_like(self, array, name):
        """A symbolic input of the array's dtype and rank (no dimension fixed, none broadcastable)."""
        if self.name == "theano":
            return self.T.TensorType(str(array.dtype), (False,) * array.ndim)(name)
        return self.T.tensor(name=name, dtype=str(array.dtype), shape=(None,) * array.ndim)

    # -- Keras's initialisers ----------------------------------------------------------------------------------
    def glorot_uniform(self, shape, fan_in, fan_out, name):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return self.shared(self.rng.uniform(-limit, limit, shape), name)

    def orthogonal(self, shape, name):
        """Keras's orthogonal: QR of a normal draw of the taller orientation, signs fixed by R's diagonal."""
        rows, cols = shape
        a = self.rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        return self.shared(q if rows >= cols else q.T, name)

    def dense(self, units_in, units_out, name):
        """A Dense layer's (kernel, bias): glorot_uniform kernel (in, out), zero bias."""
        return (self.glorot_uniform((units_in, units_out), units_in, units_out, name + "/kernel"),
                self.zeros((units_out,), name + "/bias"))

    def conv(self, channels_in, channels_out, k, name):
        """A k x k Conv2D's (kernel, bias): kernel (out, in, k, k), glorot_uniform with the receptive field in both
        fans (as Keras), zero bias."""
        return (self.glorot_uniform((channels_out, channels_in, k, k), channels_in * k * k, channels_out * k * k,
                                    name + "/kernel"),
                self.zeros((channels_out,), name + "/bias"))

    def zeros(self, shape, name):
        return self.shared(np.zeros(shape), name)

    def uniform(self, shape, limit, name):
        return self.shared(self.rng.uniform(-limit, limit, shape), name)

    # -- layers ------------------------------------------------------------------------------------------------
    def relu(self, x):
        return self.T.maximum(x, np.float32(0))

    def dropout(self, x, rate, training):
        """Inverted dropout (Keras's): keep with probability 1 - rate, scale by 1 / (1 - rate); off in inference."""
        if not training:
            return x
        keep = self.T.cast(self.streams.uniform(size=x.shape) >= np.float32(rate), "float32")
        return x * keep / np.float32(1.0 - rate)

    def conv2d(self, x, kernel, bias, padding):
        """NCHW images, kernel (out, in, k, k), stride 1, padding "valid" or "same" (odd k); a correlation, as
        Keras's (no flip); the bias added per channel."""
        return self._correlate(x, kernel, padding) + bias.dimshuffle("x", 0, "x", "x")

    def _correlate(self, x, kernel, padding):
        if self.name == "theano":
            return self._conv2d(x, kernel, border_mode="half" if padding == "same" else "valid", filter_flip=False)
        T = self.T
        out_c, in_c, k, _ = kernel.get_value(borrow=True).shape
        if padding == "same":
            p = k // 2
            padded = T.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * p, x.shape[3] + 2 * p), dtype=x.dtype)
            x = T.set_subtensor(padded[:, :, p:-p, p:-p], x)
        rows, cols = x.shape[2] - k + 1, x.shape[3] - k + 1
        # im2col: (n, in, k*k, rows, cols) -> (n * rows * cols, in * k * k), then one matmul with the kernel
        patches = T.stack([x[:, :, i:i + rows, j:j + cols] for i in range(k) for j in range(k)], axis=2)
        patches = patches.dimshuffle(0, 3, 4, 1, 2).reshape((x.shape[0] * rows * cols, in_c * k * k))
        out = T.dot(patches, kernel.reshape((out_c, in_c * k * k)).T)
        return out.reshape((x.shape[0], rows, cols, out_c)).dimshuffle(0, 3, 1, 2)

    def max_pool(self, x, size):
        """size x size max-pool, stride size, on NCHW (the sizes here divide evenly: nothing is dropped)."""
        if self.name == "theano":
            return self._pool_2d(x, ws=(size, size), ignore_border=True, mode="max")
        n, c, h, w = x.shape
        return x.reshape((n, c, h // size, size, w // size, size)).max(axis=(3, 5))

    def embedding(self, table, ids):
        """Rows of the table for an int matrix of ids: (batch, time) -> (batch, time, dim)."""
        return table[ids.flatten()].reshape((ids.shape[0], ids.shape[1], table.shape[1]))

    def scan(self, step, sequences, outputs_info, non_sequences):
        outputs, _ = self.module.scan(step, sequences=sequences, outputs_info=outputs_info,
                                      non_sequences=non_sequences)
        return outputs

    # -- loss --------------------------------------------------------------------------------------------------
    def log_softmax(self, logits):
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - self.T.log(self.T.exp(shifted).sum(axis=1, keepdims=True))

    def sparse_softmax_cross_entropy(self, logits, labels):
        """Mean softmax cross-entropy of logits against integer labels (softmax fused into the loss)."""
        return -self.log_softmax(logits)[self.T.arange(labels.shape[0]), labels].mean()

    def correct(self, logits, labels):
        return self.T.sum(self.T.eq(self.T.argmax(logits, axis=1), labels))

    def softmax(self, logits):
        return self.T.exp(self.log_softmax(logits))

    # -- Keras 3's optimizer rules, as update pairs ------------------------------------------------------------
    def _like(self, p, name):
        return self.shared(np.zeros(p.get_value(borrow=True).shape), p.name + "/" + name)

    def _cast(self, value):
        return self.T.cast(value, "float32")

    def rmsprop(self, lr, rho, epsilon):
        """v <- rho v + (1 - rho) g^2;  w <- w - lr g / sqrt(v + epsilon)."""
        def updates(params, grads):
            pairs = []
            for p, g in zip(params, grads):
                v = self._like(p, "velocity")
                v_new = rho * v + (1.0 - rho) * g * g
                pairs += [(v, self._cast(v_new)), (p, self._cast(p - lr * g / self.T.sqrt(v_new + epsilon)))]
            return pairs
        return updates

    def adadelta(self, lr, rho, epsilon):
        """a <- rho a + (1 - rho) g^2;  d <- -sqrt(b + eps) / sqrt(a + eps) g;  b <- rho b + (1 - rho) d^2;
        w <- w + lr d."""
        def updates(params, grads):
            pairs = []
            for p, g in zip(params, grads):
                a, b = self._like(p, "grad_avg"), self._like(p, "delta_avg")
                a_new = rho * a + (1.0 - rho) * g * g
                d = -self.T.sqrt(b + epsilon) / self.T.sqrt(a_new + epsilon) * g
                pairs += [(a, self._cast(a_new)), (b, self._cast(rho * b + (1.0 - rho) * d * d)),
                          (p, self._cast(p + lr * d))]
            return pairs
        return updates

    def adam(self, lr, beta_1, beta_2, epsilon):
        """m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
        w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + epsilon),  t counting from 1."""
        def updates(params, grads):
            iterations = self.shared(0.0, "adam/iterations")
            t = iterations + 1.0
            alpha = lr * self.T.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
            pairs = [(iterations, self._cast(t))]
            for p, g in zip(params, grads):
                m, v = self._like(p, "m"), self._like(p, "v")
                m_new = m + (1.0 - beta_1) * (g - m)
                v_new = v + (1.0 - beta_2) * (g * g - v)
                pairs += [(m, self._cast(m_new)), (v, self._cast(v_new)),
                          (p, self._cast(p - alpha * m_new / (self.T.sqrt(v_new) + epsilon)))]
            return pairs
        return updates

    def sgd(self, lr, momentum):
        """Plain momentum, Keras's form: m <- momentum m - lr g;  w <- w + m."""
        def updates(params, grads):
            pairs = []
            for p, g in zip(params, grads):
                m = self._like(p, "momentum")
                m_new = momentum * m - lr * g
                pairs += [(m, self._cast(m_new)), (p, self._cast(p + m_new))]
            return pairs
        return updates


def blas_note(name, module):
    ldflags = module.config.blas__ldflags if name == "pytensor" else module.config.blas.ldflags
    if ldflags:
        return "linked: %s" % ldflags
    if name == "theano":
        return ("none linked (blas.ldflags empty): its C ops that need a gemm (Gemm, CorrMM) call Theano's NumPy "
                "C-API based sgemm, Dot22 runs numpy.dot from Python: numpy's bundled OpenBLAS either way")
    return "none linked (blas__ldflags empty): dot products (Dot22) run numpy.dot (numpy's bundled OpenBLAS) from Python"


def linker_note(module):
    """The linker the default mode resolves to: "cvm (VM_Linker, C loop)" on Theano, "auto (VMLinker, C loop)" on
    PyTensor 2.x (3.x resolves "auto" to Numba)."""
    linker = module.compile.mode.get_default_mode().linker
    loop = getattr(linker, "use_cloop", None)
    return "%s (%s%s)" % (module.config.linker, type(linker).__name__,
                          "" if loop is None else ", C loop" if loop else ", Python loop")


class Adapter(BaseAdapter):
    layout = "channels_first"  # NCHW: Theano's conv2d takes it natively (PyTensor's im2col here is written for it)
    name = None  # "theano" or "pytensor": the module
    openmp = True  # whether the framework's OpenMP C code may run

    def configure(self, settings):
        super(Adapter, self).configure(settings)
        variable = FLAGS_VARIABLE[self.name]
        # float32 everywhere (both default to float64); OpenMP for the elementwise C loops when more than one thread
        # is asked and the framework survives it (OMP_NUM_THREADS, set by the base, sizes the pool); numpy's
        # OpenBLAS threads (OPENBLAS_NUM_THREADS) run the matrix products either way.
        flags = "floatX=float32,openmp=%s" % (settings.threads > 1 and self.openmp)
        os.environ[variable] = ",".join(f for f in (os.environ.get(variable), flags) if f)
        # OpenMP's threads and numpy's OpenBLAS threads share the same cores: spinning OpenMP workers made a step
        # 3.7x slower (mnist_mlp, 2 threads, a busy 2-core machine); passive waiting matched openmp=False there.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    def load(self, settings):
        if settings.device == "gpu":
            if self.name == "theano":
                raise RuntimeError("--device gpu: Theano 1.0's GPU backend needs libgpuarray and pygpu (built against "
                                   "an old CUDA), which this environment does not have; use --device cpu")
            raise RuntimeError("--device gpu: PyTensor has no CUDA backend of its own (its GPU route is its JAX "
                               "backend, not installed in this environment); use --device cpu")
        # FTZ and DAZ in this thread's MXCSR: neither framework has a setting for it; threads started later
        # (OpenMP's) inherit it, numpy's OpenBLAS threads, started when numpy was imported, do not
        flushed = mxcsr.flush_denormals() is not None
        self.backend = Backend(self.name, settings.seed)
        module, T = self.backend.module, self.backend.T
        x, y = T.vector(dtype="float32"), T.vector(dtype="float32")
        multiply = module.function([x, y], x * y)
        config = module.config
        return {
            "threads": {"openmp": bool(config.openmp), "omp_num_threads": int(os.environ.get("OMP_NUM_THREADS", 0)),
                        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                        "openblas_num_threads": int(os.environ.get("OPENBLAS_NUM_THREADS", 0))},
            "denormals_flushed": flushes_denormals(multiply),
            "denormals": ("MXCSR FTZ/DAZ set in the worker's main thread (%s has no setting of its own); numpy's "
                          "OpenBLAS threads, started before, keep the default" % self.name) if flushed else
                         "not flushed: %s has no setting and the MXCSR could not be set here" % self.name,
            "device": {"kind": "cpu", "name": "cpu"},
            self.name: {"version": module.__version__, "numpy": np.__version__, "floatX": config.floatX,
                        "mode": str(config.mode), "linker": linker_note(module), "cxx": config.cxx,
                        "blas": blas_note(self.name, module),
                        "compiledir": str(config.compiledir)},
        }

    def trainer(self, workload_module, spec, settings, pipeline):
        return SymbolicTrainer(self.backend, workload_module, spec.hp, pipeline)


class SymbolicTrainer(BaseTrainer):
    """A compiled training function (forward, gradients and the optimizer's updates in one graph), a compiled
    evaluation function (dropout off), and a compiled prediction function; each compiled on its first call, since
    the inputs' dtypes and ranks come with the first batch."""

    def __init__(self, backend, module, hp, pipeline):
        self.B, self.module, self.pipeline = backend, module, pipeline
        self.model, self.optimizer = module.build(hp, backend)
        self.functions = {}

    def param_counts(self):
        total = sum(int(np.prod(p.get_value(borrow=True).shape)) for p in self.model.params)
        return total, total

    def _symbols(self, inputs, targets):
        return ([self.B.variable_like(a, "input%d" % i) for i, a in enumerate(inputs)],
                [self.B.variable_like(a, "target%d" % i) for i, a in enumerate(targets)])

    def _function(self, kind, inputs, targets):
        if kind in self.functions:
            return self.functions[kind]
        B, module = self.B, self.module
        xs, ys = self._symbols(inputs, targets)
        logits = self.model(*xs, training=(kind == "train"))
        if kind == "predict":
            function = B.module.function(xs, B.softmax(logits))
        else:
            loss = module.loss_fn(B, logits, *ys)
            outputs = [loss, module.correct(B, logits, *ys)]
            updates = []
            if kind == "train":
                updates = self.optimizer(self.model.params, B.T.grad(loss, self.model.params))
            function = B.module.function(xs + ys, outputs, updates=updates)
        self.functions[kind] = function
        return function

    def _run(self, kind, batches, n):
        loss_sum, correct = 0.0, 0.0
        for inputs, targets in batches:
            loss, right = self._function(kind, inputs, targets)(*(inputs + targets))
            loss_sum += float(loss) * len(targets[0])
            correct += float(right)
        return loss_sum / n, correct / n

    def train_epoch(self, split, batch_size, rng):
        return self._run("train", self.pipeline.epoch(split, batch_size, rng), split.n)

    def evaluate(self, split, batch_size):
        return self._run("eval", self.pipeline.ordered(split, batch_size), split.n)

    def predict(self, inputs):
        return np.asarray(self._function("predict", inputs, [])(*inputs))

    def rnn_evidence(self, inputs, targets):
        """The op classes of the compiled training function's graph, as "theano:Scan" (or "pytensor:Scan"): the
        recurrence runs as the Scan op, a loop inside the compiled function whose inner graph is compiled too."""
        function = self._function("train", inputs, targets)
        return sorted({"%s:%s" % (self.B.name, type(node.op).__name__) for node in function.maker.fgraph.toposort()})
