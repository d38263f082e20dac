"""mnist_cnn in PaddlePaddle: a paddle.nn.Layer on NCHW images, logits out (softmax fused into the loss), Keras's
Adadelta rule: paddle.optimizer.Adadelta is it (epsilon inside both roots, the learning rate applied;
dlbench.frameworks.legacy.paddle.optim checks it). It flattens in (C, H, W) order, the NHWC versions in (H, W, C) order
(a fixed permutation of dense1's inputs)."""
import paddle
import paddle.nn.functional as F
from paddle import nn


def glorot():
    """glorot_uniform kernel, zero bias: new attributes for each layer (fans include the 3x3 field)."""
    return dict(weight_attr=paddle.ParamAttr(initializer=nn.initializer.XavierUniform()),
                bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)))


class MnistCNN(nn.Layer):
    def __init__(self, hp):
        super(MnistCNN, self).__init__()
        self.conv1 = nn.Conv2D(hp.channels, hp.filters1, hp.kernel, padding="VALID", **glorot())
        self.conv2 = nn.Conv2D(hp.filters1, hp.filters2, hp.kernel, padding="VALID", **glorot())
        self.dense1 = nn.Linear(hp.flat, hp.hidden, **glorot())
        self.dense2 = nn.Linear(hp.hidden, hp.classes, **glorot())
        self.dropout1 = nn.Dropout(hp.dropout1)
        self.dropout2 = nn.Dropout(hp.dropout2)
        self.pool = hp.pool

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, self.pool, self.pool)
        x = self.dropout1(x)
        x = paddle.flatten(x, 1)  # (C, H, W) order
        x = self.dropout2(F.relu(self.dense1(x)))
        return self.dense2(x)  # logits


def build(hp):
    model = MnistCNN(hp)
    optimizer = paddle.optimizer.Adadelta(learning_rate=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon,
                                          parameters=model.parameters())
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.astype("int64"))


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("int64")).astype("int64").sum()
