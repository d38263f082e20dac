"""OpenVINO's declaration. Inference-only (DESIGN.md): it runs dlbench.inference workloads, in
dlbench.worker.inference, never training, so this folder has no adapter. It runs the PyTorch model's ONNX export,
converted, so it needs torch and onnx too; fp32 only, as every inference workload. Imports no framework; Python
3.6-safe."""
from dlbench.frameworks.declaration import Framework

FRAMEWORKS = [
    Framework("openvino", "OpenVINO (the PyTorch model's ONNX export, converted)", ["torch", "onnx", "openvino"],
              ["openvino", "onnx", "torch"], ["torch", "openvino"], __name__, inference_only=True),
]
