"""Keras 2 on the seed articles' backends: Keras 2.3.1 on CNTK and Theano, keras-mxnet 2.2.4.3 (Keras 2.2.4 with
an MXNet backend) on MXNet, each in its own environment; model.fit and model.evaluate, as a Keras user runs them.

The backend is chosen by KERAS_BACKEND before Keras is imported, exactly as the seed articles flipped it. Training
follows keras/adapter.py (Keras 3) so that the comparison is like for like: one model.fit of one epoch on the
in-memory arrays (Keras shuffles every sample each epoch with NumPy's global generator, seeded here, and keeps the
last partial batch), model.evaluate on the validation arrays. Python 3.6-safe: the workers run on Python 3.6.

Per backend, set through the framework itself where it can be and read back:
  threads     CNTK: cntk_py.set_max_num_cputhreads, read back; Theano and MXNet: OMP_NUM_THREADS and the BLAS
              variables set before import, which is all either reads (Theano's openmp flag off: see configure);
              read back from the OpenMP runtime the backend loads (omp_get_max_threads) and from NumPy's
              OpenBLAS, which runs Theano's matrix products here
  denormals   none of the three has a flush-to-zero switch: dlbench sets the x86 FTZ and DAZ bits (MXCSR, as
              torch.set_flush_denormal does) on the main thread before the backend is imported, so that the threads
              it starts inherit them, and restarts NumPy's OpenBLAS pool (Theano's BLAS calls go through NumPy) so
              that its workers do too, as the native cntk, theano and mxnet adapters do; then the probe asks the
              backend whether it flushes and records what it found
  device      the pip builds here are CPU-only (cntk, not cntk-gpu; mxnet, not mxnet-cuXX; Theano without
              libgpuarray): --device gpu is refused with that reason
  layout      channels_first on all three: CNTK, Theano and MXNet convolve NCHW natively (Keras 2 transposes a
              channels_last tensor around every convolution on them)
"""
import ctypes
import os
import random

import numpy as np

from dlbench.frameworks import mxcsr
from dlbench.frameworks.adapter import Adapter as BaseAdapter
from dlbench.frameworks.adapter import Trainer as BaseTrainer
from dlbench.frameworks.adapter import flushes_denormals

IMAGE_DATA_FORMAT = "channels_first"
GPU_BUILD = {"cntk": "cntk-gpu (CUDA 10, Python 3.6)", "theano": "libgpuarray/pygpu",
             "mxnet": "an mxnet-cuXX build"}


def _setup_cntk(settings):
    import cntk as C

    C.cntk_py.set_max_num_cputhreads(settings.threads)
    C.cntk_py.set_fixed_random_seed(settings.seed)
    a = C.input_variable(1, dtype=np.float32)
    b = C.input_variable(1, dtype=np.float32)
    product = a * b
    return {"threads": {"cntk_max_cpu_threads": C.cntk_py.get_max_num_cputhreads()},
            "denormals_flushed": flushes_denormals(lambda x, y: product.eval({a: x.reshape(1, 1), b: y.reshape(1, 1)})),
            "device": {"kind": "cpu", "name": "cpu", "cntk_devices": [str(d) for d in C.device.all_devices()]},
            "versions": {"cntk": C.__version__}}


def _setup_theano(settings):
    import theano
    import theano.tensor as T

    a, b = T.fvector("a"), T.fvector("b")
    product = theano.function([a, b], a * b)
    return {"threads": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "theano_openmp": theano.config.openmp,
                        "blas_ldflags": theano.config.blas.ldflags, "numpy_openblas_threads": mxcsr.openblas_threads()},
            "denormals_flushed": flushes_denormals(product),
            "device": {"kind": "cpu", "name": theano.config.device},
            "theano_floatX": theano.config.floatX, "theano_cxx": theano.config.cxx,
            "versions": {"theano": theano.__version__}}


def _setup_mxnet(settings):
    import mxnet as mx

    mx.random.seed(settings.seed)
    features = mx.runtime.Features()
    return {"threads": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                        "MXNET_CPU_WORKER_NTHREADS": os.environ.get("MXNET_CPU_WORKER_NTHREADS", "1 (default)")},
            "denormals_flushed": flushes_denormals(lambda x, y: (mx.nd.array(x) * mx.nd.array(y)).asnumpy()),
            "device": {"kind": "cpu", "name": str(mx.cpu())},
            "mxnet_features": sorted(f for f in ("CUDA", "CUDNN", "MKLDNN", "OPENMP", "BLAS_OPEN", "BLAS_MKL")
                                     if features.is_enabled(f)),
            "versions": {"mxnet": mx.__version__}}


