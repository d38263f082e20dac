"""cifar10_cnn: the Keras example cifar10_cnn.py, a four-convolution network on CIFAR-10 with data augmentation.

Model: Conv 32 3x3 same, Conv 32 3x3 valid, MaxPool 2, Dropout 0.25, Conv 64 3x3 same, Conv 64 3x3 valid, MaxPool 2,
Dropout 0.25, Flatten (6 x 6 x 64 = 2304), Dense 512, Dropout 0.5, Dense 10 softmax; every convolution and the
Dense 512 with relu; 1,250,858 parameters.
Initialisers: kernels glorot_uniform (a conv kernel counts its 3x3 receptive field in both fans), biases zero, set
explicitly in every version (PyTorch's and Flax's defaults differ).
Loss: categorical cross-entropy. Keras keeps the softmax layer and its cross-entropy (clipped to [1e-7, 1 - 1e-7]);
the native versions return logits and fuse softmax into the loss: the same math without the clip.
Optimizer: RMSprop with Keras 3's rule and Keras 2's per-step inverse-time decay, written out where a framework's
own rule differs:
    lr_t = lr / (1 + decay * t)                 (t: batches trained so far; Keras: InverseTimeDecay(decay_steps=1),
                                                 PyTorch: a LambdaLR stepped every batch, optax: a schedule function,
                                                 native TensorFlow: tensorflow/optim's decay)
    v <- rho * v + (1 - rho) * g^2
    w <- w - lr_t * g / sqrt(v + epsilon)       (epsilon inside the root; PyTorch puts it outside)
Augmentation: `augment` below, one piece of NumPy for every framework, applied to each training batch by dlbench's
input pipeline (its time is recorded as the input share of the epoch); validation images are never augmented.
Layout: channels-last (NHWC) for keras-jax, keras-tensorflow, jax and tensorflow; channels-first (NCHW) for torch
and keras-torch. The channels-first versions flatten in (C, H, W) order, the others in (H, W, C) order: the Dense
512 kernel's rows are a permutation of each other, the same function family under the same initialiser.
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
"""
import numpy as np

from dlbench.workloads import cifar10_shared
from dlbench.workloads.spec import Hyper, WorkloadSpec

SPEC = WorkloadSpec(
    id="cifar10_cnn",
    source="Keras example cifar10_cnn.py",
    dataset="cifar10",
    batch_size=32,
    epochs=200,  # the example's; the seed runs used 20 and 50 (--epochs)
    params=1250858,
    trainable_params=1250858,
    hp=Hyper(height=32, width=32, channels=3, filters1=32, filters2=64, kernel=3, pool=2, conv_dropout=0.25,
             flat=2304,  # Flatten: 32 -same-> 32 -valid-> 30 -pool-> 15 -same-> 15 -valid-> 13 -pool-> 6; 6 * 6 * 64
             hidden=512, dense_dropout=0.5, classes=10,
             learning_rate=1e-4, rho=0.9, epsilon=1e-7, decay=1e-6,
             shift=0.1, flip=0.5),
    metric="accuracy",
    optimizer="rmsprop",
    target=0.74,
    reference="~74% validation accuracy after 20 epochs with augmentation on the full CIFAR-10 (seed runs)",
)


def model_layers(hp):
    """The model's layers (dlbench.workloads.layers): the shared shape with valid inner convolutions
    (32 -same-> 32 -valid-> 30 -pool-> 15 -same-> 15 -valid-> 13 -pool-> 6)."""
    return cifar10_shared.model_layers(hp, "valid")


splits = cifar10_shared.splits  # images laid out once for the framework, integer labels


def augment(inputs, rng, layout):
    """The example's ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True) on one
    batch, vectorised. For each image independently:
      dy = rint(U(-0.1, 0.1) * height), dx = rint(U(-0.1, 0.1) * width)   (whole pixels: -3..3 on 32x32)
      flip = U(0, 1) < 0.5
    then shift_and_flip below. Whole-pixel shifts are exactly Keras 2.0's generator, which resampled with order-0
    (nearest-neighbour) interpolation, so a fractional shift landed on the nearest whole pixel; later Keras
    versions interpolate bilinearly (order 1). Draws from `rng` in a fixed order (vertical shifts, horizontal
    shifts, flips), so a seed fixes the result. Returns a new list; the input arrays are not modified."""
    hp = SPEC.hp
    images = inputs[0]
    n = len(images)
    height, width = (images.shape[2], images.shape[3]) if layout == "channels_first" else images.shape[1:3]
    dy = np.rint(rng.uniform(-hp.shift, hp.shift, size=n) * height).astype(np.intp)
    dx = np.rint(rng.uniform(-hp.shift, hp.shift, size=n) * width).astype(np.intp)
    flip = rng.uniform(size=n) < hp.flip
    return [shift_and_flip(images, dy, dx, flip, layout)] + list(inputs[1:])


def shift_and_flip(images, dy, dx, flip, layout):
    """Image k moved down by dy[k] and right by dx[k] whole pixels, the uncovered border filled with the nearest
    edge pixel (Keras's fill_mode='nearest'), then mirrored left-right where flip[k] (after the shift, as Keras):
        out[k, i, j] = images[k, clip(i - dy[k], 0, h - 1), clip(j' - dx[k], 0, w - 1)],  j' = w - 1 - j if flip[k]
    One gather for the whole batch, in either layout."""
    n = len(images)
    height, width = (images.shape[2], images.shape[3]) if layout == "channels_first" else images.shape[1:3]
    # Source coordinates of every output pixel: rows (n, height), columns (n, width).
    rows = np.clip(np.arange(height)[None, :] - dy[:, None], 0, height - 1)
    columns = np.arange(width)[None, :].repeat(n, axis=0)
    columns[flip] = columns[flip, ::-1]
    columns = np.clip(columns - dx[:, None], 0, width - 1)
    batch = np.arange(n)
    if layout == "channels_first":
        channels = np.arange(images.shape[1])
        return images[batch[:, None, None, None], channels[None, :, None, None],
                      rows[:, None, :, None], columns[:, None, None, :]]
    return images[batch[:, None, None], rows[:, :, None], columns[:, None, :]]
