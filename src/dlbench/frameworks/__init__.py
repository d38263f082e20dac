"""The framework registry: ids, what each needs installed, and where its adapter lives.

Nothing here imports a framework: the parent process uses this module to decide what can run, and only a worker
imports an adapter (and through it the framework). Python 3.6-safe, like the worker.

Framework ids are a contract (DESIGN.md). Compile mode, precision, layout and tier are settings of a trial,
never framework ids.
"""
import importlib
import importlib.util
import os

from dlbench import environments
from dlbench.environments import Environment, Library

# The precision settings (dlbench.suite, docs/gpu.md, "Precision"): fp32; bf16 = bfloat16 compute with float32 master
# weights; fp16-mixed = float16 compute, float32 master weights, dynamic loss scaling.
PRECISIONS = ("fp32", "bf16", "fp16-mixed")
MIXED = PRECISIONS
LEGACY_PRECISION_NOTE = ("a legacy framework in its own environment: dlbench trains it in float32 only, as the seed "
                         "articles did")


class Framework(object):
    def __init__(self, id, title, packages, distributions, extras, adapter, keras_backend=None, inference_only=False,
                 environment=None, precisions=None, precision_note=None, compile_modes=("none",), tuned_compile=None,
                 workload_file=None, modules=None):
        self.id = id
        self.title = title
        self.packages = packages          # import names that must be importable (checked without importing)
        # The modules whose presence in a worker's sys.modules shows it imported this framework (recorded, not
        # assumed: Keras can pull in frameworks other than its backend); by default its packages.
        self.modules = tuple(modules or packages)
        # The file of a workload package that holds this framework's version of the model (workload_file + ".py");
        # None for the inference-only frameworks, which run dlbench.inference's models.
        self.workload_file = workload_file
        self.distributions = distributions  # whose versions are recorded (either TensorFlow wheel may be there)
        self.extras = extras              # pip extras of dlbench that install them
        self.adapter = adapter            # module under dlbench.frameworks, imported in the worker only
        self.keras_backend = keras_backend
        self.inference_only = inference_only  # runs inference workloads only (no training adapter)
        self.environment = environment    # an environments.Environment: its own venv, made by `dlbench setup`
        # The precisions its adapter implements (a trial asking another is recorded skipped with precision_note)
        self.precisions = tuple(precisions) if precisions else ("fp32",)
        self.precision_note = precision_note or (LEGACY_PRECISION_NOTE if environment is not None else None)
        # The compile modes its training adapter implements (dlbench.suite.COMPILE_MODES), the first being what a
        # user gets by default; and per device, the mode the tuned tier picks when a suite leaves compile unset.
        self.compile_modes = tuple(compile_modes)
        self.tuned_compile = dict(tuned_compile or {})

    def compile_for(self, settings):
        """The compile mode a training trial runs: the one asked for, or for "auto" (a suite that left compile
        unset) the framework's default mode, or in the tuned tier the one its best practice on this device uses."""
        if settings.compile != "auto":
            return settings.compile
        if settings.tier == "tuned":
            return self.tuned_compile.get(settings.device, self.compile_modes[0])
        return self.compile_modes[0]

    def missing(self):
        """The packages that are not installed, found without importing them (in its own environment: all of
        them until `dlbench setup` has made it)."""
        if self.environment is not None:
            return [] if environments.is_ready(self) else list(self.packages)
        return [name for name in self.packages if importlib.util.find_spec(name) is None]

    def install_hint(self):
        if self.environment is not None:
            return "dlbench setup %s" % self.id
        return "pip install 'dlbench[%s]'" % ",".join(self.extras)

    def versions(self):
        """Installed distribution versions, read from package metadata (no import)."""
        if self.environment is not None:
            found = environments.versions(self)
            return dict((name, found[name]) for name in self.distributions if name in found)
        try:
            from importlib import metadata
        except ImportError:  # Python < 3.8
            return {}
        found = {}
        for name in self.distributions:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                pass
        return found


TF = ["tensorflow-cpu", "tensorflow"]

# Training compile modes: none = eager PyTorch, TensorFlow's graph executor, Keras's jit_compile=False; jit =
# torch.compile (Inductor), XLA (jit_compile=True). JAX is always jitted, and so is Keras on JAX by default.
EAGER_OR_JIT = ("none", "jit")
JIT_ONLY = ("jit",)

