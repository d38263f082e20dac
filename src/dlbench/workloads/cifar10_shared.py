"""What the two CIFAR-10 convolution workloads (cifar10_cnn, cifar10_vgg) share: their data laid out for the
framework, and the layer list of their common shape (two blocks of two 3x3 convolutions and a max-pool, then a
hidden Dense layer and the classifier). Each workload's own facts (its spec, sizes, paddings, augmentation) stay in
its package. Python 3.6-safe, numpy only, like every workload's __init__.py."""
import numpy as np

from dlbench.workloads import layers
from dlbench.workloads.spec import Split


def model_layers(hp, inner_padding):
    """The layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample and
    canonical weights): [Conv same, Conv `inner_padding`, MaxPool] twice (filters1, then filters2), Dense hidden on
    the memory-order Flatten, Dense classes."""
    size = (hp.height, hp.width)
    conv1 = layers.Conv2D("conv1", hp.channels, hp.filters1, hp.kernel, size, "same", data=True)
    conv2 = layers.Conv2D("conv2", hp.filters1, hp.filters1, hp.kernel, conv1.out_size, inner_padding)
    pool1 = layers.MaxPool2D(hp.pool, conv2.out_size)
    conv3 = layers.Conv2D("conv3", hp.filters1, hp.filters2, hp.kernel, pool1.out_size, "same")
    conv4 = layers.Conv2D("conv4", hp.filters2, hp.filters2, hp.kernel, conv3.out_size, inner_padding)
    pool2 = layers.MaxPool2D(hp.pool, conv4.out_size)
    flat = pool2.out_size[0] * pool2.out_size[1] * hp.filters2
    return [conv1, conv2, pool1, conv3, conv4, pool2,
            layers.Dense("dense1", flat, hp.hidden, flattened_channels=hp.filters2),
            layers.Dense("dense2", hp.hidden, hp.classes)]


def splits(dataset, layout):
    """Images as the layout wants them, transposed here once (never per batch); labels stay integer class ids
    (sparse cross-entropy)."""
    def laid_out(x):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if layout == "channels_first" else x
    return (Split([laid_out(dataset.x_train)], [dataset.y_train]),
            Split([laid_out(dataset.x_val)], [dataset.y_val]))
