"""Chainer's declaration; its adapter is beside it. Imports no framework; Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

# Nothing is probed in its environment: every feature row is documented, from its last releases' documentation.
DOCUMENTED = {
    "language": "Python (NumPy on CPU, CuPy on GPU)",
    "platforms": "Linux, macOS, Windows; CUDA through CuPy. Maintenance only since v7 (2019)",
    "interfaces": "define-by-run: Chain, links, functions, Trainer",
    "autodiff": "yes: define-by-run", "jit": "no (define-by-run; static_graph is experimental)",
    "bf16": "no", "onnx": "yes: onnx-chainer", "pretrained": "ChainerCV, chainer.links vision models",
    "mixed_precision": "fp16 through the dtype config (mixed16)", "multi_gpu": "yes: ParallelUpdater, ChainerMN",
    "multi_machine": "yes: ChainerMN (MPI)", "keras_backend": "no",
}

FRAMEWORKS = [
    Framework("chainer", "Chainer 7.8", ["chainer"], ["chainer", "numpy"], [], __name__, workload_file="chainer",
              environment=Environment("3.11", [["wheel==0.48.0", "setuptools==65.5.0", "numpy==1.26.4"],
                                               ["--no-build-isolation", "chainer==7.8.1"]], ["chainer"]),
              documented=DOCUMENTED),
]
