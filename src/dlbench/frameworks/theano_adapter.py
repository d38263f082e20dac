"""Theano 1.0: a symbolic graph compiled into one training function with updates (theano.function), C code
generated and compiled on its first call. The implementation is shared with PyTensor: dlbench.frameworks.theano_common."""
from dlbench.frameworks import theano_common


class Adapter(theano_common.Adapter):
    name = "theano"
