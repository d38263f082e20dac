"""MXNet's declaration (Gluon); its adapter and Keras's optimizer rules are beside it. Imports no framework; Python
3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

FRAMEWORKS = [
    Framework("mxnet", "MXNet 1.9 (Gluon)", ["mxnet"], ["mxnet", "numpy"], [], __name__, workload_file="mxnet",
              environment=Environment("3.11", [["numpy==1.23.5", "mxnet==1.9.1"]], ["mxnet"])),
]
