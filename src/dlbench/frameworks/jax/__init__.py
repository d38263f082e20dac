"""JAX's declaration (Flax NNX + optax); its adapter, Keras-initialised layers and Keras's optimizer rules are the
modules beside this one, imported in a worker only. Imports no framework; Python 3.6-safe (dlbench.frameworks reads
it)."""
from dlbench.frameworks.declaration import JIT_ONLY, MIXED, Framework

FRAMEWORKS = [
    Framework("jax", "JAX (Flax NNX + optax)", ["jax", "flax", "optax"], ["jax", "jaxlib", "flax", "optax"], ["jax"],
              __name__, precisions=MIXED, compile_modes=JIT_ONLY, workload_file="jax",
              modules=["jax", "jaxlib", "flax", "optax"]),
]
