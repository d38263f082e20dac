"""cifar10_vgg in PaddlePaddle: a paddle.nn.Layer on channels-first (NCHW) images, logits out (softmax fused into the
loss), paddle.optimizer.Momentum with plain momentum (v <- mu v + g; w <- w - lr v: Keras's rule for a constant lr).
relu after each pool, as the spec and the benchmark's own PyTorch version. Flatten is in (C, H, W) order."""
import paddle
import paddle.nn.functional as F
from paddle import nn


def glorot():
    """glorot_uniform kernel, zero bias: new attributes for each layer (fans include the 3x3 field)."""
    return dict(weight_attr=paddle.ParamAttr(initializer=nn.initializer.XavierUniform()),
                bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)))


class Cifar10VGG(nn.Layer):
    def __init__(self, hp):
        super(Cifar10VGG, self).__init__()
        self.conv1 = nn.Conv2D(hp.channels, hp.filters1, hp.kernel, padding="SAME", **glorot())
        self.conv2 = nn.Conv2D(hp.filters1, hp.filters1, hp.kernel, padding="SAME", **glorot())
        self.conv3 = nn.Conv2D(hp.filters1, hp.filters2, hp.kernel, padding="SAME", **glorot())
        self.conv4 = nn.Conv2D(hp.filters2, hp.filters2, hp.kernel, padding="SAME", **glorot())
        self.dense1 = nn.Linear(hp.flat, hp.hidden, **glorot())
        self.dense2 = nn.Linear(hp.hidden, hp.classes, **glorot())
        self.conv_dropout = nn.Dropout(hp.conv_dropout)
        self.dense_dropout = nn.Dropout(hp.dense_dropout)
        self.pool = hp.pool

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(F.max_pool2d(self.conv2(x), self.pool, self.pool))
        x = self.conv_dropout(x)
        x = F.relu(self.conv3(x))
        x = F.relu(F.max_pool2d(self.conv4(x), self.pool, self.pool))
        x = self.conv_dropout(x)
        x = paddle.flatten(x, 1)  # (C, H, W) order
        x = self.dense_dropout(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = Cifar10VGG(hp)
    optimizer = paddle.optimizer.Momentum(learning_rate=hp.learning_rate, momentum=hp.momentum, use_nesterov=False,
                                          weight_decay=None, parameters=model.parameters())
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.astype("int64"))


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("int64")).astype("int64").sum()
