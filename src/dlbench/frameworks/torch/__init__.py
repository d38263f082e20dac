"""PyTorch's declaration; its adapter, Keras-initialised layers and Keras's optimizer rules are the modules beside
this one, imported in a worker only. Imports no framework; Python 3.6-safe (dlbench.frameworks reads it)."""
from dlbench.frameworks.declaration import EAGER_OR_JIT, MIXED, Framework

FRAMEWORKS = [
    # torch.compile's gain is launch overhead, which a GPU has and a CPU hardly does (adapter.py).
    Framework("torch", "PyTorch", ["torch"], ["torch"], ["torch"], __name__, precisions=MIXED,
              compile_modes=EAGER_OR_JIT, tuned_compile={"gpu": "jit"}, workload_file="torch"),
]
