"""mnist_mlp in PaddlePaddle: a paddle.nn.Layer, logits out (softmax fused into the loss), Keras's RMSprop rule:
paddle.optimizer.RMSProp puts epsilon inside the root as Keras does (dlbench.frameworks.legacy.paddle.optim checks it)."""
import paddle
import paddle.nn.functional as F
from paddle import nn


def glorot():
    """glorot_uniform kernel, zero bias: new attributes for each layer (glorot_uniform)."""
    return dict(weight_attr=paddle.ParamAttr(initializer=nn.initializer.XavierUniform()),
                bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)))


class MnistMLP(nn.Layer):
    def __init__(self, hp):
        super(MnistMLP, self).__init__()
        self.dense1 = nn.Linear(hp.inputs, hp.hidden, **glorot())  # weight (in, out), Keras's kernel layout
        self.dense2 = nn.Linear(hp.hidden, hp.hidden, **glorot())
        self.dense3 = nn.Linear(hp.hidden, hp.classes, **glorot())
        self.dropout = nn.Dropout(hp.dropout)  # upscale_in_train, as Keras

    def forward(self, x):
        x = self.dropout(F.relu(self.dense1(x)))
        x = self.dropout(F.relu(self.dense2(x)))
        return self.dense3(x)  # logits


def build(hp):
    model = MnistMLP(hp)
    optimizer = paddle.optimizer.RMSProp(learning_rate=hp.learning_rate, rho=hp.rho, epsilon=hp.epsilon,
                                         momentum=0.0, centered=False, parameters=model.parameters())
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.astype("int64"))


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("int64")).astype("int64").sum()
