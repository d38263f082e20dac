"""mnist_hrnn in PyTorch: nn.LSTM (oneDNN's fused LSTM on the CPU, cuDNN on a GPU), logits out (softmax fused into the
loss), Keras's RMSprop rule; nn.LSTM's second bias b_hh is held at zero and frozen (Keras's cell has one bias) and
named in `structural_zeros`, which the torch adapter leaves out of the parameter count."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch_optim import KerasRMSprop


def keras_lstm(units_in, units):
    """nn.LSTM initialised as Keras's LSTM: glorot_uniform and orthogonal over the four gates together (gate order
    i, f, g, o), bias zero with the forget gate's at 1, b_hh a frozen zero."""
    lstm = nn.LSTM(units_in, units, batch_first=True)
    nn.init.xavier_uniform_(lstm.weight_ih_l0)  # glorot_uniform: (4 * units, in) has Keras's (in, 4 * units) fans
    nn.init.orthogonal_(lstm.weight_hh_l0)  # the transpose of an orthogonal (units, 4 * units), as Keras draws it
    nn.init.zeros_(lstm.bias_ih_l0)
    nn.init.ones_(lstm.bias_ih_l0[units:2 * units])  # unit_forget_bias
    nn.init.zeros_(lstm.bias_hh_l0)
    lstm.bias_hh_l0.requires_grad_(False)
    return lstm


class MnistHRNN(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.row_lstm = keras_lstm(hp.pixels, hp.row_hidden)
        self.col_lstm = keras_lstm(hp.row_hidden, hp.col_hidden)
        self.dense = nn.Linear(hp.col_hidden, hp.classes)
        nn.init.xavier_uniform_(self.dense.weight)  # glorot_uniform
        nn.init.zeros_(self.dense.bias)
        # Parameters that nn.LSTM has and the spec's model does not: frozen zeros, not counted (torch_adapter).
        self.structural_zeros = ("row_lstm.bias_hh_l0", "col_lstm.bias_hh_l0")

    def forward(self, x):
        batch, rows, cols, pixels = x.shape
        _, (row_h, _) = self.row_lstm(x.reshape(batch * rows, cols, pixels))  # every row of the batch at once
        _, (col_h, _) = self.col_lstm(row_h[0].reshape(batch, rows, -1))  # the sequence of row encodings
        return self.dense(col_h[0])  # logits


def build(hp):
    model = MnistHRNN(hp)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = KerasRMSprop(trainable, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
