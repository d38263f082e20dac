"""mnist_cnn in MXNet Gluon: a HybridBlock on NCHW images, logits out (softmax fused into the loss), Keras's Adadelta
rule (dlbench.frameworks.legacy.mxnet.optim.KerasAdadelta: Gluon's AdaDelta has no learning rate); it flattens in (C, H, W)
order, the NHWC versions in (H, W, C) order (a fixed permutation of dense1's inputs)."""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn

from dlbench.frameworks.legacy.mxnet.optim import KerasAdadelta

GLOROT = mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)  # a conv's fans include its 3x3 field


class MnistCNN(nn.HybridBlock):
    def __init__(self, hp):
        super(MnistCNN, self).__init__()
        with self.name_scope():
            self.conv1 = nn.Conv2D(hp.filters1, hp.kernel, padding=0, in_channels=hp.channels, layout="NCHW",
                                   weight_initializer=GLOROT, bias_initializer="zeros")
            self.conv2 = nn.Conv2D(hp.filters2, hp.kernel, padding=0, in_channels=hp.filters1, layout="NCHW",
                                   weight_initializer=GLOROT, bias_initializer="zeros")
            self.dense1 = nn.Dense(hp.hidden, in_units=hp.flat, weight_initializer=GLOROT, bias_initializer="zeros")
            self.dense2 = nn.Dense(hp.classes, in_units=hp.hidden, weight_initializer=GLOROT,
                                   bias_initializer="zeros")
            self.dropout1 = nn.Dropout(hp.dropout1)
            self.dropout2 = nn.Dropout(hp.dropout2)
            self.pool = nn.MaxPool2D(pool_size=hp.pool, strides=hp.pool, layout="NCHW")

    def hybrid_forward(self, F, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(x)
        x = self.dropout1(x)
        x = F.flatten(x)  # (C, H, W) order
        x = self.dropout2(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = MnistCNN(hp)
    optimizer = KerasAdadelta(learning_rate=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon)
    return model, optimizer


LOSS = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=True, from_logits=False)


def loss_fn(logits, labels):
    return LOSS(logits, labels)  # per sample


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("float32")).sum()
