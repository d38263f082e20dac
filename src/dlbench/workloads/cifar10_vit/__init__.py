"""cifar10_vit: the keras.io example "Image classification with Vision Transformer" (Khalid Salama, 2021), on
CIFAR-10: a ViT that cuts an upscaled image into patches and reads them with eight transformer blocks.

Data: CIFAR-10 as float32 in [0, 1] (the /255 of dlbench.data.cifar10), (N, 32, 32, 3) in every layout: the model
does its own preprocessing, channels last on every backend; labels int32 class ids.
Model (the example's with 10 classes): Normalization (per channel, its mean and variance adapted on the training
set: splits() computes them once in NumPy and every version is given them; count, a weight Keras keeps for old
saved models, stays 0 as adapt() leaves it), Resizing to 72 x 72 (bilinear, no antialias: half-pixel centres, edges
clamped), 6 x 6 patches (144 of 108 values each, in the order of Keras's ops.image.extract_patches: patches row by
row, each patch's values (row, column, channel)), the PatchEncoder: Dense 64 plus a position Embedding(144, 64);
8 pre-LN blocks: LayerNormalization(eps 1e-6), MultiHeadAttention(4 heads, key_dim 64, dropout 0.1 on the
attention weights), add, LayerNormalization(eps 1e-6), Dense 128 gelu, Dropout 0.1, Dense 64 gelu, Dropout 0.1,
add; LayerNormalization(eps 1e-6), Flatten (9216), Dropout 0.5, Dense 2048 gelu, Dropout 0.5, Dense 1024 gelu,
Dropout 0.5, Dense 10 (logits). GELU is the exact (erf) form, Keras's default.
21,666,769 parameters, 21,666,762 trainable (Normalization's mean, variance and count are the other 7).
Initialisers, Keras's defaults set explicitly in every version: kernels glorot_uniform (an attention kernel over the
fans of the Dense it flattens to), biases zero, the position embedding U(-0.05, 0.05), LayerNorm gamma 1, beta 0.
Loss: sparse categorical cross-entropy from logits (the example's Dense 10 has no activation).
Optimizer: keras.optimizers.AdamW(lr 1e-3, weight_decay 1e-4; beta_1 0.9, beta_2 0.999, epsilon 1e-7, its
defaults): Keras's Adam rule, and before each step every trainable variable (Keras excludes none by default:
biases, LayerNorms and the position embedding included) is decayed, w <- w - lr * weight_decay * w.
Left out of the example: its RandomFlip, RandomRotation and RandomZoom augmentation, which no two frameworks can
draw identically; the data set is CIFAR-10 (the example trains CIFAR-100), batch 256, 100 epochs (its
"for real training" setting).
The four versions sit beside this file: keras.py, torch.py, jax.py, tensorflow.py.
"""
import numpy as np

from dlbench.workloads import layers
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="cifar10_vit",
    source='keras.io example "Image classification with Vision Transformer" (2021), on CIFAR-10',
    dataset="cifar10",
    batch_size=256,
    epochs=100,
    params=21666769,
    trainable_params=21666762,
    hp=Hyper(height=32, width=32, channels=3, classes=10, image_size=72, patch_size=6, projection_dim=64,
             num_heads=4, transformer_layers=8, transformer_units=(128, 64), mlp_head_units=(2048, 1024),
             epsilon_ln=1e-6, attention_dropout=0.1, dropout=0.1, head_dropout=0.5,
             norm_mean=None, norm_variance=None,
             learning_rate=1e-3, weight_decay=1e-4, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    metric="accuracy",
    optimizer="adamw",
    output="logits",  # the example's model ends in Dense 10 without an activation (a from_logits loss)
    reference="the keras.io example trains CIFAR-100 (about 55% top-1 after 100 epochs); no CIFAR-10 figure",
    attention=True,
)


def num_patches(hp):
    return (hp.image_size // hp.patch_size) ** 2


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights). The names are the native versions' attribute paths (blocks.<i>.<layer>)."""
    steps, d = num_patches(hp), hp.projection_dim
    patch_values = hp.patch_size * hp.patch_size * hp.channels
    found = [layers.KerasNormalization("normalization", hp.channels),
             layers.TimeDistributed(layers.Dense("patch_encoder.projection", patch_values, d, data=True), steps),
             layers.Embedding("patch_encoder.position_embedding", steps, d)]
    for i in range(hp.transformer_layers):
        block = "blocks.%d." % i
        units = (d,) + tuple(hp.transformer_units)
        found += [layers.LayerNorm(block + "layernorm1", d),
                  layers.KerasMultiHeadAttention(block + "att", d, hp.num_heads, d, steps),  # key_dim = projection_dim
                  layers.LayerNorm(block + "layernorm2", d)]
        found += [layers.TimeDistributed(layers.Dense(block + "mlp%d" % (j + 1), units[j], units[j + 1]), steps)
                  for j in range(len(hp.transformer_units))]
    head = (steps * d,) + tuple(hp.mlp_head_units)
    found.append(layers.LayerNorm("layernorm", d))
    found += [layers.Dense("head%d" % (j + 1), head[j], head[j + 1]) for j in range(len(hp.mlp_head_units))]
    return found + [layers.Dense("logits", head[-1], hp.classes)]


def splits(dataset, layout):
    """Images as float32 (N, 32, 32, 3) in every layout (the model normalises, resizes and cuts them itself, channels
    last on every backend); labels int32 class ids. Puts the training set's per-channel mean and variance (what
    Normalization.adapt computes) into dataset.meta for hyper()."""
    x = dataset.x_train.reshape(-1, dataset.x_train.shape[-1]).astype(np.float64)
    dataset.meta["norm_mean"] = [float(v) for v in x.mean(axis=0)]
    dataset.meta["norm_variance"] = [float(v) for v in x.var(axis=0)]
    return (Split([dataset.x_train], [dataset.y_train.astype("int32")]),
            Split([dataset.x_val], [dataset.y_val.astype("int32")]))


def hyper(dataset):
    """SPEC.hp with the training set's normalisation statistics that splits() found."""
    if "norm_mean" not in dataset.meta:
        raise ValueError("cifar10_vit.hyper() needs splits(dataset) first: it adapts the Normalization")
    values = SPEC.hp.as_dict()
    values.update(norm_mean=dataset.meta["norm_mean"], norm_variance=dataset.meta["norm_variance"])
    return Hyper(**values)