FRAMEWORKS = dict((f.id, f) for f in [
    Framework("keras-jax", "Keras 3 on JAX", ["keras", "jax"], ["keras", "jax", "jaxlib"], ["keras", "jax"],
              "keras_adapter", "jax", precisions=MIXED, compile_modes=JIT_ONLY, workload_file="keras"),
    # Keras's jit_compile="auto" is XLA on a GPU, not on a CPU: its tuned tier asks for what auto gives.
    Framework("keras-tensorflow", "Keras 3 on TensorFlow", ["keras", "tensorflow"], ["keras"] + TF,
              ["keras", "tensorflow"], "keras_adapter", "tensorflow", precisions=MIXED, compile_modes=EAGER_OR_JIT,
              tuned_compile={"gpu": "jit"}, workload_file="keras"),
    Framework("keras-torch", "Keras 3 on PyTorch", ["keras", "torch"], ["keras", "torch"], ["keras", "torch"],
              "keras_adapter", "torch", precisions=MIXED, compile_modes=EAGER_OR_JIT, workload_file="keras"),
    # torch.compile's gain is launch overhead, which a GPU has and a CPU hardly does (torch_adapter).
    Framework("torch", "PyTorch", ["torch"], ["torch"], ["torch"], "torch_adapter", precisions=MIXED,
              compile_modes=EAGER_OR_JIT, tuned_compile={"gpu": "jit"}, workload_file="torch"),
    Framework("jax", "JAX (Flax NNX + optax)", ["jax", "flax", "optax"], ["jax", "jaxlib", "flax", "optax"], ["jax"],
              "jax_adapter", precisions=MIXED, compile_modes=JIT_ONLY, workload_file="jax",
              modules=["jax", "jaxlib", "flax", "optax"]),
    Framework("tensorflow", "TensorFlow (tf.Module, GradientTape, tf.function)", ["tensorflow"], TF, ["tensorflow"],
              "tensorflow_adapter", precisions=("fp32",), compile_modes=EAGER_OR_JIT,
              tuned_compile={"cpu": "jit", "gpu": "jit"}, workload_file="tensorflow",
              precision_note="native TensorFlow has no autocast outside Keras: its models (tf.Module with float32 "
                             "tf.Variables and float32 constants inside, e.g. an LSTM's zero state) would each need a "
                             "compute dtype written in; keras-tensorflow runs bf16 and fp16-mixed"),
    # Inference-only (DESIGN.md): they run dlbench.inference workloads, in dlbench.worker.inference, never training.
    # ONNX Runtime and OpenVINO run the model exported from PyTorch, so they need torch and onnx too. fp32 only, as
    # every inference workload.
    Framework("keras-openvino", "Keras 3 on OpenVINO (inference-only backend)", ["keras", "openvino"],
              ["keras", "openvino"], ["keras", "openvino"], None, "openvino", inference_only=True),
    Framework("onnxruntime", "ONNX Runtime (the PyTorch model exported to ONNX)", ["torch", "onnx", "onnxruntime"],
              ["onnxruntime", "onnx", "torch"], ["torch", "onnxruntime"], None, inference_only=True),
    Framework("openvino", "OpenVINO (the PyTorch model's ONNX export, converted)", ["torch", "onnx", "openvino"],
              ["openvino", "onnx", "torch"], ["torch", "openvino"], None, inference_only=True),
])
# The seed articles' frameworks, each in its own environment (`dlbench setup ID`; dlbench.environments): they need
# an old Python (CNTK: 3.6 only; Theano's scan does not compile on 3.11) or an old numpy (< 1.24 for MXNet and
# Theano, < 2 for Chainer). PyTensor and Paddle would install beside the modern frameworks, but pin a numpy of their
# own: an environment keeps their pins from moving the modern frameworks' packages.
OPENMPI = [Library("libmpi.so.12", "libmpi.so.40", "libopenmpi3"),
           Library("libmpi_cxx.so.1", "libmpi_cxx.so.40", "libopenmpi3")]
