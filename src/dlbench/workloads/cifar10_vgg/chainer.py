"""cifar10_vgg in Chainer: a chainer.Chain on channels-first (NCHW) images, logits out (softmax fused into the loss),
chainer.optimizers.MomentumSGD (v <- momentum v - lr g; w <- w + v: Keras's rule exactly). relu after each pool, as
the spec and the benchmark's own PyTorch version. Flatten is in (C, H, W) order."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import initializers

INIT = dict(initialW=initializers.GlorotUniform(), initial_bias=initializers.Zero())  # fans include the 3x3 field


class Cifar10VGG(chainer.Chain):
    def __init__(self, hp):
        super(Cifar10VGG, self).__init__()
        same = hp.kernel // 2  # padding same for a 3x3 kernel, stride 1
        with self.init_scope():
            self.conv1 = L.Convolution2D(hp.channels, hp.filters1, hp.kernel, pad=same, **INIT)
            self.conv2 = L.Convolution2D(hp.filters1, hp.filters1, hp.kernel, pad=same, **INIT)
            self.conv3 = L.Convolution2D(hp.filters1, hp.filters2, hp.kernel, pad=same, **INIT)
            self.conv4 = L.Convolution2D(hp.filters2, hp.filters2, hp.kernel, pad=same, **INIT)
            self.dense1 = L.Linear(hp.flat, hp.hidden, **INIT)
            self.dense2 = L.Linear(hp.hidden, hp.classes, **INIT)
        self.conv_dropout, self.dense_dropout, self.pool = hp.conv_dropout, hp.dense_dropout, hp.pool

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(F.max_pooling_2d(self.conv2(x), self.pool, self.pool, cover_all=False))
        x = F.dropout(x, self.conv_dropout)
        x = F.relu(self.conv3(x))
        x = F.relu(F.max_pooling_2d(self.conv4(x), self.pool, self.pool, cover_all=False))
        x = F.dropout(x, self.conv_dropout)
        x = F.reshape(x, (len(x), -1))  # (C, H, W) order
        x = F.dropout(F.relu(self.dense1(x)), self.dense_dropout)
        return self.dense2(x)  # logits


def build(hp):
    model = Cifar10VGG(hp)
    optimizer = chainer.optimizers.MomentumSGD(lr=hp.learning_rate, momentum=hp.momentum)
    optimizer.setup(model)
    return model, optimizer


def loss_fn(logits, labels):
    return F.softmax_cross_entropy(logits, labels.astype(np.int32))


def correct(logits, labels):
    return int((logits.array.argmax(axis=1) == labels).sum())
