"""mnist_mlp in PyTensor: the Theano version (theano.py) unchanged, run with the pytensor module (its Backend,
dlbench.frameworks.legacy.theano.common, maps the few calls PyTensor renamed or removed)."""
from dlbench.workloads.mnist_mlp.theano import build, correct, loss_fn  # noqa: F401
