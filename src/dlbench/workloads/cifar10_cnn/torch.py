"""cifar10_cnn in PyTorch: an nn.Module on channels-first (NCHW) images, logits out (softmax fused into the loss),
Keras's RMSprop rule, Keras 2's decay as a LambdaLR stepped every batch. Flatten is in (C, H, W) order."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.optim import KerasRMSprop


class Cifar10CNN(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.conv1 = nn.Conv2d(hp.channels, hp.filters1, hp.kernel, padding="same")
        self.conv2 = nn.Conv2d(hp.filters1, hp.filters1, hp.kernel, padding="valid")
        self.conv3 = nn.Conv2d(hp.filters1, hp.filters2, hp.kernel, padding="same")
        self.conv4 = nn.Conv2d(hp.filters2, hp.filters2, hp.kernel, padding="valid")
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
        x = F.relu(self.conv2(x))
        x = self.conv_dropout(F.max_pool2d(x, self.pool, self.pool))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = self.conv_dropout(F.max_pool2d(x, self.pool, self.pool))
        x = torch.flatten(x, 1)  # (C, H, W) order
        x = self.dense_dropout(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = Cifar10CNN(hp)
    optimizer = KerasRMSprop(model.parameters(), lr=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    # Keras 2's decay: lr / (1 + decay * t), t the batches trained so far; the trainer steps it after every batch.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1.0 + hp.decay * step))
    return model, optimizer, schedule


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.long())


def correct(logits, labels):
    return (logits.argmax(dim=1) == labels).sum()
