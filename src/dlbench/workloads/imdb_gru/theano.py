"""imdb_gru in Theano: the cuDNN-style GRU cell (reset after, two bias vectors) written out in Keras's layout and
gate order z, r, h; the input projection of all 150 steps in one dot, the recurrence in theano.scan (a Scan op: a
loop inside the compiled function, its inner graph compiled too). Logits out (softmax fused into the loss), Keras's
Adam rule as update pairs; the embedding is updated densely every step, as in the original. B is
dlbench.frameworks.legacy.theano.common.Backend; the same code runs PyTensor (pytensor.py, pytensor.scan)."""
import numpy as np


class GRU(object):
    """Keras's GRU(reset_after=True): kernel (in, 3 * units), recurrent kernel (units, 3 * units), bias (2, 3 * units)
    (input row, recurrent row); returns the last hidden state."""

    def __init__(self, B, units_in, units, name):
        self.B, self.units = B, units
        self.kernel = B.glorot_uniform((units_in, 3 * units), units_in, 3 * units, name + "/kernel")
        self.recurrent_kernel = B.orthogonal((units, 3 * units), name + "/recurrent_kernel")
        self.bias = B.zeros((2, 3 * units), name + "/bias")
        self.params = [self.kernel, self.recurrent_kernel, self.bias]

    def step(self, x, h, recurrent_kernel, recurrent_bias):
        B, T, u = self.B, self.B.T, self.units
        hh = T.dot(h, recurrent_kernel) + recurrent_bias
        z = B.sigmoid(x[:, :u] + hh[:, :u])
        r = B.sigmoid(x[:, u:2 * u] + hh[:, u:2 * u])
        n = T.tanh(x[:, 2 * u:] + r * hh[:, 2 * u:])  # reset after the recurrent bias
        return z * h + (1.0 - z) * n

    def __call__(self, x):
        T = self.B.T
        inputs = T.dot(x.dimshuffle(1, 0, 2), self.kernel) + self.bias[0]  # time major: (time, batch, 3 * units)
        h0 = T.alloc(np.float32(0), x.shape[0], self.units)
        hs = self.B.scan(self.step, sequences=[inputs], outputs_info=[h0],
                         non_sequences=[self.recurrent_kernel, self.bias[1]])
        return hs[-1]


class ImdbGRU(object):
    def __init__(self, hp, B):
        self.B = B
        self.embed = B.uniform((hp.num_words, hp.embed), 0.05, "embed/embeddings")  # U(-0.05, 0.05)
        self.gru = GRU(B, hp.embed, hp.hidden, "gru")
        self.dense = B.dense(hp.hidden, hp.classes, "dense")
        self.params = [self.embed] + self.gru.params + list(self.dense)

    def __call__(self, x, training):
        T = self.B.T
        x = self.B.embedding(self.embed, x)  # (batch, 150, 125)
        h = self.gru(x)  # the last output, (batch, 100)
        return T.dot(h, self.dense[0]) + self.dense[1]  # logits


def build(hp, B):
    model = ImdbGRU(hp, B)
    optimizer = B.adam(lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.epsilon)
    return model, optimizer


def loss_fn(B, logits, labels):
    return B.sparse_softmax_cross_entropy(logits, labels)


def correct(B, logits, labels):
    return B.correct(logits, labels)
