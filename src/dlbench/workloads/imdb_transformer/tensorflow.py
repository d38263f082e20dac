"""imdb_transformer in native TensorFlow: tf.Modules with their own variables (no Keras): the example's
TokenAndPositionEmbedding and post-LN TransformerBlock, the attention written out as softmax(Q K^T / sqrt(key_dim)) V
(dlbench.frameworks.tensorflow.layers.MultiHeadAttention: variables in Keras's layouts), logits out (the softmax fused into
the loss), Keras's Adam rule written out in dlbench.frameworks.tensorflow.optim."""
import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import Dense, Embedding, LayerNormalization, MultiHeadAttention
from dlbench.frameworks.tensorflow.optim import KerasAdam


class TransformerBlock(tf.Module):
    def __init__(self, embed_dim, num_heads, ff_dim, rate, epsilon, generator):
        super().__init__(name="transformer_block")
        self.att = MultiHeadAttention(embed_dim, num_heads, embed_dim, generator, "att")  # key_dim = embed_dim
        self.ffn1 = Dense(embed_dim, ff_dim, generator, "ffn1")
        self.ffn2 = Dense(ff_dim, embed_dim, generator, "ffn2")
        self.layernorm1 = LayerNormalization(embed_dim, epsilon, "layernorm1")
        self.layernorm2 = LayerNormalization(embed_dim, epsilon, "layernorm2")
        self.rate = rate

    def __call__(self, inputs, training):
        attn_output = self.att(inputs)  # self-attention: query and value are the sequence
        attn_output = tf.nn.dropout(attn_output, self.rate) if training else attn_output
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn2(tf.nn.relu(self.ffn1(out1)))
        ffn_output = tf.nn.dropout(ffn_output, self.rate) if training else ffn_output
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(tf.Module):
    def __init__(self, maxlen, vocab_size, embed_dim, generator):
        super().__init__(name="token_and_position_embedding")
        self.token_emb = Embedding(vocab_size, embed_dim, generator, "token_emb")
        self.pos_emb = Embedding(maxlen, embed_dim, generator, "pos_emb")

    def __call__(self, x):
        positions = self.pos_emb(tf.range(0, tf.shape(x)[-1]))
        return self.token_emb(x) + positions


class ImdbTransformer(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="imdb_transformer")
        self.embedding = TokenAndPositionEmbedding(hp.maxlen, hp.max_features, hp.embed_dim, generator)
        self.block = TransformerBlock(hp.embed_dim, hp.num_heads, hp.ff_dim, hp.dropout, hp.epsilon_ln, generator)
        self.rate = hp.dropout
        self.dense1 = Dense(hp.embed_dim, hp.hidden, generator, "dense1")
        self.dense2 = Dense(hp.hidden, hp.classes, generator, "dense2")

    def __call__(self, ids, training):
        x = self.embedding(ids)
        x = self.block(x, training)
        x = tf.reduce_mean(x, axis=1)  # GlobalAveragePooling1D: the mean over the 200 steps, padding included
        x = tf.nn.dropout(x, self.rate) if training else x
        x = tf.nn.relu(self.dense1(x))
        x = tf.nn.dropout(x, self.rate) if training else x
        return self.dense2(x)  # logits


def build(hp, generator):
    model = ImdbTransformer(hp, generator)
    optimizer = KerasAdam(model.trainable_variables, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=labels.dtype), labels), tf.float32))
