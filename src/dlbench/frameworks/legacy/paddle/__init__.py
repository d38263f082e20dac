"""PaddlePaddle's declaration; its adapter and the optimizer check are beside it. Imports no framework; Python
3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

# Nothing is probed in its environment: every feature row is documented, from its last releases' documentation.
DOCUMENTED = {
    "language": "Python; C++ core (C++ inference API)",
    "platforms": "Linux, macOS, Windows; CUDA, ROCm, Kunlun XPU, Ascend NPU",
    "interfaces": "dynamic graph (paddle.nn), static graph (paddle.static), paddle.jit.to_static",
    "autodiff": "yes", "jit": "yes: paddle.jit.to_static (CINN compiler)", "bf16": "yes",
    "onnx": "yes: paddle2onnx", "pretrained": "PaddleHub, PaddleClas, PaddleNLP",
    "mixed_precision": "yes: paddle.amp (fp16, bf16)", "multi_gpu": "yes: paddle.distributed (fleet)",
    "multi_machine": "yes: fleet", "keras_backend": "no",
}

FRAMEWORKS = [
    Framework("paddle", "PaddlePaddle 3.3", ["paddle"], ["paddlepaddle", "numpy"], [], __name__,
              workload_file="paddle",
              environment=Environment("3.11", [["numpy==2.4.6", "paddlepaddle==3.3.1"]], ["paddle"]),
              documented=DOCUMENTED),
]
