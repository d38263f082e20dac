"""PyTorch layers initialised as Keras initialises them (WORKLOADS.md: PyTorch's own defaults differ), shared by the
workloads' torch.py files."""
from torch import nn


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
