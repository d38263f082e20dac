"""PyTorch layers initialised as Keras initialises them (WORKLOADS.md: PyTorch's own defaults differ), shared by the
workloads' torch.py files."""
import torch
from torch import nn
from torch.nn import functional as F


def keras_linear(n_in, n_out, bias=True):
    linear = nn.Linear(n_in, n_out, bias=bias)
    nn.init.xavier_uniform_(linear.weight)  # glorot_uniform: (out, in) has Keras's (in, out) fans
    if bias:
        nn.init.zeros_(linear.bias)
    return linear


def keras_embedding(num, dim):
    embedding = nn.Embedding(num, dim)
    nn.init.uniform_(embedding.weight, -0.05, 0.05)
    return embedding


def keras_lstm(units_in, units, bidirectional=False):
    """nn.LSTM (batch first) initialised as Keras's LSTM: glorot_uniform and orthogonal over the four gates together
    (gate order i, f, g, o: Keras's i, f, c, o), bias zero with the forget gate's at 1. nn.LSTM has a second bias
    b_hh that Keras's cell lacks: it is held at zero, frozen, and marked `structural_zero` so that the torch adapter
    leaves it out of the parameter count."""
    lstm = nn.LSTM(units_in, units, batch_first=True, bidirectional=bidirectional)
    for suffix in ("_l0", "_l0_reverse") if bidirectional else ("_l0",):
        nn.init.xavier_uniform_(getattr(lstm, "weight_ih" + suffix))
        nn.init.orthogonal_(getattr(lstm, "weight_hh" + suffix))  # the transpose of Keras's (units, 4 * units) draw
        bias = getattr(lstm, "bias_ih" + suffix)
        nn.init.zeros_(bias)
        nn.init.ones_(bias[units:2 * units])  # unit_forget_bias
        frozen = getattr(lstm, "bias_hh" + suffix)
        nn.init.zeros_(frozen)
        frozen.requires_grad_(False)
        frozen.structural_zero = True
    return lstm


def keras_layer_norm(units, eps):
    """nn.LayerNorm as Keras's LayerNormalization over the last axis: gamma 1, beta 0 (PyTorch's defaults too)."""
    norm = nn.LayerNorm(units, eps=eps)
    nn.init.ones_(norm.weight)
    nn.init.zeros_(norm.bias)
    return norm


class KerasMultiHeadAttention(nn.Module):
    """Keras's MultiHeadAttention(num_heads, key_dim) as self-attention: query, key and value Linear(dim -> heads *
    key_dim) and an output Linear(heads * key_dim -> dim), biases on, glorot_uniform over each Linear's fans (as
    Keras 3 draws its (dim, heads, key_dim) kernels), dropout on the attention weights in training; the heads
    through F.scaled_dot_product_attention (scale 1/sqrt(key_dim), its default), which picks the kernel: flash or
    memory-efficient on a GPU, a fused flash kernel or the math path on the CPU."""

    def __init__(self, dim, num_heads, key_dim, dropout=0.0):
        super().__init__()
        self.num_heads, self.key_dim, self.dropout = num_heads, key_dim, dropout
        self.query = keras_linear(dim, num_heads * key_dim)
        self.key = keras_linear(dim, num_heads * key_dim)
        self.value = keras_linear(dim, num_heads * key_dim)
        self.attention_output = keras_linear(num_heads * key_dim, dim)

    def heads(self, x):
        batch, steps, _ = x.shape
        return x.view(batch, steps, self.num_heads, self.key_dim).transpose(1, 2)  # (batch, heads, steps, key_dim)

    def forward(self, x):
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        batch, _, steps, _ = out.shape
        return self.attention_output(out.transpose(1, 2).reshape(batch, steps, self.num_heads * self.key_dim))


class KerasNormalization(nn.Module):
    """Keras's Normalization over the last axis after adapt(): (x - mean) / max(sqrt(variance), 1e-7), its mean,
    variance and count (0, kept by Keras for old saved models) buffers: state, not trained, counted as Keras counts
    them."""

    def __init__(self, mean, variance):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("variance", torch.tensor(variance, dtype=torch.float32))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        return (x - self.mean) / torch.clamp(torch.sqrt(self.variance), min=1e-7)