def flush_denormals():
    """Set FTZ and DAZ in this thread's MXCSR (mxcsr.flush_denormals); threads started afterwards inherit them.
    Returns how, in words, or None where it cannot."""
    if mxcsr.flush_denormals() is None:
        return None
    how = "MXCSR FTZ+DAZ set on the main thread before the backend started (it has no setting of its own)"
    if mxcsr.restart_openblas() is not None:  # NumPy's pool started at import, before the bits were set
        how += "; NumPy's OpenBLAS pool restarted to inherit them"
    return how


def _loaded_library(fragment):
    """The path of a shared library loaded in this process whose file name contains `fragment` (None: none)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and fragment in fields[-1].rsplit("/", 1)[-1]:
                    return fields[-1]
    except (IOError, OSError):
        pass
    return None


def _openmp_threads():
    """omp_get_max_threads() of the GNU OpenMP runtime the backend loaded (None: not loaded or not askable)."""
    path = _loaded_library("libgomp")
    try:
        return int(ctypes.CDLL(path).omp_get_max_threads()) if path else None
    except (OSError, AttributeError):
        return None


SETUP = {"cntk": _setup_cntk, "theano": _setup_theano, "mxnet": _setup_mxnet}


class Adapter(BaseAdapter):
    layout = IMAGE_DATA_FORMAT

    def configure(self, settings):
        BaseAdapter.configure(self, settings)
        os.environ["KERAS_BACKEND"] = self.framework.keras_backend
        if self.framework.keras_backend == "theano":
            # float32 everywhere, as the native theano adapter (Theano's floatX defaults to float64, and Keras 2's
            # float32 tensors meet float64 Python constants in its graphs). Theano's openmp flag stays off, unlike
            # there: with it, Keras's conv2d (Theano's CorrMM) calls NumPy's C-API BLAS (blas.ldflags is empty) from
            # OpenMP worker threads, and the process aborts ("Fatal Python error: PyEval_SaveThread: NULL tstate",
            # SIGABRT, mnist_cnn and cifar10_vgg). Matrix products still run on NumPy's OpenBLAS threads.
            flags = "floatX=float32,openmp=False"
            os.environ["THEANO_FLAGS"] = ",".join(f for f in (os.environ.get("THEANO_FLAGS"), flags) if f)

    def load(self, settings):
        backend = self.framework.keras_backend
        if settings.device != "cpu":
            raise RuntimeError("--device %s: %s here is a CPU-only build (a GPU needs %s); use --device cpu"
                               % (settings.device, backend, GPU_BUILD[backend]))
        flushed_by = flush_denormals()  # before the backend's import: its threads inherit the control register
        random.seed(settings.seed)
        np.random.seed(settings.seed)  # Keras 2 draws its initialisers, dropout seeds and fit's shuffling here
        info = SETUP[backend](settings)
        import keras
        from keras import backend as K

        if K.backend() != backend:
            raise RuntimeError("Keras loaded the %r backend, not %r" % (K.backend(), backend))
        K.set_image_data_format(self.layout)
        K.set_floatx("float32")
        info["denormal_method"] = flushed_by
        info["threads"]["openmp_max_threads"] = _openmp_threads()
        info["keras_backend"] = K.backend()
        info["layout"] = K.image_data_format()
        info["keras_epsilon"] = K.epsilon()
        info["versions"]["keras"] = keras.__version__
        self.info = info
        return info

    def trainer(self, workload_module, spec, settings, pipeline):
        trainer = Keras2Trainer(workload_module, spec.hp, pipeline)
        # Which optimizer ran and, where dlbench chose it for its rule (keras2/optim), that rule in words: Keras 2's
        # own optimizers differ from Keras 3's in places (RMSprop's epsilon), and differ between its backends.
        optimizer = trainer.model.optimizer
        self.info["optimizer"] = {"class": "%s.%s" % (type(optimizer).__module__, type(optimizer).__name__),
                                  "rule": getattr(optimizer, "dlbench_rule", None)}
        # The recurrent layers' form as built (the worker records this dict in its env event after the build).
        recurrent = []
        for layer in trainer.model.layers:
            if hasattr(layer, "cell"):
                form = {"layer": layer.name, "type": type(layer).__name__}
                for name in ("reset_after", "implementation", "activation", "recurrent_activation"):
                    form[name] = _describe(getattr(layer.cell, name, None))
                recurrent.append(form)
        if recurrent:
            self.info["recurrent_layers"] = recurrent
        return trainer


def _describe(value):
    return getattr(value, "__name__", value)


def _one_or_list(arrays):
    return arrays[0] if len(arrays) == 1 else list(arrays)


def augmented_batches(keras, pipeline, split, batch_size, rng):
    """A keras.utils.Sequence over dlbench's input pipeline (Keras 2's fit_generator form of the seed scripts'
    `fit_generator(datagen.flow(...))`), with the same shuffling and augmentation code as the native frameworks."""

    class Batches(keras.utils.Sequence):
        def __init__(self):
            self.order = rng.permutation(split.n)

        def __len__(self):
            return -(-split.n // batch_size)

        def __getitem__(self, i):
            inputs, targets = pipeline.batch(split, self.order[i * batch_size:(i + 1) * batch_size], rng)
            return _one_or_list(inputs), _one_or_list(targets)

    return Batches()


class Keras2Trainer(BaseTrainer):
    def __init__(self, module, hp, pipeline):
        import keras

        self.keras, self.module, self.pipeline = keras, module, pipeline
        self.backend = keras.backend.backend()
        self.model = module.build(hp)
        # Keras 2.3 logs the metric as "accuracy", Keras 2.2.4 (keras-mxnet) as "acc".
        names = self.model.metrics_names
        self.accuracy = [n for n in names if n in ("accuracy", "acc")][0]
        self.metric_index = names.index(self.accuracy)

    def param_counts(self):
        trainable = sum(int(np.prod(self.keras.backend.int_shape(w))) for w in self.model.trainable_weights)
        return self.model.count_params(), trainable

    def train_epoch(self, split, batch_size, rng):
        if self.pipeline.augment is not None:
            history = self.model.fit_generator(augmented_batches(self.keras, self.pipeline, split, batch_size, rng),
                                               epochs=1, verbose=0, workers=0, shuffle=False)
        else:
            history = self.model.fit(_one_or_list(split.inputs), _one_or_list(split.targets), batch_size=batch_size,
                                     epochs=1, shuffle=True, verbose=0)
        logs = history.history
        return float(logs["loss"][-1]), float(logs[self.accuracy][-1])

    def evaluate(self, split, batch_size):
        logs = self.model.evaluate(_one_or_list(split.inputs), _one_or_list(split.targets), batch_size=batch_size,
                                   verbose=0)
        return float(logs[0]), float(logs[self.metric_index])

    def predict(self, inputs):
        probabilities = getattr(self.module, "probabilities", lambda p: p)
        return np.asarray(probabilities(self.model.predict_on_batch(_one_or_list(list(inputs)))))

    def rnn_evidence(self, inputs, targets):
        """The op names of the training step's graph, as the backend shows them: the compiled train function's
        nodes on theano ("theano:Scan"), the CNTK loss function's primitives ("cntk:PastValue"), the MXNet
        symbol's operators ("mxnet:_foreach")."""
        model = self.model
        model._make_train_function()
        if self.backend == "theano":
            graph = model.train_function.function.maker.fgraph
            return sorted({"theano:" + type(node.op).__name__ for node in graph.toposort()})
        if self.backend == "cntk":
            import cntk as C

            root = model.train_function.trainer.loss_function
            nodes = C.logging.graph.depth_first_search(root, lambda n: isinstance(n, C.Function), depth=-1)
            return sorted({"cntk:" + node.op_name for node in nodes})
        import json

        nodes = json.loads(model.outputs[0].symbol.tojson())["nodes"]
        return sorted({"mxnet:" + node["op"] for node in nodes if node["op"] != "null"})

    def sync(self):
        # Reading a weight back waits for the update that wrote it (MXNet's engine is asynchronous).
        self.keras.backend.get_value(self.model.trainable_weights[-1])
