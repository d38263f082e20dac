"""imdb_transformer in PyTorch: the example's TokenAndPositionEmbedding and post-LN TransformerBlock as nn.Modules,
the attention's heads through F.scaled_dot_product_attention (dlbench.frameworks.torch.layers
.KerasMultiHeadAttention: query, key and value Linears in Keras's layout up to a reshape), logits out (the softmax
fused into the loss), Keras's Adam rule."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import KerasMultiHeadAttention, keras_embedding, keras_layer_norm, keras_linear
from dlbench.frameworks.torch.optim import KerasAdam


class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, ff_dim, rate, epsilon):
        super().__init__()
        self.att = KerasMultiHeadAttention(embed_dim, num_heads, key_dim=embed_dim)
        self.ffn1 = keras_linear(embed_dim, ff_dim)
        self.ffn2 = keras_linear(ff_dim, embed_dim)
        self.layernorm1 = keras_layer_norm(embed_dim, epsilon)
        self.layernorm2 = keras_layer_norm(embed_dim, epsilon)
        self.dropout1 = nn.Dropout(rate)
        self.dropout2 = nn.Dropout(rate)

    def forward(self, inputs):
        attn_output = self.att(inputs)  # self-attention: query and value are the sequence
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn2(F.relu(self.ffn1(out1)))
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(nn.Module):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = keras_embedding(vocab_size, embed_dim)
        self.pos_emb = keras_embedding(maxlen, embed_dim)

    def forward(self, x):
        positions = self.pos_emb(torch.arange(0, x.shape[-1], device=x.device))
        return self.token_emb(x) + positions


class ImdbTransformer(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.embedding = TokenAndPositionEmbedding(hp.maxlen, hp.max_features, hp.embed_dim)
        self.block = TransformerBlock(hp.embed_dim, hp.num_heads, hp.ff_dim, hp.dropout, hp.epsilon_ln)
        self.dropout = nn.Dropout(hp.dropout)
        self.dense1 = keras_linear(hp.embed_dim, hp.hidden)
        self.dense2 = keras_linear(hp.hidden, hp.classes)

    def forward(self, ids):
        x = self.embedding(ids)
        x = self.block(x)
        x = x.mean(dim=1)  # GlobalAveragePooling1D: the mean over the 200 steps, padding included
        x = self.dropout(x)
        x = self.dropout(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = ImdbTransformer(hp)
    optimizer = KerasAdam(model.parameters(), lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
