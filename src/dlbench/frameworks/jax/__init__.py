"""JAX's declaration (Flax NNX + optax); its adapter, Keras-initialised layers and Keras's optimizer rules are the
modules beside this one, imported in a worker only. Imports no framework; Python 3.6-safe (dlbench.frameworks reads
it)."""
from dlbench.frameworks.declaration import JIT_ONLY, MIXED, Framework

# Its feature rows known from documentation, not probed (dlbench.report.features; as of its DOCUMENTED_AS_OF).
DOCUMENTED = {
    "language": "Python; XLA (C++) underneath",
    "platforms": "Linux, macOS, Windows (CPU; GPU through WSL2); CUDA, ROCm, TPU",
    "interfaces": "Python: NumPy-like functional API; Flax, Equinox, optax on top",
    "pretrained": "Hugging Face Hub (Flax models), Flax and Gemma releases; fewer than the others",
    "multi_gpu": "yes: jax.jit with shardings, shard_map, pmap",
    "multi_machine": "yes: jax.distributed.initialize (GPU, TPU pods)",
    "mixed_precision": "by hand: dtype arguments (no autocast); jmp",
    "keras_backend": "yes: as keras-jax",
}

FRAMEWORKS = [
    Framework("jax", "JAX (Flax NNX + optax)", ["jax", "flax", "optax"], ["jax", "jaxlib", "flax", "optax"], ["jax"],
              __name__, precisions=MIXED, compile_modes=JIT_ONLY, workload_file="jax",
              modules=["jax", "jaxlib", "flax", "optax"], probe=__name__ + ".probe", verify=__name__ + ".verify",
              documented=DOCUMENTED),
]
