"""mnist_mlp in MXNet Gluon: a HybridBlock, logits out (softmax fused into the loss), Gluon's RMSProp (Keras's rule:
epsilon inside the root; dlbench.frameworks.legacy.mxnet.optim)."""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn

GLOROT = mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)  # glorot_uniform: sqrt(6 / (in + out))


class MnistMLP(nn.HybridBlock):
    def __init__(self, hp):
        super(MnistMLP, self).__init__()
        with self.name_scope():
            self.dense1 = nn.Dense(hp.hidden, in_units=hp.inputs, weight_initializer=GLOROT, bias_initializer="zeros")
            self.dense2 = nn.Dense(hp.hidden, in_units=hp.hidden, weight_initializer=GLOROT, bias_initializer="zeros")
            self.dense3 = nn.Dense(hp.classes, in_units=hp.hidden, weight_initializer=GLOROT,
                                   bias_initializer="zeros")
            self.dropout = nn.Dropout(hp.dropout)

    def hybrid_forward(self, F, x):
        x = self.dropout(F.relu(self.dense1(x)))
        x = self.dropout(F.relu(self.dense2(x)))
        return self.dense3(x)  # logits


def build(hp):
    model = MnistMLP(hp)
    optimizer = mx.optimizer.RMSProp(learning_rate=hp.learning_rate, gamma1=hp.rho, epsilon=hp.epsilon,
                                     centered=False, wd=0.0)
    return model, optimizer


LOSS = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=True, from_logits=False)


def loss_fn(logits, labels):
    return LOSS(logits, labels)  # per sample


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("float32")).sum()
