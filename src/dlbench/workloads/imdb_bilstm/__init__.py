"""imdb_bilstm: the Keras example imdb_bidirectional_lstm.py, a bidirectional LSTM that reads a movie review and
says whether it is positive.

Data: IMDB in Keras's encoding (dlbench.data.imdb): the 20,000 most frequent words (ids 20000 and up become oov 2,
as load_data(num_words=20000)), each review pre-padded with 0 and pre-truncated to its last 100 ids (Keras's
pad_sequences defaults): int32 (N, 100); labels int32 0/1.
Model: Embedding(20000, 128) (no masking: the padding id 0 has its own trained vector, as in the example);
Bidirectional(LSTM 64) with merge_mode "concat": a forward LSTM reads the 100 steps in order, a backward LSTM reads
them in reverse (Keras builds it with go_backwards=True), and each one's last hidden state is kept:
[h_forward after step 100, h_backward after step 1] (128 values). With pre-padding the forward LSTM reads the
padding first and ends on the review's last word; the backward LSTM starts on the last word and ends on the
padding. Dropout 0.5 (training only); Dense 1 sigmoid.
2,658,945 parameters: 20000 * 128 + 2 * 4 * 64 * (128 + 64 + 1) + 128 * 1 + 1.
LSTM: Keras's cell with a true sigmoid on the gates (the modern Keras default, what cuDNN implements; Keras 2 used
hard_sigmoid), tanh on the candidate and the output, gates in the order i, f, c, o (PyTorch's i, f, g, o is the
same order); input kernels glorot_uniform and recurrent kernels orthogonal over the four gates together, bias zero
with the forget gate's at 1 (unit_forget_bias); embedding U(-0.05, 0.05); Dense glorot_uniform, bias zero. Set
explicitly in every version.
Loss: binary cross-entropy. Keras keeps the sigmoid layer and its cross-entropy (probabilities clipped to
[1e-7, 1 - 1e-7]); the native versions output the logit and fuse the sigmoid into the loss
(binary_cross_entropy_with_logits, optax.sigmoid_binary_cross_entropy, tf.nn.sigmoid_cross_entropy_with_logits):
the same math without the clip. Accuracy: the logit > 0 (probability > 0.5), as Keras's binary accuracy.
Optimizer: Adam with Keras 3's rule, constants explicit (lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7):
    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)
    w <- w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
(PyTorch's and optax's Adam put epsilon after the bias-corrected root instead: the shared KerasAdam / keras_adam are
used.) Gradients are dense everywhere: the embedding's rows that a batch did not use still move with Adam's
momentum, as in Keras.
Per framework: Keras 3's Bidirectional(LSTM) (keras.py, one definition for the three backends); PyTorch
nn.LSTM(bidirectional=True) (oneDNN on the CPU, cuDNN on a GPU), both directions' second bias b_hh held at zero,
frozen and not counted; Flax NNX: two nnx.RNN scans over OptimizedLSTMCell, the backward one with reverse=True
(its carry ends after the first step); TensorFlow: two LSTMs written with tf.Variables in a tf.scan, the backward
one with go_backwards.
The four versions sit beside this file: keras.py, torch.py, jax.py, tensorflow.py.
"""
from dlbench.workloads import layers
from dlbench.data import imdb
from dlbench.workloads.spec import Hyper, WorkloadSpec

SPEC = WorkloadSpec(
    id="imdb_bilstm",
    source="Keras example imdb_bidirectional_lstm.py",
    dataset="imdb",
    batch_size=32,
    epochs=4,
    params=2658945,
    trainable_params=2658945,
    hp=Hyper(max_features=20000, maxlen=100, embedding_dim=128, units=64, dropout=0.5,
             learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    metric="accuracy",
    optimizer="adam",
    output="sigmoid",
    target=0.81,
    reference="~81.5% validation accuracy after 4 epochs on the full IMDB (Keras example: 0.8146)",
    recurrent=True,
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights)."""
    return [layers.Embedding("embedding", hp.max_features, hp.embedding_dim),
            layers.Bidirectional(layers.LSTM("lstm", hp.embedding_dim, hp.units, hp.maxlen)),
            layers.Dense("dense", 2 * hp.units, 1)]


def splits(dataset, layout):
    """Token ids as int32 (N, maxlen) in every layout (there are no image channels): the top max_features words,
    pre-padded and pre-truncated as Keras's pad_sequences; labels int32 0/1."""
    return imdb.encoded_splits(dataset, SPEC.hp.max_features, SPEC.hp.maxlen)
