"""Keras 3's declarations, one per backend (keras-openvino is inference-only); one adapter (adapter.py) serves the
training backends, imported in a worker only. Imports no framework; Python 3.6-safe (dlbench.frameworks reads it)."""
from dlbench.frameworks.declaration import EAGER_OR_JIT, JIT_ONLY, MIXED, Framework
from dlbench.frameworks.tensorflow import TF

# Its feature rows known from documentation, not probed (dlbench.report.features; as of its DOCUMENTED_AS_OF).
KERAS = {
    "language": "Python (the backend's core underneath)",
    "interfaces": "Python: Keras 3 API (Sequential, functional, subclassing; fit/evaluate/predict)",
    "pretrained": "keras.applications, KerasHub presets (Kaggle, Hugging Face)",
    "mixed_precision": "yes: dtype policies mixed_float16, mixed_bfloat16",
}
DOCUMENTED = {
    "keras-jax": {**KERAS, "platforms": "those of JAX",
                  "multi_gpu": "yes: keras.distribution (DataParallel, ModelParallel)",
                  "multi_machine": "yes: keras.distribution over jax.distributed"},
    "keras-tensorflow": {**KERAS, "platforms": "those of TensorFlow",
                         "multi_gpu": "yes: through tf.distribute strategies",
                         "multi_machine": "yes: through tf.distribute multi-worker strategies"},
    "keras-torch": {**KERAS, "platforms": "those of PyTorch",
                    "multi_gpu": "by hand: the model is a torch.nn.Module, wrap it in DistributedDataParallel",
                    "multi_machine": "by hand: through torch.distributed"},
}

# Why keras-tensorflow's embedding updates cannot match the other frameworks' exactly (dlbench verify states it).
INDEXED_SLICES = (
    "Keras on TensorFlow hands an Embedding's gradient to the optimizer as tf.IndexedSlices, one slice per "
    "occurrence of an id; the rows of ids that occur more than once in the batch take a different Adam step "
    "(rows of ids that occur once match; measured on imdb_bilstm), consistent with a second moment accumulated "
    "per occurrence (sum of g_i^2) instead of over the summed gradient ((sum g_i)^2) as the dense rule does")

FRAMEWORKS = [
    Framework("keras-jax", "Keras 3 on JAX", ["keras", "jax"], ["keras", "jax", "jaxlib"], ["keras", "jax"],
              __name__, "jax", precisions=MIXED, compile_modes=JIT_ONLY, workload_file="keras",
              probe=__name__ + ".probe", verify=__name__ + ".verify",
              documented=DOCUMENTED["keras-jax"]),
    # Keras's jit_compile="auto" is XLA on a GPU, not on a CPU: its tuned tier asks for what auto gives.
    Framework("keras-tensorflow", "Keras 3 on TensorFlow", ["keras", "tensorflow"], ["keras"] + TF,
              ["keras", "tensorflow"], __name__, "tensorflow", precisions=MIXED, compile_modes=EAGER_OR_JIT,
              tuned_compile={"gpu": "jit"}, workload_file="keras",
              probe=__name__ + ".probe", verify=__name__ + ".verify",
              documented=DOCUMENTED["keras-tensorflow"], verify_exceptions={"/embeddings": INDEXED_SLICES}),
    Framework("keras-torch", "Keras 3 on PyTorch", ["keras", "torch"], ["keras", "torch"], ["keras", "torch"],
              __name__, "torch", precisions=MIXED, compile_modes=EAGER_OR_JIT, workload_file="keras",
              probe=__name__ + ".probe", verify=__name__ + ".verify",
              documented=DOCUMENTED["keras-torch"]),
    # Inference-only (DESIGN.md), as onnxruntime and openvino: it runs dlbench.inference workloads, in
    # dlbench.worker.inference, never training. fp32 only, as every inference workload.
    Framework("keras-openvino", "Keras 3 on OpenVINO (inference-only backend)", ["keras", "openvino"],
              ["keras", "openvino"], ["keras", "openvino"], __name__, "openvino", inference_only=True),
]
