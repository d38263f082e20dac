"""The framework registry: ids, what each needs installed, and where its adapter lives.

Nothing here imports a framework: the parent process uses this module to decide what can run, and only a worker
imports an adapter (and through it the framework). Python 3.6-safe, like the worker.

Framework ids are a contract (DESIGN.md). Compile mode, precision, layout and tier are settings of a trial,
never framework ids.
"""
import importlib
import importlib.util
import os


class Framework(object):
    def __init__(self, id, title, packages, distributions, extras, adapter, keras_backend=None, inference_only=False):
        self.id = id
        self.title = title
        self.packages = packages          # import names that must be importable (checked without importing)
        self.distributions = distributions  # whose versions are recorded (either TensorFlow wheel may be there)
        self.extras = extras              # pip extras of dlbench that install them
        self.adapter = adapter            # module under dlbench.frameworks, imported in the worker only
        self.keras_backend = keras_backend
        self.inference_only = inference_only  # runs inference workloads only (no training adapter)

    def missing(self):
        """The packages that are not installed, found without importing them."""
        return [name for name in self.packages if importlib.util.find_spec(name) is None]

    def install_hint(self):
        return "pip install 'dlbench[%s]'" % ",".join(self.extras)

    def versions(self):
        """Installed distribution versions, read from package metadata (no import)."""
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

FRAMEWORKS = dict((f.id, f) for f in [
    Framework("keras-jax", "Keras 3 on JAX", ["keras", "jax"], ["keras", "jax", "jaxlib"], ["keras", "jax"],
              "keras_adapter", "jax"),
    Framework("keras-tensorflow", "Keras 3 on TensorFlow", ["keras", "tensorflow"], ["keras"] + TF,
              ["keras", "tensorflow"], "keras_adapter", "tensorflow"),
    Framework("keras-torch", "Keras 3 on PyTorch", ["keras", "torch"], ["keras", "torch"], ["keras", "torch"],
              "keras_adapter", "torch"),
    Framework("torch", "PyTorch", ["torch"], ["torch"], ["torch"], "torch_adapter"),
    Framework("jax", "JAX (Flax NNX + optax)", ["jax", "flax", "optax"], ["jax", "jaxlib", "flax", "optax"], ["jax"],
              "jax_adapter"),
    Framework("tensorflow", "TensorFlow (tf.Module, GradientTape, tf.function)", ["tensorflow"], TF, ["tensorflow"],
              "tensorflow_adapter"),
    # Inference-only (DESIGN.md): they run dlbench.inference workloads, in dlbench.inference.trial, never training.
    # ONNX Runtime and OpenVINO run the model exported from PyTorch, so they need torch and onnx too.
    Framework("keras-openvino", "Keras 3 on OpenVINO (inference-only backend)", ["keras", "openvino"],
              ["keras", "openvino"], ["keras", "openvino"], None, "openvino", inference_only=True),
    Framework("onnxruntime", "ONNX Runtime (the PyTorch model exported to ONNX)", ["torch", "onnx", "onnxruntime"],
              ["onnxruntime", "onnx", "torch"], ["torch", "onnxruntime"], None, inference_only=True),
    Framework("openvino", "OpenVINO (the PyTorch model's ONNX export, converted)", ["torch", "onnx", "openvino"],
              ["openvino", "onnx", "torch"], ["torch", "openvino"], None, inference_only=True),
])
if os.environ.get("DLBENCH_FAULTS") == "1":
    # Test-only: a framework that fails on purpose (fault_adapter.py), for the reliability tests; never listed
    # for users, because nothing else sets this variable.
    FRAMEWORKS["fault"] = Framework("fault", "Fault injection (tests only)", [], [], [], "fault_adapter")
FRAMEWORK_IDS = tuple(FRAMEWORKS)


class UnknownFramework(ValueError):
    pass


def get(framework_id):
    if framework_id not in FRAMEWORKS:
        raise UnknownFramework("unknown framework %r: choose from %s" % (framework_id, ", ".join(FRAMEWORK_IDS)))
    return FRAMEWORKS[framework_id]


def load_adapter(framework_id):
    """The adapter instance for a framework (worker side; the framework itself is imported by adapter.load)."""
    framework = get(framework_id)
    if framework.adapter is None:
        raise ValueError("%s runs inference workloads only: it has no training adapter" % framework_id)
    module = importlib.import_module("dlbench.frameworks." + framework.adapter)
    return module.Adapter(framework)
