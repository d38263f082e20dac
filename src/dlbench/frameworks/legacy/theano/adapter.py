"""Theano 1.0: a symbolic graph compiled into one training function with updates (theano.function), C code
generated and compiled on its first call. The implementation is shared with PyTensor: dlbench.frameworks.legacy.theano.common.

Theano's OpenMP stays off (its default): with openmp=True its CorrMM convolution ops abort the process (SIGABRT;
"Fatal Python error: PyEval_SaveThread: NULL tstate" on Python 3.8, "...: the function must be called with the GIL
held" on 3.11), so its threads are numpy's OpenBLAS threads in the matrix products (CorrMM's im2col gemm included)
and its elementwise loops run on one thread."""
from dlbench.frameworks.legacy.theano import common as theano_common


class Adapter(theano_common.Adapter):
    name = "theano"
    openmp = False
