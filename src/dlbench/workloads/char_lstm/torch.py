"""char_lstm in PyTorch: nn.LSTM (oneDNN's fused LSTM on the CPU, cuDNN on a GPU), logits out (softmax fused into the
loss), Keras's RMSprop rule; nn.LSTM's second bias b_hh is held at zero and frozen (Keras's cell has one bias) and
marked a structural zero by dlbench.frameworks.torch.layers, which the torch adapter leaves out of the count."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_linear, keras_lstm
from dlbench.frameworks.torch.optim import KerasRMSprop


class CharLSTM(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.lstm = keras_lstm(hp.symbols, hp.units)
        self.dense = keras_linear(hp.units, hp.symbols)

    def forward(self, x):
        _, (h, _) = self.lstm(x)  # the last hidden state
        return self.dense(h[0])  # logits


def build(hp):
    model = CharLSTM(hp)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = KerasRMSprop(trainable, lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()


def probabilities(logits):
    return F.softmax(logits, dim=1)
