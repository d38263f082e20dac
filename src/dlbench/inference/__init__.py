"""Inference workloads: a model is built once per runtime, loaded with one set of weights shared by all runtimes,
and timed on forward passes only (no training, no optimizer).

Unlike the training workloads in dlbench.workloads, an inference workload has no data set to learn from: its input
is generated, its weights are generated once from a seed and carried into every runtime through a canonical weight
file, and its correctness check is that every runtime computes the same outputs for the same input.

Packages:
  resnet50_features   ResNet-50 v1 cut after global average pooling (2048 features), DeepLearningFrameworks'
                      inference benchmark: Keras, PyTorch (eager and torch.compile), Flax NNX, native TensorFlow
                      (with and without XLA), Keras on its openvino backend, ONNX Runtime and OpenVINO.

Python 3.6-safe (the worker may import it): standard library and numpy only.
"""
