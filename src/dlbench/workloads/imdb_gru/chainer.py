"""imdb_gru in Chainer: L.NStepGRU is cuDNN's GRU already (w0-w2 on the input, w3-w5 on the state, six bias vectors
b0-b5, the reset gate applied after the recurrent bias; gate order r, z, h where Keras has z, r, h; the two bias
vectors of each gate add up, as cuDNN's do): 3 * 100 * (125 + 100) + 6 * 100 parameters, the spec's. On a CPU,
without CuPy, Chainer runs it as a Python loop over the 150 steps (n_step_rnn_impl: per step a Linear on the input
and one on the state, Sigmoid, Tanh); with cuDNN it would be one NStepGRU node. Logits out (softmax fused into the
loss), chainer.optimizers.Adam, which is Keras's rule exactly (alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t);
w -= alpha_t m / (sqrt(v) + eps): epsilon not bias-corrected)."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import initializers


def keras_gru(units_in, units):
    """L.NStepGRU initialised as Keras's GRU: glorot_uniform over the three gates together (a (3 * units, in) draw
    has Keras's (in, 3 * units) fans), orthogonal recurrent kernel (a (3 * units, units) draw with orthonormal
    columns, the transpose of Keras's (units, 3 * units) draw, made the same way: QR of a normal matrix), zero
    biases; all six bias vectors are the spec's and train."""
    gru = L.NStepGRU(1, units_in, units, 0.0)
    kernel = np.empty((3 * units, units_in), np.float32)
    initializers.GlorotUniform()(kernel)
    recurrent = np.empty((3 * units, units), np.float32)
    initializers.Orthogonal(scale=1.0)(recurrent)  # Chainer's default scale is 1.1; Keras's gain is 1
    cell = gru[0]
    for gate in range(3):  # r, z, h
        rows = slice(gate * units, (gate + 1) * units)
        getattr(cell, "w%d" % gate).array[...] = kernel[rows]
        getattr(cell, "w%d" % (gate + 3)).array[...] = recurrent[rows]
    for i in range(6):
        getattr(cell, "b%d" % i).array[...] = 0
    return gru


class ImdbGRU(chainer.Chain):
    def __init__(self, hp):
        super(ImdbGRU, self).__init__()
        with self.init_scope():
            self.embed = L.EmbedID(hp.num_words, hp.embed, initialW=initializers.Uniform(0.05))  # U(-0.05, 0.05)
            self.gru = keras_gru(hp.embed, hp.hidden)
            self.dense = L.Linear(hp.hidden, hp.classes, initialW=initializers.GlorotUniform(),
                                  initial_bias=initializers.Zero())

    def forward(self, x):
        x = self.embed(x)  # (batch, 150, 125)
        h, _ = self.gru(None, F.separate(x, axis=0))  # a list of the batch's sequences; the last state (1, batch, 100)
        return self.dense(h[0])  # logits


def build(hp):
    model = ImdbGRU(hp)
    optimizer = chainer.optimizers.Adam(alpha=hp.learning_rate, beta1=hp.beta_1, beta2=hp.beta_2, eps=hp.epsilon)
    optimizer.setup(model)
    return model, optimizer


def loss_fn(logits, labels):
    return F.softmax_cross_entropy(logits, labels.astype(np.int32))


def correct(logits, labels):
    return int((logits.array.argmax(axis=1) == labels).sum())
