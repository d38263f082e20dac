"""PyTensor's declaration (Theano's maintained fork); its adapter is beside it, on legacy/theano/common.py. Imports no
framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

FRAMEWORKS = [
    Framework("pytensor", "PyTensor (Theano's maintained fork)", ["pytensor"], ["pytensor", "numpy"], [],
              __name__, workload_file="pytensor",
              environment=Environment("3.11", [["numpy==2.4.6", "scipy==1.17.1", "pytensor==2.38.3"]], ["pytensor"],
                                      variables={"PYTENSOR_FLAGS":
                                                 "blas__ldflags=,base_compiledir={env}/pytensor-cache"})),
]
