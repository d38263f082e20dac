"""imdb_gru: DeepLearningFrameworks' RNN example (the same network written in each framework) on IMDB sentiment.

Data: as the original's imdb_for_library (DeepLearningFrameworks, notebooks/common/utils.py): Keras's conventions
(start 1, oov 2, ids from 3), the top 30,000 words, then the review's LAST 150 ids (`obs[-seq_len:]`) placed at the
START of the row, zeros after them (`xs[o_idx][i_idx] = obs[i_idx]`): pre-truncated and POST-padded
(dlbench.data.imdb.encode with padding="post"; Keras's pad_sequences, which imdb_bilstm and imdb_fasttext follow as
their originals did, pads before). The GRU reads every position and its output is the state after the last one,
so a review shorter than 150 ids reaches the classifier through its trailing padding (embedding row 0, which
trains like every other row: no mask, as the original). That is how the original's 86% was reached.
Model: Embedding(30000, 125) -> GRU 100 (last output) -> Dense 2; 3,818,302 parameters:
30000 * 125 + 3 * 100 * (125 + 100) + 2 * 3 * 100 + 100 * 2 + 2.
GRU: the cuDNN form ("reset after", Keras's reset_after=True, CuDNNGRU in the original): two bias vectors, one on
the input projection and one on the recurrent projection (6 x 100 biases), with the reset gate applied to the
recurrent projection AFTER its bias:
    z = sigmoid(x W_z + b_z + h U_z + c_z)          (update gate)
    r = sigmoid(x W_r + b_r + h U_r + c_r)          (reset gate)
    n = tanh(x W_h + b_h + r * (h U_h + c_h))       (candidate)
    h' = z * h + (1 - z) * n
A true sigmoid on the gates, tanh on the candidate, initial state zero, the last h is the output.
Gate order in the weights: Keras z, r, h (kernel (125, 300), recurrent kernel (100, 300), bias (2, 300): input
row then recurrent row); PyTorch's nn.GRU r, z, n (weight_ih (300, 125), weight_hh (300, 100), bias_ih and
bias_hh, 300 each); the Flax and TensorFlow versions here are written by hand in Keras's order. The function is
the same; copying weights between them means permuting the gate blocks (the tests do).
Initialisers, as Keras's: kernels glorot_uniform (over the three gates together), recurrent kernels orthogonal,
biases zero, embedding U(-0.05, 0.05), Dense glorot_uniform with zero bias.
Loss: softmax cross-entropy over the two classes (the original: Dense 2 softmax + categorical cross-entropy).
Keras keeps the softmax layer and its cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7]); the native
versions return logits and fuse softmax into the loss.
Optimizer: Adam with Keras 3's rule and the original's constants (lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-8):
    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)
    w <- w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
(dlbench.frameworks' KerasAdam / keras_adam; torch.optim.Adam and optax.adam place epsilon differently). The
embedding is updated densely every step (no sparse optimizer), as in the original.
Per framework: Keras 3 layers.GRU(reset_after=True) (its own loop on the CPU: a lax.scan on jax, a tf.while_loop on
tensorflow, a Python loop on torch; cuDNN on a GPU); PyTorch nn.GRU, which is cuDNN-style already (cuDNN on a GPU,
its fused CPU kernel otherwise); Flax NNX: nnx.GRUCell has no bias on the recurrent projection (4 x 100 biases
after folding, not 6 x 100), so a hand-written cell (nnx.GRUCell with a biased recurrent projection and Keras's
gate order) runs under nnx.RNN (a lax.scan); TensorFlow: a hand-written cell, input projection for all steps in
one matmul, the recurrence in a tf.scan.
The four versions sit beside this file: keras.py, torch.py, jax.py, tensorflow.py.
Legacy frameworks (their own environments): MXNet's gluon.rnn.GRU, Chainer's NStepGRU and Paddle's nn.GRU are
cuDNN-style already (gate order r, z, n); CNTK's and Keras 2's GRU cells are reset-before by default, so cntk.py
writes the cuDNN-style cell under Recurrence and keras2.py sets reset_after=True (keras-mxnet with implementation=1:
its implementation=2 slices the wrong columns with reset_after); theano.py and pytensor.py write the cell in scan.
Every version has the spec's 3,818,302 parameters.
"""
from dlbench.workloads import layers
from dlbench.data import imdb
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="imdb_gru",
    source="DeepLearningFrameworks RNN example (Keras CuDNNGRU version and its ports)",
    dataset="imdb",
    batch_size=64,
    epochs=3,
    params=3818302,
    trainable_params=3818302,
    hp=Hyper(num_words=30000, maxlen=150, embed=125, hidden=100, classes=2,
             learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
    metric="accuracy",
    optimizer="adam",
    target=0.86,
    reference="about 86% test accuracy after 3 epochs on the full IMDB (DeepLearningFrameworks)",
    recurrent=True,
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights)."""
    return [layers.Embedding("embed", hp.num_words, hp.embed),
            layers.GRU("gru", hp.embed, hp.hidden, hp.maxlen),
            layers.Dense("dense", hp.hidden, hp.classes)]


def splits(dataset, layout):
    """Inputs: int32 (N, 150) word ids, the top 30,000 words, each review's last 150 ids at the start of its row and
    zeros after (pre-truncated, post-padded: the original's imdb_for_library); targets: int32 labels 0/1. No image
    layout."""
    hp = SPEC.hp

    def split(x, y):
        return Split([imdb.encode(x, hp.num_words, hp.maxlen, padding="post")], [y.astype("int32")])
    return split(dataset.x_train, dataset.y_train), split(dataset.x_val, dataset.y_val)
