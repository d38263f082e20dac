"""PyTensor, Theano's maintained fork: the same implementation as Theano's (dlbench.frameworks.legacy.theano.common) with
the pytensor module; pytensor.function compiles the training graph with its C backend (FAST_RUN, the default linker
of PyTensor 2.x; 3.x moved the default to Numba)."""
from dlbench.frameworks.legacy.theano import common as theano_common


class Adapter(theano_common.Adapter):
    name = "pytensor"
