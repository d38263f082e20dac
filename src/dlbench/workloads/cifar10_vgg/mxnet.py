"""cifar10_vgg in MXNet Gluon: a HybridBlock on channels-first (NCHW) images, logits out (softmax fused into the loss),
Gluon's SGD with plain momentum (Keras's rule: v <- m v - lr g; w <- w + v). relu after each pool, as the spec and the
benchmark's own versions. Flatten is in (C, H, W) order."""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn

GLOROT = mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)  # a conv's fans include its 3x3 field


class Cifar10VGG(nn.HybridBlock):
    def __init__(self, hp):
        super(Cifar10VGG, self).__init__()
        same = hp.kernel // 2  # "same" padding for a 3x3 kernel at stride 1

        def conv(channels_in, channels):
            return nn.Conv2D(channels, hp.kernel, padding=same, in_channels=channels_in, layout="NCHW",
                             weight_initializer=GLOROT, bias_initializer="zeros")
        with self.name_scope():
            self.conv1 = conv(hp.channels, hp.filters1)
            self.conv2 = conv(hp.filters1, hp.filters1)
            self.conv3 = conv(hp.filters1, hp.filters2)
            self.conv4 = conv(hp.filters2, hp.filters2)
            self.dense1 = nn.Dense(hp.hidden, in_units=hp.flat, weight_initializer=GLOROT, bias_initializer="zeros")
            self.dense2 = nn.Dense(hp.classes, in_units=hp.hidden, weight_initializer=GLOROT,
                                   bias_initializer="zeros")
            self.conv_dropout = nn.Dropout(hp.conv_dropout)
            self.dense_dropout = nn.Dropout(hp.dense_dropout)
            self.pool = nn.MaxPool2D(pool_size=hp.pool, strides=hp.pool, layout="NCHW")

    def hybrid_forward(self, F, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.pool(self.conv2(x)))
        x = self.conv_dropout(x)
        x = F.relu(self.conv3(x))
        x = F.relu(self.pool(self.conv4(x)))
        x = self.conv_dropout(x)
        x = F.flatten(x)  # (C, H, W) order
        x = self.dense_dropout(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = Cifar10VGG(hp)
    optimizer = mx.optimizer.SGD(learning_rate=hp.learning_rate, momentum=hp.momentum, wd=0.0)
    return model, optimizer


LOSS = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=True, from_logits=False)


def loss_fn(logits, labels):
    return LOSS(logits, labels)  # per sample


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("float32")).sum()
