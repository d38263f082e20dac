"""mnist_cnn: the Keras example mnist_cnn.py, a two-convolution network on MNIST images.

Model: Conv 32 3x3 relu, Conv 64 3x3 relu (padding valid), MaxPool 2, Dropout 0.25, Flatten (9216), Dense 128 relu,
Dropout 0.5, Dense 10 softmax; 1,199,882 parameters.
Initialisers: kernels glorot_uniform (a conv kernel counts its 3x3 receptive field in both fans, as Keras does),
biases zero; set explicitly in every version (PyTorch's and Flax's defaults differ).
Loss: categorical cross-entropy. Keras keeps the softmax layer and its cross-entropy (which clips probabilities to
[1e-7, 1 - 1e-7]); the native versions return logits and fuse softmax into the loss: the same math without the clip.
Optimizer: Adadelta with Keras 3's rule (epsilon inside both roots; torch.optim.Adadelta puts it outside):
    a <- rho * a + (1 - rho) * g^2
    d <- -sqrt(b + epsilon) / sqrt(a + epsilon) * g
    b <- rho * b + (1 - rho) * d^2
    w <- w + lr * d
Layout: NHWC for keras-jax, keras-tensorflow, jax and tensorflow; NCHW for torch and keras-torch. Flatten order
follows it, in memory order everywhere (one policy, the cifar workloads' too): PyTorch and Keras on a channels-first
backend flatten (C, H, W) (keras.py and keras2.py pin Flatten(data_format="channels_last"), without which Keras
would transpose every batch to (H, W, C) first), the NHWC versions (H, W, C). The orders differ by a fixed
permutation of the Dense kernel's rows, which glorot_uniform does not see: the same model (dlbench verify permutes
the rows when it loads one set of weights: its Dense declares flattened_channels).
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
The legacy frameworks' versions (each in its own environment, dlbench setup) sit there too: cntk.py,
mxnet.py (Gluon), theano.py, pytensor.py (theano.py's model on PyTensor), chainer.py, paddle.py, and keras2.py
(Keras 2 on CNTK, Theano and MXNet); each states where its framework differs.
"""
from dlbench.workloads import layers
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="mnist_cnn",
    source="Keras example mnist_cnn.py",
    dataset="mnist",
    batch_size=128,
    epochs=12,
    params=1199882,
    trainable_params=1199882,
    hp=Hyper(rows=28, cols=28, channels=1, filters1=32, filters2=64, kernel=3, pool=2, dropout1=0.25,
             flat=9216, hidden=128, dropout2=0.5, classes=10,  # flat = 12 * 12 * 64 after the pool
             learning_rate=1.0, rho=0.95, epsilon=1e-7),
    metric="accuracy",
    optimizer="adadelta",
    target=0.9925,
    reference="99.25% validation accuracy after 12 epochs on the full MNIST (Keras example)",
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights)."""
    size = (hp.rows, hp.cols)
    conv1 = layers.Conv2D("conv1", hp.channels, hp.filters1, hp.kernel, size, "valid", data=True)  # 28 -> 26
    conv2 = layers.Conv2D("conv2", hp.filters1, hp.filters2, hp.kernel, conv1.out_size, "valid")  # 26 -> 24
    pool = layers.MaxPool2D(hp.pool, conv2.out_size)  # 24 -> 12
    flat = pool.out_size[0] * pool.out_size[1] * hp.filters2  # 9216
    return [conv1, conv2, pool, layers.Dense("dense1", flat, hp.hidden, flattened_channels=hp.filters2),
            layers.Dense("dense2", hp.hidden, hp.classes)]


def splits(dataset, layout):
    """Add the single channel axis where the layout wants it: (N, 28, 28, 1) channels_last, (N, 1, 28, 28)
    channels_first. Done once here (a reshape of contiguous data, no copy); labels stay integer class ids."""
    hp = SPEC.hp

    def images(x):
        if layout == "channels_first":
            return x.reshape(len(x), hp.channels, hp.rows, hp.cols)
        return x.reshape(len(x), hp.rows, hp.cols, hp.channels)
    return (Split([images(dataset.x_train)], [dataset.y_train]),
            Split([images(dataset.x_val)], [dataset.y_val]))
