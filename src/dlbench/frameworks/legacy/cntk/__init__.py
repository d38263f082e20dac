"""CNTK's declaration (Python 3.6 only); its adapter and Keras's optimizer rules are beside it. Imports no framework;
Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import OPENMPI, PY36_PIP

# Nothing is probed in its environment: every feature row is documented, from its last releases' documentation.
DOCUMENTED = {
    "language": "Python, C#, C++, BrainScript; C++ core",
    "platforms": "Linux, Windows; CUDA. Retired: last release 2.7 (2019), Python 3.6 at the newest",
    "interfaces": "Python (cntk.layers, Function graph), BrainScript, C#, C++",
    "autodiff": "yes: symbolic, over the Function graph", "jit": "yes: every model is a static Function graph",
    "bf16": "no (fp16 on GPU)", "onnx": "yes: Function.save(format=ModelFormat.ONNX)",
    "pretrained": "CNTK model gallery (retired)", "mixed_precision": "fp16 training on GPU",
    "multi_gpu": "yes: data-parallel SGD over MPI (1-bit SGD, block momentum)",
    "multi_machine": "yes: MPI (mpiexec)", "keras_backend": "no: a Keras 2.0-2.3 backend (keras2-cntk)",
}

FRAMEWORKS = [
    Framework("cntk", "CNTK 2.7 (Python 3.6)", ["cntk"], ["cntk", "numpy"], [], __name__, workload_file="cntk",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "scipy==1.5.4", "cntk==2.7.post2"]],
                                      ["cntk"], libraries=OPENMPI), documented=DOCUMENTED),
]
