"""Keras 2's declarations, one per backend of the seed articles (CNTK, Theano, MXNet); one adapter (adapter.py)
serves all three. Imports no framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import OPENMPI, PY36_PIP, THEANO_FLAGS

FRAMEWORKS = [
    Framework("keras2-cntk", "Keras 2.3 on CNTK (Python 3.6)", ["keras", "cntk"], ["Keras", "cntk", "numpy"], [],
              __name__, workload_file="keras2", keras_backend="cntk",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "cntk==2.7.post2", "keras==2.3.1"]],
                                      ["cntk", "keras"], libraries=OPENMPI, variables={"KERAS_BACKEND": "cntk"})),
    Framework("keras2-theano", "Keras 2.3 on Theano", ["keras", "theano"], ["Keras", "Theano", "numpy"], [],
              __name__, workload_file="keras2", keras_backend="theano",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "Theano==1.0.5", "keras==2.3.1"]],
                                      ["theano", "keras"],
                                      variables={"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_FLAGS})),
    Framework("keras2-mxnet", "Keras 2.2 on MXNet (keras-mxnet)", ["keras", "mxnet"], ["keras-mxnet", "mxnet", "numpy"],
              [], __name__, workload_file="keras2", keras_backend="mxnet",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "mxnet==1.9.1", "keras-mxnet==2.2.4.3"]],
                                      ["mxnet", "keras"], variables={"KERAS_BACKEND": "mxnet"})),
]
