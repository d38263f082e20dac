"""ONNX Runtime's declaration. Inference-only (DESIGN.md): it runs dlbench.inference workloads, in
dlbench.worker.inference, never training, so this folder has no adapter. It runs the model exported from PyTorch, so
it needs torch and onnx too; fp32 only, as every inference workload. Imports no framework; Python 3.6-safe."""
from dlbench.frameworks.declaration import Framework

FRAMEWORKS = [
    Framework("onnxruntime", "ONNX Runtime (the PyTorch model exported to ONNX)", ["torch", "onnx", "onnxruntime"],
              ["onnxruntime", "onnx", "torch"], ["torch", "onnxruntime"], __name__, inference_only=True),
]
