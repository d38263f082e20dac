"""mnist_hrnn: the Keras example mnist_hierarchical_rnn.py, a hierarchical LSTM that reads an MNIST image row by row.

Model: input (28, 28, 1); TimeDistributed(LSTM 128) encodes each row (a sequence of 28 pixels, 1 feature each) into
its last hidden state; LSTM 128 reads the 28 row encodings; Dense 10 softmax; 199,434 parameters
(4 * 128 * (1 + 128 + 1) + 4 * 128 * (128 + 128 + 1) + 128 * 10 + 10).
LSTM: Keras's cell with a true sigmoid on the gates (the modern Keras default, what cuDNN implements; Keras 2 used
hard_sigmoid), tanh on the candidate and the output; one kernel (in, 4 * units), one recurrent kernel
(units, 4 * units), one bias (4 * units), gates in the order i, f, c, o (PyTorch's i, f, g, o is the same order).
Initialisers: input kernels and the Dense kernel glorot_uniform over the four gates together, recurrent kernels
orthogonal over the four gates together, biases zero except the forget gate's, 1 (Keras's unit_forget_bias); set
explicitly in every version (PyTorch's and Flax's defaults differ).
Loss: categorical cross-entropy. Keras keeps the softmax layer and its cross-entropy (which clips probabilities to
[1e-7, 1 - 1e-7]); the native versions return logits and fuse softmax into the loss: the same math without the clip.
Optimizer: RMSprop with Keras 3's rule, written out where a framework's own differs:
    v <- rho * v + (1 - rho) * g^2
    w <- w - lr * g / sqrt(v + epsilon)        (epsilon inside the root; PyTorch puts it outside)
Per framework: PyTorch's nn.LSTM has a second bias b_hh that the math above lacks: it is held at zero, frozen and
not counted. Every version runs the row LSTM once over all the batch's rows (batch * 28 sequences of 28 steps), as
the original's Keras 2 TimeDistributed did (its reshape path); Keras 3's layers.TimeDistributed would call the LSTM
once per row (28 calls, 784 serial steps: the same function, 28 times the launches), so keras.py takes the reshape
path explicitly.
Each LSTM's kernel is recorded in its file: torch nn.LSTM (oneDNN on the CPU, cuDNN on a GPU), Flax NNX
OptimizedLSTMCell under nnx.RNN (a lax.scan), TensorFlow a cell written with tf.Variables in a tf.scan (a while
loop), Keras its own loop (cuDNN on a GPU). None is unrolled in the default tier.
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
"""
from dlbench.workloads import layers
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="mnist_hrnn",
    source="Keras example mnist_hierarchical_rnn.py",
    dataset="mnist",
    batch_size=32,
    epochs=5,
    params=199434,
    trainable_params=199434,
    hp=Hyper(rows=28, cols=28, pixels=1, row_hidden=128, col_hidden=128, classes=10,
             learning_rate=1e-3, rho=0.9, epsilon=1e-7),
    metric="accuracy",
    optimizer="rmsprop",
    target=0.986,
    recurrent=True,
    reference="98.6% validation accuracy after 5 epochs on the full MNIST (Keras example)",
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights)."""
    return [layers.TimeDistributed(layers.LSTM("row_lstm", hp.pixels, hp.row_hidden, hp.cols, data=True),
                                   hp.rows),  # each row: one LSTM over batch x rows (Keras 2's reshape path)
            layers.LSTM("col_lstm", hp.row_hidden, hp.col_hidden, hp.rows),  # over the rows' encodings
            layers.Dense("dense", hp.col_hidden, hp.classes)]


def splits(dataset, layout):
    """Images as (N, 28, 28, 1) in every layout: the model reads rows of pixels, not channels, so the image layout
    does not apply (a reshape of contiguous data, no copy); labels stay integer class ids."""
    hp = SPEC.hp

    def images(x):
        return x.reshape(len(x), hp.rows, hp.cols, hp.pixels)
    return (Split([images(dataset.x_train)], [dataset.y_train]),
            Split([images(dataset.x_val)], [dataset.y_val]))
