"""imdb_transformer: the keras.io example "Text classification with Transformer" (Apoorv Nandan, 2020), one
transformer block over a movie review that says whether it is positive.

Data: IMDB in Keras's encoding (dlbench.data.imdb) as imdb_bilstm: the 20,000 most frequent words (ids 20000 and up
become oov 2), each review pre-padded with 0 and pre-truncated to its last 200 ids (pad_sequences(maxlen=200), as
the example): int32 (N, 200); labels int32 0/1.
Model (the example's TokenAndPositionEmbedding and TransformerBlock): token Embedding(20000, 32) plus position
Embedding(200, 32) of positions 0..199 (no masking: the padding id 0 has its own trained vector); one post-LN block:
MultiHeadAttention(2 heads, key_dim 32, biases on, no attention dropout) of the sequence with itself, Dropout 0.1,
add, LayerNormalization(eps 1e-6), Dense 32 relu, Dense 32, Dropout 0.1, add, LayerNormalization(eps 1e-6);
GlobalAveragePooling1D over all 200 positions (padding included), Dropout 0.1, Dense 20 relu, Dropout 0.1, Dense 2
softmax.
657,758 parameters: 20000 * 32 + 200 * 32 (embeddings), 4 * (32 * 64 + 64) - 32 (attention: query, key and value
kernels (32, 2, 32) and biases (2, 32), output kernel (2, 32, 32) and bias 32), 2 * 64 (two LayerNorms),
2 * (32 * 32 + 32) (feed-forward), 32 * 20 + 20 + 20 * 2 + 2 (head).
Attention: softmax(Q K^T / sqrt(32)) V per head, through each framework's fused API: Keras's MultiHeadAttention
(ops.dot_product_attention), PyTorch's F.scaled_dot_product_attention, jax.nn.dot_product_attention; native
TensorFlow writes it out.
Initialisers, Keras's defaults set explicitly in every version: kernels glorot_uniform (an attention kernel's fans
are those of the Dense it is, dim -> heads * key_dim, as Keras 3 draws it), biases zero, embeddings
U(-0.05, 0.05), LayerNorm gamma 1 and beta 0.
Loss: sparse categorical cross-entropy. Keras keeps its softmax layer; the native versions output logits and fuse
the softmax into the loss. Accuracy: the arg max.
Optimizer: Adam with Keras 3's rule (the example's "adam": lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7), the
shared KerasAdam / keras_adam of imdb_bilstm.
As the example in everything but its GlobalAveragePooling1D's data_format, pinned to channels_last (keras.py says
why); it trains 2 epochs of batch 32, as here.
The four versions sit beside this file: keras.py, torch.py, jax.py, tensorflow.py.
"""
from dlbench.workloads import layers
from dlbench.data import imdb
from dlbench.workloads.spec import Hyper, WorkloadSpec

SPEC = WorkloadSpec(
    id="imdb_transformer",
    source='keras.io example "Text classification with Transformer" (2020)',
    dataset="imdb",
    batch_size=32,
    epochs=2,
    params=657758,
    trainable_params=657758,
    hp=Hyper(max_features=20000, maxlen=200, embed_dim=32, num_heads=2, ff_dim=32, hidden=20, classes=2,
             epsilon_ln=1e-6, dropout=0.1, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    metric="accuracy",
    optimizer="adam",
    output="softmax",
    target=0.85,
    reference="~85-88% validation accuracy after 2 epochs on the full IMDB (keras.io example)",
    attention=True,
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights). The names are the native versions' attribute paths: the embedding layer's token_emb
    and pos_emb, the block's att, ffn1, ffn2, layernorm1, layernorm2."""
    steps, d = hp.maxlen, hp.embed_dim
    return [layers.Embedding("embedding.token_emb", hp.max_features, d),
            layers.Embedding("embedding.pos_emb", hp.maxlen, d),
            layers.KerasMultiHeadAttention("block.att", d, hp.num_heads, d, steps),  # key_dim = embed_dim
            layers.TimeDistributed(layers.Dense("block.ffn1", d, hp.ff_dim), steps),
            layers.TimeDistributed(layers.Dense("block.ffn2", hp.ff_dim, d), steps),
            layers.LayerNorm("block.layernorm1", d),
            layers.LayerNorm("block.layernorm2", d),
            layers.GlobalAveragePooling1D(),
            layers.Dense("dense1", d, hp.hidden),
            layers.Dense("dense2", hp.hidden, hp.classes)]


def splits(dataset, layout):
    """Token ids as int32 (N, maxlen) in every layout (there are no image channels): the top max_features words,
    pre-padded and pre-truncated as Keras's pad_sequences; labels int32 0/1."""
    return imdb.encoded_splits(dataset, SPEC.hp.max_features, SPEC.hp.maxlen)
