"""cifar10_vit in JAX with Flax NNX and optax: the example's Patches and PatchEncoder and its pre-LN blocks as
nnx.Modules on channels-last images: the Normalization's statistics as nnx.BatchStat (state, not trained),
jax.image.resize (bilinear, no antialias: half-pixel centres), patches cut by a reshape in Keras's extract_patches
order, the heads through jax.nn.dot_product_attention (dlbench.frameworks.jax.layers.KerasMultiHeadAttention),
exact GELU, logits out, Keras's AdamW rule (dlbench.frameworks.jax.optim.keras_adamw: every parameter decayed)."""
import jax
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import (KerasMultiHeadAttention, KerasNormalization, keras_embedding,
                                           keras_layer_norm, keras_linear)
from dlbench.frameworks.jax.optim import keras_adamw


def patches(images, patch_size):
    """(batch, height, width, channels) -> (batch, patches, patch_size^2 * channels): patches row by row, each
    patch's values (row, column, channel), as Keras's ops.image.extract_patches."""
    batch_size, height, width, channels = images.shape
    rows, cols = height // patch_size, width // patch_size
    x = images.reshape(batch_size, rows, patch_size, cols, patch_size, channels).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(batch_size, rows * cols, patch_size * patch_size * channels)


class PatchEncoder(nnx.Module):
    def __init__(self, num_patches, patch_values, projection_dim, rngs):
        self.num_patches = num_patches
        self.projection = keras_linear(patch_values, projection_dim, rngs)
        self.position_embedding = keras_embedding(num_patches, projection_dim, rngs)

    def __call__(self, patch):
        positions = jnp.arange(0, self.num_patches)
        return self.projection(patch) + self.position_embedding(positions)


class TransformerBlock(nnx.Module):
    def __init__(self, hp, rngs):
        d = hp.projection_dim
        self.layernorm1 = keras_layer_norm(d, hp.epsilon_ln, rngs)
        self.att = KerasMultiHeadAttention(d, hp.num_heads, d, rngs, dropout=hp.attention_dropout)
        self.layernorm2 = keras_layer_norm(d, hp.epsilon_ln, rngs)
        self.mlp1 = keras_linear(d, hp.transformer_units[0], rngs)
        self.mlp2 = keras_linear(hp.transformer_units[0], hp.transformer_units[1], rngs)
        self.dropout = nnx.Dropout(hp.dropout, rngs=rngs)

    def __call__(self, encoded_patches):
        attention_output = self.att(self.layernorm1(encoded_patches))
        x2 = attention_output + encoded_patches
        x3 = self.dropout(nnx.gelu(self.mlp1(self.layernorm2(x2)), approximate=False))  # exact (erf) GELU
        x3 = self.dropout(nnx.gelu(self.mlp2(x3), approximate=False))
        return x3 + x2


class Cifar10ViT(nnx.Module):
    def __init__(self, hp, rngs):
        self.image_size, self.patch_size = hp.image_size, hp.patch_size
        num_patches = (hp.image_size // hp.patch_size) ** 2
        self.normalization = KerasNormalization(hp.norm_mean, hp.norm_variance)
        self.patch_encoder = PatchEncoder(num_patches, hp.patch_size * hp.patch_size * hp.channels,
                                          hp.projection_dim, rngs)
        self.blocks = nnx.List([TransformerBlock(hp, rngs) for _ in range(hp.transformer_layers)])
        self.layernorm = keras_layer_norm(hp.projection_dim, hp.epsilon_ln, rngs)
        self.head1 = keras_linear(num_patches * hp.projection_dim, hp.mlp_head_units[0], rngs)
        self.head2 = keras_linear(hp.mlp_head_units[0], hp.mlp_head_units[1], rngs)
        self.logits = keras_linear(hp.mlp_head_units[1], hp.classes, rngs)
        self.head_dropout = nnx.Dropout(hp.head_dropout, rngs=rngs)

    def __call__(self, images):
        x = self.normalization(images)
        x = jax.image.resize(x, (x.shape[0], self.image_size, self.image_size, x.shape[3]), method="bilinear",
                             antialias=False)  # Resizing
        encoded_patches = self.patch_encoder(patches(x, self.patch_size))
        for block in self.blocks:
            encoded_patches = block(encoded_patches)
        representation = self.layernorm(encoded_patches).reshape(encoded_patches.shape[0], -1)
        representation = self.head_dropout(representation)
        features = self.head_dropout(nnx.gelu(self.head1(representation), approximate=False))
        features = self.head_dropout(nnx.gelu(self.head2(features), approximate=False))
        return self.logits(features)


def build(hp, rngs):
    model = Cifar10ViT(hp, rngs)
    optimizer = keras_adamw(learning_rate=hp.learning_rate, weight_decay=hp.weight_decay, beta_1=hp.beta_1,
                            beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