PY36_PIP = ["pip==21.3.1"]  # the newest pip for Python 3.6; its bundled pip 18 cannot read today's index
THEANO_FLAGS = "blas.ldflags=,base_compiledir={env}/theano-cache"  # no BLAS link step; its C cache kept inside
LEGACY = [
    Framework("cntk", "CNTK 2.7 (Python 3.6)", ["cntk"], ["cntk", "numpy"], [], "cntk_adapter", workload_file="cntk",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "scipy==1.5.4", "cntk==2.7.post2"]],
                                      ["cntk"], libraries=OPENMPI)),
    Framework("mxnet", "MXNet 1.9 (Gluon)", ["mxnet"], ["mxnet", "numpy"], [], "mxnet_adapter", workload_file="mxnet",
              environment=Environment("3.11", [["numpy==1.23.5", "mxnet==1.9.1"]], ["mxnet"])),
    Framework("theano", "Theano 1.0", ["theano"], ["Theano", "numpy"], [], "theano_adapter", workload_file="theano",
              environment=Environment("3.8", [["numpy==1.23.5", "scipy==1.10.1", "Theano==1.0.5"]], ["theano"],
                                      variables={"THEANO_FLAGS": THEANO_FLAGS})),
    Framework("pytensor", "PyTensor (Theano's maintained fork)", ["pytensor"], ["pytensor", "numpy"], [],
              "pytensor_adapter", workload_file="pytensor",
              environment=Environment("3.11", [["numpy==2.4.6", "scipy==1.17.1", "pytensor==2.38.3"]], ["pytensor"],
                                      variables={"PYTENSOR_FLAGS":
                                                 "blas__ldflags=,base_compiledir={env}/pytensor-cache"})),
    Framework("chainer", "Chainer 7.8", ["chainer"], ["chainer", "numpy"], [], "chainer_adapter", workload_file="chainer",
              environment=Environment("3.11", [["wheel==0.48.0", "setuptools==65.5.0", "numpy==1.26.4"],
                                               ["--no-build-isolation", "chainer==7.8.1"]], ["chainer"])),
    Framework("paddle", "PaddlePaddle 3.3", ["paddle"], ["paddlepaddle", "numpy"], [], "paddle_adapter", workload_file="paddle",
              environment=Environment("3.11", [["numpy==2.4.6", "paddlepaddle==3.3.1"]], ["paddle"])),
    Framework("keras2-cntk", "Keras 2.3 on CNTK (Python 3.6)", ["keras", "cntk"], ["Keras", "cntk", "numpy"], [],
              "keras2_adapter", workload_file="keras2", keras_backend="cntk",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "cntk==2.7.post2", "keras==2.3.1"]],
                                      ["cntk", "keras"], libraries=OPENMPI, variables={"KERAS_BACKEND": "cntk"})),
    Framework("keras2-theano", "Keras 2.3 on Theano", ["keras", "theano"], ["Keras", "Theano", "numpy"], [],
              "keras2_adapter", workload_file="keras2", keras_backend="theano",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "Theano==1.0.5", "keras==2.3.1"]],
                                      ["theano", "keras"],
                                      variables={"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_FLAGS})),
    Framework("keras2-mxnet", "Keras 2.2 on MXNet (keras-mxnet)", ["keras", "mxnet"], ["keras-mxnet", "mxnet", "numpy"],
              [], "keras2_adapter", workload_file="keras2", keras_backend="mxnet",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "mxnet==1.9.1", "keras-mxnet==2.2.4.3"]],
                                      ["mxnet", "keras"], variables={"KERAS_BACKEND": "mxnet"})),
]
FRAMEWORKS.update((f.id, f) for f in LEGACY)

# The seed's feature table has rows for frameworks no Python worker can drive: listed, with the reason, so that the
# table keeps every row.
NOT_PYTHON = [
    ("knet", "Knet", "written in Julia: there is no Python package to run a worker in"),
    ("dl4j", "Deeplearning4j", "runs on the JVM (Java/Scala): there is no Python package to run a worker in"),
    ("matconvnet", "MatConvNet", "a MATLAB toolbox: needs MATLAB, not Python"),
    ("torch7", "Torch7", "written in Lua (LuaJIT); its successor is PyTorch, which dlbench runs as torch"),
    ("caffe", "Caffe", "no pip package: models are prototxt files run by the caffe binary, with no Python training "
                       "loop to time; its successor Caffe2 became part of PyTorch"),
]
if os.environ.get("DLBENCH_FAULTS") == "1":
    # Test-only: a framework that fails on purpose (fault_adapter.py), for the reliability tests; never listed
    # for users, because nothing else sets this variable.
    FRAMEWORKS["fault"] = Framework("fault", "Fault injection (tests only)", [], [], [], "fault_adapter")
FRAMEWORK_IDS = tuple(FRAMEWORKS)
# Every module a worker checks for (worker.process.imported_frameworks), in registry order.
FRAMEWORK_MODULES = tuple(dict.fromkeys(m for f in FRAMEWORKS.values() for m in f.modules))


class UnknownFramework(ValueError):
    pass


# Names users type for a framework whose dlbench id differs (difflib alone would offer pytensor for pytorch).
ALIASES = {"pytorch": "torch", "tf": "tensorflow", "tf2": "tensorflow",
           "flax": "jax", "onnx": "onnxruntime", "ort": "onnxruntime", "paddlepaddle": "paddle"}


def did_you_mean(name, ids, aliases=None):
    """' (did you mean x?)' for a mistyped name: its alias, else the closest id; '' when none is close."""
    import difflib
    close = (aliases or {}).get(name.lower()) or next(iter(difflib.get_close_matches(name.lower(), ids, 1, 0.8)),
                                                      None)
    return " (did you mean %s?)" % close if close in ids else ""


def get(framework_id):
    if framework_id not in FRAMEWORKS:
        raise UnknownFramework("unknown framework %r%s: choose from %s" % (
            framework_id, did_you_mean(framework_id, FRAMEWORK_IDS, ALIASES), ", ".join(FRAMEWORK_IDS)))
    return FRAMEWORKS[framework_id]


def load_adapter(framework_id):
    """The adapter instance for a framework (worker side; the framework itself is imported by adapter.load)."""
    framework = get(framework_id)
    if framework.adapter is None:
        raise ValueError("%s runs inference workloads only: it has no training adapter" % framework_id)
    module = importlib.import_module("dlbench.frameworks." + framework.adapter)
    return module.Adapter(framework)
