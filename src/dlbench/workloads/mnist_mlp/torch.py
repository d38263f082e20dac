"""mnist_mlp in PyTorch: an nn.Module, logits out (softmax fused into the loss), Keras's RMSprop rule."""
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.optim import KerasRMSprop


class MnistMLP(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.dense1 = nn.Linear(hp.inputs, hp.hidden)
        self.dense2 = nn.Linear(hp.hidden, hp.hidden)
        self.dense3 = nn.Linear(hp.hidden, hp.classes)
        self.dropout = nn.Dropout(hp.dropout)
        for dense in (self.dense1, self.dense2, self.dense3):
            nn.init.xavier_uniform_(dense.weight)  # glorot_uniform
            nn.init.zeros_(dense.bias)

    def forward(self, x):
        x = self.dropout(F.relu(self.dense1(x)))
        x = self.dropout(F.relu(self.dense2(x)))
        return self.dense3(x)  # logits


def build(hp):
    model = MnistMLP(hp)
    optimizer = KerasRMSprop(model.parameters(), lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
