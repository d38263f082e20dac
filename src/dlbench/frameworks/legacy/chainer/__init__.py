"""Chainer's declaration; its adapter is beside it. Imports no framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

FRAMEWORKS = [
    Framework("chainer", "Chainer 7.8", ["chainer"], ["chainer", "numpy"], [], __name__, workload_file="chainer",
              environment=Environment("3.11", [["wheel==0.48.0", "setuptools==65.5.0", "numpy==1.26.4"],
                                               ["--no-build-isolation", "chainer==7.8.1"]], ["chainer"])),
]
