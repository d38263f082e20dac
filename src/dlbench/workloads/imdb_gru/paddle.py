"""imdb_gru in PaddlePaddle: paddle.nn.GRU is cuDNN's GRU already (two bias vectors, reset applied after the recurrent
bias; gate order r, z, n where Keras has z, r, h; checked against the formula): in dygraph on a CPU it runs Paddle's
fused rnn op (one kernel for the whole sequence, its steps a C++ loop), cuDNN on a GPU build. Logits out (softmax
fused into the loss), Keras's Adam rule (dlbench.frameworks.legacy.paddle.optim.KerasAdam: paddle.optimizer.Adam places
epsilon as PyTorch does)."""
import paddle
import paddle.nn.functional as F
from paddle import nn

from dlbench.frameworks.legacy.paddle.optim import KerasAdam


def zeros():
    return paddle.ParamAttr(initializer=nn.initializer.Constant(0.0))


def glorot():
    return paddle.ParamAttr(initializer=nn.initializer.XavierUniform())


def keras_gru(units_in, units):
    """nn.GRU initialised as Keras's GRU: glorot_uniform over the three gates together ((3 * units, in) has Keras's
    (in, 3 * units) fans), orthogonal recurrent kernel ((3 * units, units) with orthonormal columns, the transpose of
    Keras's (units, 3 * units) draw), zero biases; both bias vectors are the spec's and train."""
    return nn.GRU(units_in, units, weight_ih_attr=glorot(),
                  weight_hh_attr=paddle.ParamAttr(initializer=nn.initializer.Orthogonal(gain=1.0)),
                  bias_ih_attr=zeros(), bias_hh_attr=zeros())


class ImdbGRU(nn.Layer):
    def __init__(self, hp):
        super(ImdbGRU, self).__init__()
        self.embed = nn.Embedding(hp.num_words, hp.embed,  # U(-0.05, 0.05)
                                  weight_attr=paddle.ParamAttr(initializer=nn.initializer.Uniform(-0.05, 0.05)))
        self.gru = keras_gru(hp.embed, hp.hidden)
        self.dense = nn.Linear(hp.hidden, hp.classes, weight_attr=glorot(), bias_attr=zeros())

    def forward(self, x):
        x = self.embed(x)  # (batch, 150, 125)
        _, h = self.gru(x)  # the last output, (1, batch, 100)
        return self.dense(h[0])  # logits


def build(hp):
    model = ImdbGRU(hp)
    optimizer = KerasAdam(model.parameters(), learning_rate=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                          epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels.astype("int64"))


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("int64")).astype("int64").sum()
