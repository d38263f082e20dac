"""cifar10_vgg in PyTorch: an nn.Module on channels-first (NCHW) images, logits out (softmax fused into the loss),
torch.optim.SGD with plain momentum (Keras's rule for a constant lr). relu after each pool, as the spec and the
benchmark's own PyTorch version. Flatten is in (C, H, W) order."""
import torch
import torch.nn.functional as F
from torch import nn


class Cifar10VGG(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.conv1 = nn.Conv2d(hp.channels, hp.filters1, hp.kernel, padding="same")
        self.conv2 = nn.Conv2d(hp.filters1, hp.filters1, hp.kernel, padding="same")
        self.conv3 = nn.Conv2d(hp.filters1, hp.filters2, hp.kernel, padding="same")
        self.conv4 = nn.Conv2d(hp.filters2, hp.filters2, hp.kernel, padding="same")
        self.dense1 = nn.Linear(hp.flat, hp.hidden)
        self.dense2 = nn.Linear(hp.hidden, hp.classes)
        self.conv_dropout = nn.Dropout(hp.conv_dropout)
        self.dense_dropout = nn.Dropout(hp.dense_dropout)
        self.pool = hp.pool
        for layer in (self.conv1, self.conv2, self.conv3, self.conv4, self.dense1, self.dense2):
            nn.init.xavier_uniform_(layer.weight)  # glorot_uniform; a conv weight's fans include the 3x3 field
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(F.max_pool2d(self.conv2(x), self.pool, self.pool))
        x = self.conv_dropout(x)
        x = F.relu(self.conv3(x))
        x = F.relu(F.max_pool2d(self.conv4(x), self.pool, self.pool))
        x = self.conv_dropout(x)
        x = torch.flatten(x, 1)  # (C, H, W) order
        x = self.dense_dropout(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = Cifar10VGG(hp)
    optimizer = torch.optim.SGD(model.parameters(), lr=hp.learning_rate, momentum=hp.momentum, dampening=0.0,
                                nesterov=False, weight_decay=0.0)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
