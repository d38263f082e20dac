"""mnist_mlp in Chainer: a chainer.Chain of L.Linear links, logits out (softmax fused into the loss), Keras's RMSprop
rule: chainer.optimizers.RMSprop with eps_inside_sqrt=True is it exactly (its default puts epsilon outside)."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import initializers

INIT = dict(initialW=initializers.GlorotUniform(), initial_bias=initializers.Zero())  # glorot_uniform, zeros


class MnistMLP(chainer.Chain):
    def __init__(self, hp):
        super(MnistMLP, self).__init__()
        with self.init_scope():
            self.dense1 = L.Linear(hp.inputs, hp.hidden, **INIT)
            self.dense2 = L.Linear(hp.hidden, hp.hidden, **INIT)
            self.dense3 = L.Linear(hp.hidden, hp.classes, **INIT)
        self.dropout = hp.dropout

    def forward(self, x):
        x = F.dropout(F.relu(self.dense1(x)), self.dropout)  # dropout acts only under chainer.config.train
        x = F.dropout(F.relu(self.dense2(x)), self.dropout)
        return self.dense3(x)  # logits


def build(hp):
    model = MnistMLP(hp)
    optimizer = chainer.optimizers.RMSprop(lr=hp.learning_rate, alpha=hp.rho, eps=hp.epsilon, eps_inside_sqrt=True)
    optimizer.setup(model)
    return model, optimizer


def loss_fn(logits, labels):
    return F.softmax_cross_entropy(logits, labels.astype(np.int32))  # the batch mean


def correct(logits, labels):
    return int((logits.array.argmax(axis=1) == labels).sum())
