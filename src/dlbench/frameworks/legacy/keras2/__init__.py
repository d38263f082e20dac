"""Keras 2's declarations, one per backend of the seed articles (CNTK, Theano, MXNet); one adapter (adapter.py)
serves all three. Imports no framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import OPENMPI, PY36_PIP, THEANO_FLAGS

# Nothing is probed in their environments: every feature row is documented, from their last releases' documentation.
KERAS2 = {
    "language": "Python (the backend underneath)",
    "interfaces": "Python: Keras 2 API (Sequential, functional; fit/evaluate/predict)",
    "autodiff": "yes: the backend's", "jit": "the backend's graph", "bf16": "no", "onnx": "no (keras2onnx, retired)",
    "pretrained": "keras.applications (Keras 2)", "mixed_precision": "no: Keras 2 has no dtype policies",
    "multi_gpu": "partly: keras.utils.multi_gpu_model (removed in later Keras)", "multi_machine": "no",
}
DOCUMENTED = {
    "keras2-cntk": dict(KERAS2, platforms="those of CNTK (Python 3.6)", keras_backend="Keras 2.3 on CNTK"),
    "keras2-theano": dict(KERAS2, platforms="those of Theano", keras_backend="Keras 2.3 on Theano"),
    "keras2-mxnet": dict(KERAS2, platforms="those of MXNet", keras_backend="keras-mxnet 2.2.4 (a Keras fork)"),
}

FRAMEWORKS = [
    Framework("keras2-cntk", "Keras 2.3 on CNTK (Python 3.6)", ["keras", "cntk"], ["Keras", "cntk", "numpy"], [],
              __name__, workload_file="keras2", keras_backend="cntk",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "cntk==2.7.post2", "keras==2.3.1"]],
                                      ["cntk", "keras"], libraries=OPENMPI, variables={"KERAS_BACKEND": "cntk"}),
              documented=DOCUMENTED["keras2-cntk"]),
    Framework("keras2-theano", "Keras 2.3 on Theano", ["keras", "theano"], ["Keras", "Theano", "numpy"], [],
              __name__, workload_file="keras2", keras_backend="theano",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "Theano==1.0.5", "keras==2.3.1"]],
                                      ["theano", "keras"],
                                      variables={"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_FLAGS}),
              documented=DOCUMENTED["keras2-theano"]),
    Framework("keras2-mxnet", "Keras 2.2 on MXNet (keras-mxnet)", ["keras", "mxnet"], ["keras-mxnet", "mxnet", "numpy"],
              [], __name__, workload_file="keras2", keras_backend="mxnet",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "mxnet==1.9.1", "keras-mxnet==2.2.4.3"]],
                                      ["mxnet", "keras"], variables={"KERAS_BACKEND": "mxnet"}),
              documented=DOCUMENTED["keras2-mxnet"]),
]
