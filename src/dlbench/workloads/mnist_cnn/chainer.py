"""mnist_cnn in Chainer: a chainer.Chain on NCHW images, logits out (softmax fused into the loss), Keras's Adadelta
rule: chainer.optimizers.AdaDelta is it for the spec's lr 1.0 (w -= sqrt((b + eps) / (a + eps)) g, epsilon inside
both roots; Chainer has no lr, so build checks that the spec's is 1). It flattens in (C, H, W) order, the NHWC
versions in (H, W, C) order (a fixed permutation of dense1's inputs)."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import initializers

INIT = dict(initialW=initializers.GlorotUniform(), initial_bias=initializers.Zero())  # fans include the 3x3 field


class MnistCNN(chainer.Chain):
    def __init__(self, hp):
        super(MnistCNN, self).__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(hp.channels, hp.filters1, hp.kernel, pad=0, **INIT)  # padding valid
            self.conv2 = L.Convolution2D(hp.filters1, hp.filters2, hp.kernel, pad=0, **INIT)
            self.dense1 = L.Linear(hp.flat, hp.hidden, **INIT)
            self.dense2 = L.Linear(hp.hidden, hp.classes, **INIT)
        self.dropout1, self.dropout2, self.pool = hp.dropout1, hp.dropout2, hp.pool

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pooling_2d(x, self.pool, self.pool, cover_all=False)  # Keras's valid pooling
        x = F.dropout(x, self.dropout1)
        x = F.reshape(x, (len(x), -1))  # (C, H, W) order
        x = F.dropout(F.relu(self.dense1(x)), self.dropout2)
        return self.dense2(x)  # logits


def build(hp):
    if hp.learning_rate != 1.0:
        raise ValueError("chainer.optimizers.AdaDelta has no learning rate: it is Keras's rule for lr 1.0 only")
    model = MnistCNN(hp)
    optimizer = chainer.optimizers.AdaDelta(rho=hp.rho, eps=hp.epsilon)
    optimizer.setup(model)
    return model, optimizer


def loss_fn(logits, labels):
    return F.softmax_cross_entropy(logits, labels.astype(np.int32))


def correct(logits, labels):
    return int((logits.array.argmax(axis=1) == labels).sum())
