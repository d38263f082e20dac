"""Theano's declaration; its adapter is beside it, and common.py, the implementation it shares with PyTensor
(legacy/pytensor imports it). Imports no framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import THEANO_FLAGS

# Nothing is probed in its environment: every feature row is documented, from its last releases' documentation.
DOCUMENTED = {
    "language": "Python; C and CUDA code generated when a function is compiled",
    "platforms": "Linux, macOS, Windows; CUDA through libgpuarray. Development ended 2017; last release 1.0.5",
    "interfaces": "symbolic: theano.tensor, theano.function, scan",
    "autodiff": "yes: symbolic (theano.grad)", "jit": "yes: theano.function compiles the graph to C",
    "bf16": "no", "onnx": "no", "pretrained": "none of its own (Lasagne and Keras model zoos)",
    "mixed_precision": "float16 on GPU (libgpuarray), experimental", "multi_gpu": "partly: GPU contexts by hand",
    "multi_machine": "no", "keras_backend": "no: a Keras 1-2.3 backend (keras2-theano)",
}

FRAMEWORKS = [
    Framework("theano", "Theano 1.0", ["theano"], ["Theano", "numpy"], [], __name__, workload_file="theano",
              environment=Environment("3.8", [["numpy==1.23.5", "scipy==1.10.1", "Theano==1.0.5"]], ["theano"],
                                      variables={"THEANO_FLAGS": THEANO_FLAGS}), documented=DOCUMENTED),
]
