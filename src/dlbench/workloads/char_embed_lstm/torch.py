"""char_embed_lstm in PyTorch: nn.Embedding, nn.LSTM (oneDNN's fused LSTM on the CPU, cuDNN on a GPU; b_hh a frozen
zero, not counted), BatchNorm as Keras's (KerasBatchNorm1d: nn.BatchNorm1d with Keras's momentum and epsilon, its
running variance moved by the biased batch variance); logits out of both heads (softmax fused into the loss); Keras's
Adam rule with Keras 2's per-step decay as a LambdaLR stepped after every batch."""
import torch
import torch.nn.functional as F
from torch import nn

from dlbench.frameworks.torch.layers import keras_embedding, keras_linear, keras_lstm
from dlbench.frameworks.torch.optim import KerasAdam, inverse_time_decay
from dlbench.workloads.char_embed_lstm import SPEC

WEIGHTS = (SPEC.hp.main_weight, SPEC.hp.aux_weight)  # the loss weights of (main, aux): 1.0, 0.2


class KerasBatchNorm1d(nn.BatchNorm1d):
    """nn.BatchNorm1d (the same parameters and buffers: weight, bias, running_mean, running_var) with Keras's moving
    statistics: training normalises by the batch's mean and biased variance, as nn.BatchNorm1d does, but moves
    running_var with that biased variance too (moving = momentum * moving + (1 - momentum) * batch, Keras's momentum
    0.99), where nn.BatchNorm1d moves it with the unbiased one (times n / (n - 1): 1.008 at batch 128), a difference
    that only inference would see. Inference (eval) is nn.BatchNorm1d's."""

    def __init__(self, units, momentum, eps):
        super().__init__(units, eps=eps, momentum=1.0 - momentum)  # torch's momentum is the new statistic's share

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        with torch.no_grad():
            variance, mean = torch.var_mean(x.float(), dim=0, correction=0)  # float32 statistics under autocast
            self.running_mean.lerp_(mean, self.momentum)  # running + momentum * (batch - running)
            self.running_var.lerp_(variance, self.momentum)
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


class CharEmbedLSTM(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.embedding = keras_embedding(hp.symbols, hp.embedding)
        self.lstm = keras_lstm(hp.embedding, hp.units)
        self.aux = keras_linear(hp.units, hp.symbols)
        self.dense1 = keras_linear(hp.units, hp.hidden1, bias=False)
        self.norm1 = KerasBatchNorm1d(hp.hidden1, hp.bn_momentum, hp.bn_epsilon)
        self.dense2 = keras_linear(hp.hidden1, hp.hidden2, bias=False)
        self.norm2 = KerasBatchNorm1d(hp.hidden2, hp.bn_momentum, hp.bn_epsilon)
        self.main = keras_linear(hp.hidden2, hp.symbols)

    def forward(self, ids):
        _, (h, _) = self.lstm(self.embedding(ids.long()))
        h = h[0]  # the last hidden state
        x = F.relu(self.norm1(self.dense1(h)))
        x = F.relu(self.norm2(self.dense2(x)))
        return self.main(x), self.aux(h)  # logits of (main, aux)


def build(hp):
    model = CharEmbedLSTM(hp)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = KerasAdam(trainable, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer, inverse_time_decay(optimizer, hp.decay)


def loss_fn(outputs, main_labels, aux_labels):
    main, aux = outputs
    return WEIGHTS[0] * F.cross_entropy(main, main_labels.long()) + WEIGHTS[1] * F.cross_entropy(aux, aux_labels.long())


def correct(outputs, main_labels, aux_labels):
    return (outputs[0].argmax(dim=1) == main_labels).sum()


def probabilities(outputs):
    return F.softmax(outputs[0], dim=1)
