"""Native TensorFlow's declaration (tf.Module, GradientTape, tf.function); its adapter, Keras-initialised layers and
Keras's optimizer rules are the modules beside this one, imported in a worker only. Imports no framework; Python
3.6-safe (dlbench.frameworks reads it)."""
from dlbench.frameworks.declaration import EAGER_OR_JIT, MIXED, Framework

# The distributions whose versions are recorded: either TensorFlow wheel may be there (Keras on TensorFlow too).
TF = ["tensorflow-cpu", "tensorflow"]

# Its feature rows known from documentation, not probed (dlbench.report.features; as of its DOCUMENTED_AS_OF).
DOCUMENTED = {
    "language": "Python; C++ core",
    "platforms": "Linux, macOS (CPU), Windows (CPU; GPU through WSL2); CUDA, TPU",
    "interfaces": "Python, C++, Java (deprecated), JavaScript (TF.js), LiteRT (TF Lite), SavedModel",
    "pretrained": "Kaggle Models (formerly TF Hub), Keras applications",
    "multi_gpu": "yes: tf.distribute.MirroredStrategy",
    "multi_machine": "yes: MultiWorkerMirroredStrategy, ParameterServerStrategy",
    "mixed_precision": "yes: Keras mixed-precision policies",
    "keras_backend": "yes: as keras-tensorflow",
}

# The workloads whose native TensorFlow code is written for a half compute dtype (adapter.py, "Precision").
MIXED_WORKLOADS = ("imdb_transformer", "char_gpt", "char_gpt_mini", "cifar10_vit")

FRAMEWORKS = [
    Framework("tensorflow", "TensorFlow (tf.Module, GradientTape, tf.function)", ["tensorflow"], TF, ["tensorflow"],
              __name__, precisions=MIXED, mixed_workloads=MIXED_WORKLOADS, compile_modes=EAGER_OR_JIT,
              tuned_compile={"cpu": "jit", "gpu": "jit"}, workload_file="tensorflow",
              precision_note="native TensorFlow has no autocast outside Keras: dlbench casts a model's float32 "
                             "variables to the compute dtype in the step, which needs its code free of float32 "
                             "constants (e.g. an LSTM's zero state); written so for " + ", ".join(MIXED_WORKLOADS)
                             + " only. keras-tensorflow runs bf16 and fp16-mixed everywhere",
              probe=__name__ + ".probe", verify=__name__ + ".verify",
              documented=DOCUMENTED),
]
