"""cifar10_vit in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). The
example's model as it writes it: Normalization and Resizing, its Patches layer (ops.image.extract_patches) and
PatchEncoder, eight pre-LN blocks of layers.MultiHeadAttention (with its attention dropout Keras computes
softmax(Q K^T) V itself; without it, as in inference, ops.dot_product_attention: the backend's fused call), an MLP
head on the flattened patches. Every layer that has a data_format is pinned to channels_last: the images are
channels last on every backend (keras-torch's default layout is channels_first). The Normalization is given the
training set's statistics (hp.norm_mean, hp.norm_variance, from splits()) as its adapted state, the weights adapt()
sets, so that it counts its 7 non-trainable values as the example's does."""
import keras
from keras import layers, ops

INIT = dict(kernel_initializer="glorot_uniform", bias_initializer="zeros")


class Patches(layers.Layer):
    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size

    def call(self, images):
        batch_size, height, width, channels = ops.shape(images)
        num_patches_h, num_patches_w = height // self.patch_size, width // self.patch_size
        patches = ops.image.extract_patches(images, size=self.patch_size, data_format="channels_last")
        return ops.reshape(patches, (batch_size, num_patches_h * num_patches_w,
                                     self.patch_size * self.patch_size * channels))


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim, **INIT)
        self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim,
                                                   embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))

    def call(self, patch):
        positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
        return self.projection(patch) + self.position_embedding(positions)


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=keras.activations.gelu, **INIT)(x)  # exact (erf) GELU, the default
        x = layers.Dropout(dropout_rate)(x)
    return x


def layer_norm(epsilon):
    return layers.LayerNormalization(epsilon=epsilon, gamma_initializer="ones", beta_initializer="zeros")


def adapted_normalization(hp):
    """Normalization() in the state adapt(x_train) leaves it: its mean and variance weights hold the training set's
    statistics (count stays 0, as adapt leaves it)."""
    normalization = layers.Normalization(axis=-1)
    normalization.build((None, hp.height, hp.width, hp.channels))
    normalization.adapt_mean.assign(ops.convert_to_tensor(hp.norm_mean, dtype="float32"))
    normalization.adapt_variance.assign(ops.convert_to_tensor(hp.norm_variance, dtype="float32"))
    normalization.finalize_state()
    return normalization


def build(hp):
    num_patches = (hp.image_size // hp.patch_size) ** 2
    inputs = keras.Input(shape=(hp.height, hp.width, hp.channels))
    x = adapted_normalization(hp)(inputs)
    x = layers.Resizing(hp.image_size, hp.image_size, interpolation="bilinear", antialias=False,
                        data_format="channels_last")(x)
    patches = Patches(hp.patch_size)(x)
    encoded_patches = PatchEncoder(num_patches, hp.projection_dim)(patches)
    for _ in range(hp.transformer_layers):
        x1 = layer_norm(hp.epsilon_ln)(encoded_patches)
        attention_output = layers.MultiHeadAttention(num_heads=hp.num_heads, key_dim=hp.projection_dim,
                                                     dropout=hp.attention_dropout, **INIT)(x1, x1)
        x2 = layers.Add()([attention_output, encoded_patches])
        x3 = layer_norm(hp.epsilon_ln)(x2)
        x3 = mlp(x3, hidden_units=hp.transformer_units, dropout_rate=hp.dropout)
        encoded_patches = layers.Add()([x3, x2])
    representation = layer_norm(hp.epsilon_ln)(encoded_patches)
    representation = layers.Flatten(data_format="channels_last")(representation)
    representation = layers.Dropout(hp.head_dropout)(representation)
    features = mlp(representation, hidden_units=hp.mlp_head_units, dropout_rate=hp.head_dropout)
    logits = layers.Dense(hp.classes, **INIT)(features)
    model = keras.Model(inputs=inputs, outputs=logits, name="cifar10_vit")
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=hp.learning_rate, weight_decay=hp.weight_decay,
                                         beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon, amsgrad=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
