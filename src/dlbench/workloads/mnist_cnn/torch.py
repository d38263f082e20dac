"""mnist_cnn in PyTorch: an nn.Module on NCHW images, logits out (softmax fused into the loss), Keras's Adadelta rule;
it flattens in (C, H, W) order, the NHWC versions in (H, W, C) order (a fixed permutation of dense1's inputs)."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.optim import KerasAdadelta


class MnistCNN(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.conv1 = nn.Conv2d(hp.channels, hp.filters1, hp.kernel, padding="valid")
        self.conv2 = nn.Conv2d(hp.filters1, hp.filters2, hp.kernel, padding="valid")
        self.dense1 = nn.Linear(hp.flat, hp.hidden)
        self.dense2 = nn.Linear(hp.hidden, hp.classes)
        self.dropout1 = nn.Dropout(hp.dropout1)
        self.dropout2 = nn.Dropout(hp.dropout2)
        self.pool = hp.pool
        for layer in (self.conv1, self.conv2, self.dense1, self.dense2):
            nn.init.xavier_uniform_(layer.weight)  # glorot_uniform; a conv's fans include its receptive field
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, self.pool, self.pool)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)  # (C, H, W) order
        x = self.dropout2(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = MnistCNN(hp)
    optimizer = KerasAdadelta(model.parameters(), lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
