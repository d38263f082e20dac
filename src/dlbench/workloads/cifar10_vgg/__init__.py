"""cifar10_vgg: the CNN of the DeepLearningFrameworks benchmark (ilkarman/DeepLearningFrameworks), a small VGG-style
network on CIFAR-10, no augmentation.

Model: Conv 50 3x3 same, relu, Conv 50 3x3 same, MaxPool 2, relu, Dropout 0.25, Conv 100 3x3 same, relu,
Conv 100 3x3 same, MaxPool 2, relu, Dropout 0.25, Flatten (8 x 8 x 100 = 6400), Dense 512 relu, Dropout 0.5,
Dense 10; 3,441,592 parameters. Every version applies relu after the pool where the spec does, as the benchmark's
PyTorch version did; its Keras version put that relu inside the convolution, before the pool: the same function
(relu and max commute) with 4x the relu work, so here Keras follows the spec too.
Initialisers: kernels glorot_uniform (a conv kernel counts its 3x3 receptive field in both fans), biases zero, set
explicitly in every version (the benchmark left each framework's default; WORKLOADS.md makes them equal).
Loss: softmax cross-entropy. Keras keeps a softmax layer and its cross-entropy (clipped to [1e-7, 1 - 1e-7]); the
native versions return logits and fuse softmax into the loss: the same math without the clip.
Optimizer: SGD with plain momentum (not Nesterov, no unit gain), Keras 3's rule:
    m <- momentum * m - lr * g;  w <- w + m
torch.optim.SGD (buf <- momentum * buf + g; w <- w - lr * buf) and optax.sgd are the same rule for a constant lr
(m = -lr * buf); native TensorFlow uses tensorflow/optim.KerasSGD.
Layout: channels-last (NHWC) for keras-jax, keras-tensorflow, jax and tensorflow; channels-first (NCHW) for torch
and keras-torch. The channels-first versions flatten in (C, H, W) order, the others in (H, W, C) order: the Dense
512 kernel's rows are a permutation of each other, the same function family under the same initialiser.
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
The legacy frameworks' versions (each in its own environment, dlbench setup) sit there too: cntk.py,
mxnet.py (Gluon), theano.py, pytensor.py (theano.py's model on PyTensor), chainer.py, paddle.py, and keras2.py
(Keras 2 on CNTK, Theano and MXNet); each states where its framework differs.
"""
from dlbench.workloads import cifar10_shared
from dlbench.workloads.spec import Hyper, WorkloadSpec

SPEC = WorkloadSpec(
    id="cifar10_vgg",
    source="DeepLearningFrameworks CNN",
    dataset="cifar10",
    batch_size=64,
    epochs=10,
    params=3441592,
    trainable_params=3441592,
    hp=Hyper(height=32, width=32, channels=3, filters1=50, filters2=100, kernel=3, pool=2, conv_dropout=0.25,
             flat=6400,  # Flatten: 32 -same-> 32 -same-> 32 -pool-> 16 -same-> 16 -same-> 16 -pool-> 8; 8 * 8 * 100
             hidden=512, dense_dropout=0.5, classes=10,
             learning_rate=0.01, momentum=0.9),
    metric="accuracy",
    optimizer="sgd_momentum",
    target=0.77,
    reference="~77% validation accuracy after 10 epochs on the full CIFAR-10 (DeepLearningFrameworks)",
)


def model_layers(hp):
    """The model's layers (dlbench.workloads.layers): the shared shape with same inner convolutions
    (32 -same-> 32 -same-> 32 -pool-> 16 -same-> 16 -same-> 16 -pool-> 8)."""
    return cifar10_shared.model_layers(hp, "same")


splits = cifar10_shared.splits  # images laid out once for the framework, integer labels
