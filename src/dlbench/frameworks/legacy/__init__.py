"""The seed articles' frameworks, each in its own environment (`dlbench setup ID`; dlbench.environments): they need
an old Python (CNTK: 3.6 only; Theano's scan does not compile on 3.11) or an old numpy (< 1.24 for MXNet and
Theano, < 2 for Chainer). PyTensor and Paddle would install beside the modern frameworks, but pin a numpy of their
own: an environment keeps their pins from moving the modern frameworks' packages.

Each has a folder here with its declaration; this module holds what their environments share. Imports no framework;
Python 3.6-safe (a CNTK worker imports the registry).
"""
from dlbench.environments import Library

OPENMPI = [Library("libmpi.so.12", "libmpi.so.40", "libopenmpi3"),
           Library("libmpi_cxx.so.1", "libmpi_cxx.so.40", "libopenmpi3")]
PY36_PIP = ["pip==21.3.1"]  # the newest pip for Python 3.6; its bundled pip 18 cannot read today's index
THEANO_FLAGS = "blas.ldflags=,base_compiledir={env}/theano-cache"  # no BLAS link step; its C cache kept inside
