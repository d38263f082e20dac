"""cifar10_vit in native TensorFlow: tf.Modules with their own variables (no Keras): the example's Patches and
PatchEncoder and its pre-LN blocks on channels-last images: the Normalization's statistics as variables that are not
trained, tf.image.resize (bilinear, no antialias: half-pixel centres), tf.image.extract_patches (Keras's order: it
is what Keras calls on TensorFlow), the attention written out (dlbench.frameworks.tensorflow.layers.MultiHeadAttention),
exact GELU, logits out, Keras's AdamW rule written out in dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Dense, Embedding, LayerNormalization, MultiHeadAttention, Normalization
from dlbench.frameworks.tensorflow.optim import KerasAdamW


def patches(images, patch_size):
    """(batch, height, width, channels) -> (batch, patches, patch_size^2 * channels): patches row by row, each
    patch's values (row, column, channel)."""
    x = tf.image.extract_patches(images, sizes=[1, patch_size, patch_size, 1], strides=[1, patch_size, patch_size, 1],
                                 rates=[1, 1, 1, 1], padding="VALID")
    return tf.reshape(x, [tf.shape(x)[0], x.shape[1] * x.shape[2], x.shape[3]])


class PatchEncoder(tf.Module):
    def __init__(self, num_patches, patch_values, projection_dim, generator):
        super().__init__(name="patch_encoder")
        self.num_patches = num_patches
        self.projection = Dense(patch_values, projection_dim, generator, "projection")
        self.position_embedding = Embedding(num_patches, projection_dim, generator, "position_embedding")

    def __call__(self, patch):
        positions = tf.range(0, self.num_patches)
        return self.projection(patch) + self.position_embedding(positions)


class TransformerBlock(tf.Module):
    def __init__(self, hp, generator, name):
        super().__init__(name=name)
        d = hp.projection_dim
        self.layernorm1 = LayerNormalization(d, hp.epsilon_ln, "layernorm1")
        self.att = MultiHeadAttention(d, hp.num_heads, d, generator, "att", dropout=hp.attention_dropout)
        self.layernorm2 = LayerNormalization(d, hp.epsilon_ln, "layernorm2")
        self.mlp1 = Dense(d, hp.transformer_units[0], generator, "mlp1")
        self.mlp2 = Dense(hp.transformer_units[0], hp.transformer_units[1], generator, "mlp2")
        self.rate = hp.dropout

    def __call__(self, encoded_patches, training):
        attention_output = self.att(self.layernorm1(encoded_patches), training)
        x2 = attention_output + encoded_patches
        x3 = tf.nn.gelu(self.mlp1(self.layernorm2(x2)), approximate=False)  # exact (erf) GELU
        x3 = tf.nn.dropout(x3, self.rate) if training else x3
        x3 = tf.nn.gelu(self.mlp2(x3), approximate=False)
        x3 = tf.nn.dropout(x3, self.rate) if training else x3
        return x3 + x2


class Cifar10ViT(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="cifar10_vit")
        self.image_size, self.patch_size = hp.image_size, hp.patch_size
        num_patches = (hp.image_size // hp.patch_size) ** 2
        self.normalization = Normalization(hp.norm_mean, hp.norm_variance, "normalization")
        self.patch_encoder = PatchEncoder(num_patches, hp.patch_size * hp.patch_size * hp.channels,
                                          hp.projection_dim, generator)
        self.blocks = [TransformerBlock(hp, generator, "block%d" % i) for i in range(hp.transformer_layers)]
        self.layernorm = LayerNormalization(hp.projection_dim, hp.epsilon_ln, "layernorm")
        self.head1 = Dense(num_patches * hp.projection_dim, hp.mlp_head_units[0], generator, "head1")
        self.head2 = Dense(hp.mlp_head_units[0], hp.mlp_head_units[1], generator, "head2")
        self.logits = Dense(hp.mlp_head_units[1], hp.classes, generator, "logits")
        self.head_rate = hp.head_dropout

    def __call__(self, images, training):
        x = self.normalization(images)
        # Resizing; tf.image.resize returns float32 whatever it is given: back to the compute dtype
        x = tf.cast(tf.image.resize(x, (self.image_size, self.image_size), method="bilinear", antialias=False), x.dtype)
        encoded_patches = self.patch_encoder(patches(x, self.patch_size))
        for block in self.blocks:
            encoded_patches = block(encoded_patches, training)
        representation = tf.reshape(self.layernorm(encoded_patches), [tf.shape(encoded_patches)[0], -1])
        representation = tf.nn.dropout(representation, self.head_rate) if training else representation
        features = tf.nn.gelu(self.head1(representation), approximate=False)
        features = tf.nn.dropout(features, self.head_rate) if training else features
        features = tf.nn.gelu(self.head2(features), approximate=False)
        features = tf.nn.dropout(features, self.head_rate) if training else features
        return self.logits(features)


def build(hp, generator):
    model = Cifar10ViT(hp, generator)
    optimizer = KerasAdamW(model.trainable_variables, lr=hp.learning_rate, weight_decay=hp.weight_decay,
                           beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
