"""imdb_bilstm in PyTorch: nn.LSTM(bidirectional=True) (oneDNN's fused LSTM on the CPU, cuDNN on a GPU; its
reverse direction reads the sequence backwards, and h_n[1] is its state after the first step, as Keras's
go_backwards), the logit out (the sigmoid fused into the loss), Keras's Adam rule; both directions' second bias
b_hh is held at zero and frozen (Keras's cell has one bias) and left out of the parameter count."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_embedding, keras_linear, keras_lstm
from dlbench.frameworks.torch.optim import KerasAdam


class ImdbBiLSTM(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.embedding = keras_embedding(hp.max_features, hp.embedding_dim)
        self.lstm = keras_lstm(hp.embedding_dim, hp.units, bidirectional=True)
        self.dropout = nn.Dropout(hp.dropout)
        self.dense = keras_linear(2 * hp.units, 1)

    def forward(self, ids):
        x = self.embedding(ids)
        _, (h, _) = self.lstm(x)  # h: (2, batch, units), forward's last state then backward's
        x = torch.cat([h[0], h[1]], dim=1)  # [forward last, backward last]
        x = self.dropout(x)
        return self.dense(x)[:, 0]  # the logit


def build(hp):
    model = ImdbBiLSTM(hp)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = KerasAdam(trainable, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.binary_cross_entropy_with_logits(logits, labels.float())


def correct(logits, labels):
    return ((logits > 0).int() == labels).sum()
