"""char_lstm: the Keras example lstm_text_generation.py, a character-level LSTM that learns to continue Nietzsche.

Data: the Nietzsche corpus lowercased (600,893 characters over 57 symbols), windows of 40 characters every 3
(dlbench.data.nietzsche): an epoch is all 200,285 windows, as the original's. Each window is fed one-hot, (40, 57)
float32, built once in splits() as the original does; the target is the id of the next character. The original has
no validation set and none is held out here: the validation pass re-reads every 20th training window in inference
mode, an in-sample figure (its val_loss is not a generalisation measure).
Model: LSTM 128 over the 40 one-hot steps, its last hidden state into Dense 57 softmax; 102,585 parameters
(4 * 128 * (57 + 128 + 1) + 128 * 57 + 57).
LSTM: Keras's cell with a true sigmoid on the gates (the modern Keras default, what cuDNN implements; Keras 2 used
hard_sigmoid), tanh on the candidate and the output; kernel (57, 512), recurrent kernel (128, 512), one bias (512),
gates in the order i, f, c, o. Initialisers: glorot_uniform kernels, orthogonal recurrent kernel, zero biases with
the forget gate's at 1 (unit_forget_bias), set explicitly in every version.
Loss: categorical cross-entropy. Keras keeps the softmax layer and its cross-entropy (which clips probabilities to
[1e-7, 1 - 1e-7]); the native versions return logits and fuse softmax into the loss: the same math without the clip.
Optimizer: RMSprop(lr=0.01, rho=0.9, epsilon=1e-7) with Keras 3's rule:
    v <- rho * v + (1 - rho) * g^2
    w <- w - lr * g / sqrt(v + epsilon)        (epsilon inside the root; PyTorch's own puts it outside)
The metric is the loss: the original reports a training loss of ~1.40 after 10 epochs (the Keras progress bar's
mean over the epoch) and no accuracy (the accuracy of the next character is recorded too). The target is that
quantity: the first epoch whose training loss is at or below 1.40 (SPEC.target_on = "train").
Text generation: after training, sample_text() continues a random 40-character window of the corpus for 400
characters at temperature 0.5 (the Keras example's sampling, dlbench.workloads.textgen) and check_sample() flags a
sample whose character bigrams mostly never occur in the corpus.
Per framework: Keras 3 runs its own LSTM loop on the CPU (a lax.scan on jax, a tf.while_loop on tensorflow, a Python
loop on torch; cuDNN on a GPU); torch nn.LSTM (oneDNN on the CPU, cuDNN on a GPU; its second bias b_hh is a frozen
zero, not counted); Flax NNX OptimizedLSTMCell under nnx.RNN (a lax.scan); TensorFlow a cell written with
tf.Variables in a tf.scan (a while loop in the graph).
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
"""
import numpy as np

from dlbench.workloads import layers
from dlbench.data.nietzsche import decode, encode
from dlbench.workloads import textgen
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="char_lstm",
    source="Keras example lstm_text_generation.py",
    dataset="nietzsche",
    batch_size=128,
    epochs=10,
    params=102585,
    trainable_params=102585,
    hp=Hyper(maxlen=40, symbols=57, units=128, learning_rate=0.01, rho=0.9, epsilon=1e-7),
    metric="loss",
    optimizer="rmsprop",
    recurrent=True,
    target=1.40,
    target_on="train",
    reference="training loss ~1.40 after 10 epochs on the full corpus (Keras example; seed 002)",
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights); the one-hot input is multiplied as a dense matrix, as every framework does."""
    return [layers.LSTM("lstm", hp.symbols, hp.units, hp.maxlen, data=True),  # reads the one-hot data
            layers.Dense("dense", hp.units, hp.symbols)]


def one_hot(windows):
    """int ids (N, 40) -> float32 one-hot (N, 40, 57)."""
    return np.eye(SPEC.hp.symbols, dtype=np.float32)[windows]


def splits(dataset, layout):
    """Windows one-hot (N, 40, 57) float32, built once here (the image layout does not apply); targets int32
    next-character ids."""
    _check_symbols(dataset)
    return (Split([one_hot(dataset.x_train)], [dataset.y_train]),
            Split([one_hot(dataset.x_val)], [dataset.y_val]))


def _check_symbols(dataset):
    chars = dataset.meta.get("chars", "")
    if len(chars) != SPEC.hp.symbols:
        raise ValueError("char_lstm needs a corpus of %d symbols, %s has %d" % (SPEC.hp.symbols, dataset, len(chars)))


def sample_text(predict, dataset, rng, length=textgen.LENGTH, temperature=textgen.TEMPERATURE):
    """400 characters generated after a random 40-character window of the corpus, at temperature 0.5.
    predict(list of input arrays) returns the next character's probabilities (batch, 57). Returns the generated
    text, without its seed."""
    chars = dataset.meta["chars"]
    seed = textgen.seed_window(dataset.meta["text"], SPEC.hp.maxlen, rng)
    ids = textgen.sample(predict, encode(seed, chars), length, temperature, rng,
                         encode=lambda windows: [one_hot(windows)])
    return decode(ids, chars)


def check_sample(text, dataset):
    """{"bigram_share", "ok", "reason"}: see dlbench.workloads.textgen."""
    return textgen.check(text, dataset.meta["corpus"], synthetic=dataset.variant == "synthetic")
