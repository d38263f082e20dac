"""Theano's declaration; its adapter is beside it, and common.py, the implementation it shares with PyTensor
(legacy/pytensor imports it). Imports no framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import THEANO_FLAGS

FRAMEWORKS = [
    Framework("theano", "Theano 1.0", ["theano"], ["Theano", "numpy"], [], __name__, workload_file="theano",
              environment=Environment("3.8", [["numpy==1.23.5", "scipy==1.10.1", "Theano==1.0.5"]], ["theano"],
                                      variables={"THEANO_FLAGS": THEANO_FLAGS})),
]
