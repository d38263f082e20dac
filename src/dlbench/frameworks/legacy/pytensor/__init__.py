"""PyTensor's declaration (Theano's maintained fork); its adapter is beside it, on legacy/theano/common.py. Imports no
framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

# Nothing is probed in its environment: every feature row is documented, from its last releases' documentation.
DOCUMENTED = {
    "language": "Python; C, Numba or JAX code generated when a function is compiled",
    "platforms": "Linux, macOS, Windows; CPU (GPU through its JAX backend). Maintained (the base of PyMC)",
    "interfaces": "symbolic: pytensor.tensor, pytensor.function, scan",
    "autodiff": "yes: symbolic (pytensor.grad)", "jit": "yes: compiles to C, Numba or JAX", "bf16": "no",
    "onnx": "no", "pretrained": "none", "mixed_precision": "no", "multi_gpu": "no", "multi_machine": "no",
    "keras_backend": "no",
}

FRAMEWORKS = [
    Framework("pytensor", "PyTensor (Theano's maintained fork)", ["pytensor"], ["pytensor", "numpy"], [],
              __name__, workload_file="pytensor",
              environment=Environment("3.11", [["numpy==2.4.6", "scipy==1.17.1", "pytensor==2.38.3"]], ["pytensor"],
                                      variables={"PYTENSOR_FLAGS":
                                                 "blas__ldflags=,base_compiledir={env}/pytensor-cache"}),
              documented=DOCUMENTED),
]
