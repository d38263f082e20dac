"""imdb_transformer in JAX with Flax NNX and optax: the example's TokenAndPositionEmbedding and post-LN
TransformerBlock as nnx.Modules, the attention's heads through jax.nn.dot_product_attention
(dlbench.frameworks.jax.layers.KerasMultiHeadAttention: nnx.LinearGeneral kernels in Keras's layouts), logits out
(the softmax fused into the loss), Keras's Adam rule (dlbench.frameworks.jax.optim.keras_adam)."""
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.frameworks.jax.layers import KerasMultiHeadAttention, keras_embedding, keras_layer_norm, keras_linear
from dlbench.frameworks.jax.optim import keras_adam


class TransformerBlock(nnx.Module):
    def __init__(self, embed_dim, num_heads, ff_dim, rate, epsilon, rngs):
        self.att = KerasMultiHeadAttention(embed_dim, num_heads, embed_dim, rngs)  # key_dim = embed_dim
        self.ffn1 = keras_linear(embed_dim, ff_dim, rngs)
        self.ffn2 = keras_linear(ff_dim, embed_dim, rngs)
        self.layernorm1 = keras_layer_norm(embed_dim, epsilon, rngs)
        self.layernorm2 = keras_layer_norm(embed_dim, epsilon, rngs)
        self.dropout1 = nnx.Dropout(rate, rngs=rngs)
        self.dropout2 = nnx.Dropout(rate, rngs=rngs)

    def __call__(self, inputs):
        attn_output = self.att(inputs)  # self-attention: query and value are the sequence
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn2(nnx.relu(self.ffn1(out1)))
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(nnx.Module):
    def __init__(self, maxlen, vocab_size, embed_dim, rngs):
        self.token_emb = keras_embedding(vocab_size, embed_dim, rngs)
        self.pos_emb = keras_embedding(maxlen, embed_dim, rngs)

    def __call__(self, x):
        positions = self.pos_emb(jnp.arange(0, x.shape[-1]))
        return self.token_emb(x) + positions


class ImdbTransformer(nnx.Module):
    def __init__(self, hp, rngs):
        self.embedding = TokenAndPositionEmbedding(hp.maxlen, hp.max_features, hp.embed_dim, rngs)
        self.block = TransformerBlock(hp.embed_dim, hp.num_heads, hp.ff_dim, hp.dropout, hp.epsilon_ln, rngs)
        self.dropout = nnx.Dropout(hp.dropout, rngs=rngs)
        self.dense1 = keras_linear(hp.embed_dim, hp.hidden, rngs)
        self.dense2 = keras_linear(hp.hidden, hp.classes, rngs)

    def __call__(self, ids):
        x = self.embedding(ids)
        x = self.block(x)
        x = x.mean(axis=1)  # GlobalAveragePooling1D: the mean over the 200 steps, padding included
        x = self.dropout(x)
        x = self.dropout(nnx.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp, rngs):
    model = ImdbTransformer(hp, rngs)
    optimizer = keras_adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def correct(logits, labels):
    return (jnp.argmax(logits, axis=1) == labels).sum()
