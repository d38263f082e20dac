"""MXNet's declaration (Gluon); its adapter and Keras's optimizer rules are beside it. Imports no framework; Python
3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

# Nothing is probed in its environment: every feature row is documented, from its last releases' documentation.
DOCUMENTED = {
    "language": "Python, C++, Scala, R, Julia, Clojure, Perl; C++ core",
    "platforms": "Linux, macOS, Windows; CUDA. Retired to the Apache Attic (2023); last release 1.9.1",
    "interfaces": "Gluon (imperative, hybridize), Symbol and Module APIs",
    "autodiff": "yes: autograd.record", "jit": "yes: hybridize() caches a symbolic graph",
    "bf16": "on CPU through oneDNN (AMP)", "onnx": "yes: mx.onnx.export_model",
    "pretrained": "Gluon model zoo, GluonCV, GluonNLP", "mixed_precision": "yes: mxnet.contrib.amp (fp16)",
    "multi_gpu": "yes: several contexts, kvstore 'device'", "multi_machine": "yes: kvstore 'dist' (parameter "
    "server), Horovod", "keras_backend": "no: keras-mxnet, a Keras 2.2.4 fork (keras2-mxnet)",
}

FRAMEWORKS = [
    Framework("mxnet", "MXNet 1.9 (Gluon)", ["mxnet"], ["mxnet", "numpy"], [], __name__, workload_file="mxnet",
              environment=Environment("3.11", [["numpy==1.23.5", "mxnet==1.9.1"]], ["mxnet"]), documented=DOCUMENTED),
]
