"""mnist_hrnn in PyTorch: nn.LSTM (oneDNN's fused LSTM on the CPU, cuDNN on a GPU), logits out (softmax fused into the
loss), Keras's RMSprop rule; nn.LSTM's second bias b_hh is held at zero and frozen (Keras's cell has one bias) and
left out of the parameter count (frameworks/torch/layers.keras_lstm)."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_linear, keras_lstm
from dlbench.frameworks.torch.optim import KerasRMSprop


class MnistHRNN(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.row_lstm = keras_lstm(hp.pixels, hp.row_hidden)
        self.col_lstm = keras_lstm(hp.row_hidden, hp.col_hidden)
        self.dense = keras_linear(hp.col_hidden, hp.classes)

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
