"""cifar10_vit in PyTorch: the example's Patches and PatchEncoder and its pre-LN blocks as nn.Modules on channels-last
images: the Normalization's statistics as buffers, F.interpolate (bilinear, align_corners=False: half-pixel
centres, no antialias) on a channels-first view, patches cut by a reshape in Keras's extract_patches order, the
heads through F.scaled_dot_product_attention (dlbench.frameworks.torch.layers.KerasMultiHeadAttention), exact GELU,
logits out, Keras's AdamW rule (every parameter decayed)."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import (KerasMultiHeadAttention, KerasNormalization, keras_embedding,
                                             keras_layer_norm, keras_linear)
from dlbench.frameworks.torch.optim import KerasAdamW


def patches(images, patch_size):
    """(batch, height, width, channels) -> (batch, patches, patch_size^2 * channels): patches row by row, each
    patch's values (row, column, channel), as Keras's ops.image.extract_patches."""
    batch_size, height, width, channels = images.shape
    rows, cols = height // patch_size, width // patch_size
    x = images.reshape(batch_size, rows, patch_size, cols, patch_size, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(batch_size, rows * cols, patch_size * patch_size * channels)


class PatchEncoder(nn.Module):
    def __init__(self, num_patches, patch_values, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = keras_linear(patch_values, projection_dim)
        self.position_embedding = keras_embedding(num_patches, projection_dim)

    def forward(self, patch):
        positions = torch.arange(0, self.num_patches, device=patch.device)
        return self.projection(patch) + self.position_embedding(positions)


class TransformerBlock(nn.Module):
    def __init__(self, hp):
        super().__init__()
        d = hp.projection_dim
        self.layernorm1 = keras_layer_norm(d, hp.epsilon_ln)
        self.att = KerasMultiHeadAttention(d, hp.num_heads, key_dim=d, dropout=hp.attention_dropout)
        self.layernorm2 = keras_layer_norm(d, hp.epsilon_ln)
        self.mlp1 = keras_linear(d, hp.transformer_units[0])
        self.mlp2 = keras_linear(hp.transformer_units[0], hp.transformer_units[1])
        self.dropout = nn.Dropout(hp.dropout)

    def forward(self, encoded_patches):
        attention_output = self.att(self.layernorm1(encoded_patches))
        x2 = attention_output + encoded_patches
        x3 = self.dropout(F.gelu(self.mlp1(self.layernorm2(x2))))  # exact (erf) GELU, F.gelu's default
        x3 = self.dropout(F.gelu(self.mlp2(x3)))
        return x3 + x2


class Cifar10ViT(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.image_size, self.patch_size = hp.image_size, hp.patch_size
        num_patches = (hp.image_size // hp.patch_size) ** 2
        self.normalization = KerasNormalization(hp.norm_mean, hp.norm_variance)
        self.patch_encoder = PatchEncoder(num_patches, hp.patch_size * hp.patch_size * hp.channels,
                                          hp.projection_dim)
        self.blocks = nn.ModuleList([TransformerBlock(hp) for _ in range(hp.transformer_layers)])
        self.layernorm = keras_layer_norm(hp.projection_dim, hp.epsilon_ln)
        self.head1 = keras_linear(num_patches * hp.projection_dim, hp.mlp_head_units[0])
        self.head2 = keras_linear(hp.mlp_head_units[0], hp.mlp_head_units[1])
        self.logits = keras_linear(hp.mlp_head_units[1], hp.classes)
        self.head_dropout = nn.Dropout(hp.head_dropout)

    def forward(self, images):
        x = self.normalization(images)
        x = F.interpolate(x.permute(0, 3, 1, 2), size=(self.image_size, self.image_size), mode="bilinear",
                          align_corners=False, antialias=False).permute(0, 2, 3, 1)  # Resizing, channels last
        encoded_patches = self.patch_encoder(patches(x, self.patch_size))
        for block in self.blocks:
            encoded_patches = block(encoded_patches)
        representation = self.layernorm(encoded_patches).flatten(1)
        representation = self.head_dropout(representation)
        features = self.head_dropout(F.gelu(self.head1(representation)))
        features = self.head_dropout(F.gelu(self.head2(features)))
        return self.logits(features)


def build(hp):
    model = Cifar10ViT(hp)
    optimizer = KerasAdamW(model.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay, beta_1=hp.beta_1,
                           beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
