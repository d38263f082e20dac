"""imdb_gru in CNTK 2.7: a hand-written cuDNN-style GRU cell (reset after, two bias vectors) under
cntk.layers.Recurrence, CNTK's recurrent loop over the sequence axis; logits out (softmax fused into the loss); CNTK's
adam, which is Keras's rule on the mean gradient (dlbench.frameworks.legacy.cntk.optim).

CNTK's own GRU layer (cntk.layers.GRU) is the other GRU: the reset gate multiplies h BEFORE the recurrent projection,
n = tanh(x W_h + b_h + (r * h) U_h), and it has one bias vector (3 x 100), so 67,800 GRU parameters instead of the
spec's 68,100 and a different function. OptimizedRNNStack (cuDNN) runs on a GPU only. So the cell here is the spec's,
in Keras's gate order z, r, h, with Keras's weight shapes (kernel (125, 300), recurrent kernel (100, 300), an input
and a recurrent bias of 300 each), run by Recurrence (cntk:PastValue, step by step; the input projection, which does
not depend on h, CNTK computes for all steps at once).
The embedding looks rows up with cntk.gather: cntk.layers.Embedding multiplies a sparse one-hot input, whose sparse
gradient CNTK's adam cannot take on a CPU, while gather's gradient is dense (Keras's dense Adam, as the original).
CNTK has no orthogonal initializer: the recurrent kernel is drawn as Keras's orthogonal with NumPy (seeded)."""
import cntk as C
import numpy as np

from dlbench.frameworks.legacy.cntk.optim import keras_adam

NOTE = ("GRU: the spec's cuDNN-style cell (reset after, two bias vectors; 68,100 parameters) written as a CNTK step "
        "function under cntk.layers.Recurrence; CNTK's own cntk.layers.GRU applies the reset before the recurrent "
        "projection and has one bias vector (67,800), and OptimizedRNNStack (cuDNN) is GPU-only")


def orthogonal(shape, rng):
    """Keras's orthogonal initializer: the Q of a normal draw's QR decomposition, signs fixed by R's diagonal."""
    rows, cols = shape
    q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    return (q.T if rows < cols else q).astype(np.float32)


def keras_gru(units_in, units, rng):
    """The spec's GRU step as a CNTK Function of (h, x), run over the sequence by Recurrence."""
    kernel = C.parameter((units_in, 3 * units), init=C.initializer.glorot_uniform(), name="kernel")
    recurrent_kernel = C.parameter((units, 3 * units), init=orthogonal((units, 3 * units), rng),
                                   name="recurrent_kernel")
    input_bias = C.parameter(3 * units, init=0, name="input_bias")
    recurrent_bias = C.parameter(3 * units, init=0, name="recurrent_bias")

    @C.Function
    def step(h, x):
        gx = C.times(x, kernel) + input_bias
        gh = C.times(h, recurrent_kernel) + recurrent_bias
        z = C.sigmoid(gx[0:units] + gh[0:units])  # update gate
        r = C.sigmoid(gx[units:2 * units] + gh[units:2 * units])  # reset gate
        n = C.tanh(gx[2 * units:] + r * gh[2 * units:])  # candidate: reset after the recurrent bias
        return z * h + (1 - z) * n
    return C.layers.Recurrence(step, name="gru")


def build(hp, rng):
    words = C.sequence.input_variable((), name="words")  # word ids (as float), a sequence of 150 per review
    embeddings = C.parameter((hp.num_words, hp.embed), init=C.initializer.uniform(scale=0.05), name="embeddings")
    x = C.gather(embeddings, words)  # (batch, 150, 125)
    h = C.sequence.last(keras_gru(hp.embed, hp.hidden, rng)(x))  # the last output, (batch, 100)
    logits = C.layers.Dense(hp.classes, activation=None, init=C.initializer.glorot_uniform(), init_bias=0,
                            name="dense")(h)
    learner = keras_adam(logits.parameters, lr=hp.learning_rate, beta_1=hp.beta_1, beta_2=hp.beta_2,
                         epsilon=hp.epsilon)
    return [words], logits, learner


def loss_fn(logits, labels):
    return C.cross_entropy_with_softmax(logits, C.one_hot(labels, logits.shape[-1]))
