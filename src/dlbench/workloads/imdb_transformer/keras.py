"""imdb_transformer in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks).
The example's two layers as it writes them: TokenAndPositionEmbedding (token plus position embeddings) and a post-LN
TransformerBlock around layers.MultiHeadAttention, which runs ops.dot_product_attention: the backend's fused
attention (jax.nn.dot_product_attention, torch's scaled_dot_product_attention; tensorflow has none and Keras writes
softmax(Q K^T) V there). GlobalAveragePooling1D's data_format is pinned to channels_last: its default follows the
image layout, channels_first on keras-torch, which would average over the 32 features instead of the 200 steps."""
import keras
from keras import layers, ops

INIT = dict(kernel_initializer="glorot_uniform", bias_initializer="zeros")
EMBEDDING_INIT = keras.initializers.RandomUniform(-0.05, 0.05)


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate, epsilon, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim, use_bias=True, **INIT)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu", **INIT), layers.Dense(embed_dim, **INIT)])
        self.layernorm1 = layers.LayerNormalization(epsilon=epsilon, gamma_initializer="ones", beta_initializer="zeros")
        self.layernorm2 = layers.LayerNormalization(epsilon=epsilon, gamma_initializer="ones", beta_initializer="zeros")
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=None):
        attn_output = self.att(inputs, inputs)  # self-attention: query and value are the sequence
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim,
                                          embeddings_initializer=EMBEDDING_INIT)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim, embeddings_initializer=EMBEDDING_INIT)

    def call(self, x):
        positions = self.pos_emb(ops.arange(start=0, stop=ops.shape(x)[-1], step=1))
        return self.token_emb(x) + positions


def build(hp):
    inputs = keras.Input(shape=(hp.maxlen,), dtype="int32")
    x = TokenAndPositionEmbedding(hp.maxlen, hp.max_features, hp.embed_dim)(inputs)
    x = TransformerBlock(hp.embed_dim, hp.num_heads, hp.ff_dim, hp.dropout, hp.epsilon_ln)(x)
    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)  # the mean over the 200 steps
    x = layers.Dropout(hp.dropout)(x)
    x = layers.Dense(hp.hidden, activation="relu", **INIT)(x)
    x = layers.Dropout(hp.dropout)(x)
    outputs = layers.Dense(hp.classes, activation="softmax", **INIT)(x)
    model = keras.Model(inputs, outputs, name="imdb_transformer")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                                        epsilon=hp.epsilon, amsgrad=False),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model
