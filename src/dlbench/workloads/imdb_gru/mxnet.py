"""imdb_gru in MXNet Gluon: gluon.rnn.GRU is cuDNN's GRU already (two bias vectors, i2h and h2h; reset applied after
the recurrent bias; gate order r, z, n where Keras has z, r, h), run as one fused RNN op: cuDNN on a GPU, oneDNN's
linear-before-reset GRU on a CPU (MXNet's MKLDNN RNN path). Logits out (softmax fused into the loss), Gluon's Adam
(Keras's rule: epsilon not bias-corrected; dlbench.frameworks.legacy.mxnet.optim)."""
import mxnet as mx
from mxnet import gluon
from mxnet.gluon import nn, rnn

GLOROT = mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)
ORTHOGONAL = mx.init.Orthogonal(scale=1.0, rand_type="normal")  # Keras's orthogonal: gain 1, from a normal draw


def keras_gru(units_in, units):
    """gluon.rnn.GRU initialised as Keras's GRU: glorot_uniform over the three gates together ((3 * units, in) has
    Keras's (in, 3 * units) fans), orthogonal recurrent kernel (the transpose of Keras's (units, 3 * units) draw),
    zero biases; both bias vectors are the spec's and train."""
    return rnn.GRU(units, num_layers=1, layout="NTC", input_size=units_in,
                   i2h_weight_initializer=GLOROT, h2h_weight_initializer=ORTHOGONAL,
                   i2h_bias_initializer="zeros", h2h_bias_initializer="zeros")


class ImdbGRU(nn.HybridBlock):
    def __init__(self, hp):
        super(ImdbGRU, self).__init__()
        with self.name_scope():
            self.embed = nn.Embedding(hp.num_words, hp.embed, weight_initializer=mx.init.Uniform(0.05))
            self.gru = keras_gru(hp.embed, hp.hidden)
            self.dense = nn.Dense(hp.classes, in_units=hp.hidden, weight_initializer=GLOROT, bias_initializer="zeros")

    def hybrid_forward(self, F, x):
        x = self.embed(x)  # (batch, 150, 125)
        x = self.gru(x)  # every step's output, (batch, 150, 100)
        return self.dense(F.squeeze(F.slice_axis(x, axis=1, begin=-1, end=None), axis=1))  # the last output: logits


def build(hp):
    model = ImdbGRU(hp)
    optimizer = mx.optimizer.Adam(learning_rate=hp.learning_rate, beta1=hp.beta_1, beta2=hp.beta_2,
                                  epsilon=hp.epsilon, lazy_update=False, wd=0.0)
    return model, optimizer


LOSS = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=True, from_logits=False)


def loss_fn(logits, labels):
    return LOSS(logits, labels)  # per sample


def correct(logits, labels):
    return (logits.argmax(axis=1) == labels.astype("float32")).sum()
