"""char_embed_lstm: the character-embedding text generator of seed 002's benchmark (minimaxir's
text_generator_keras.py, the variant its Keras-backend benchmark ran), trained on Nietzsche.

Data: as char_lstm (dlbench.data.nietzsche: windows of 40 characters every 3, an epoch is all 200,285 of them as
the original's; nothing is held out: the validation pass re-reads every 20th training window in inference mode,
an in-sample figure that shows the BatchNorm moving statistics at work), fed as int32 character ids (40,); the
target is the id of the next character, for both heads.
Model: Embedding(57, 300); LSTM 128 (its last hidden state); two heads from that state:
    aux head   Dense 57 softmax
    main head  Dense 512 without bias, BatchNorm, relu, Dense 256 without bias, BatchNorm, relu, Dense 57 softmax
The model's outputs are (main, aux). 458,430 parameters, 1,536 of them non-trainable (the BatchNorms' moving means
and variances): 57 * 300 + 4 * 128 * (300 + 128 + 1) + (128 * 57 + 57) + 128 * 512 + 4 * 512 + 512 * 256 + 4 * 256
+ (256 * 57 + 57). The Embedding starts as every Keras Embedding, U(-0.05, 0.05), as the original's did: its script
defines a path to pretrained character embeddings but never loads them.
LSTM: Keras's cell with a true sigmoid on the gates (Keras 2 used hard_sigmoid), tanh candidate and output, gates
i, f, c, o; glorot_uniform kernels, orthogonal recurrent kernel, zero biases with the forget gate's at 1. Dense
kernels glorot_uniform, biases zero.
BatchNorm: Keras's defaults, momentum 0.99 and epsilon 1e-3, set in every framework: training normalises by the
batch's mean and (biased) variance and moves moving = 0.99 * moving + 0.01 * batch statistic; inference uses the
moving statistics. PyTorch's nn.BatchNorm1d (momentum 1 - 0.99 = 0.01, eps 1e-3) would move its running variance
with the unbiased batch variance (times n / (n - 1): 1.008 at batch 128), so torch.py's KerasBatchNorm1d moves it with
the biased one, as Keras does (the same layer in every framework; dlbench verify compares the moving statistics after
one step). Flax's nnx.BatchNorm takes momentum 0.99 and epsilon 1e-3 as Keras; native
TensorFlow has none outside Keras, so tensorflow.py writes it out.
Loss: categorical cross-entropy on both heads, weighted 1.0 (main) and 0.2 (aux), summed: the reported loss is
that sum (as Keras reports it) and the reported accuracy is the main head's. Keras keeps the softmax layers (its
cross-entropy clips probabilities to [1e-7, 1 - 1e-7]); the native versions return logits and fuse softmax into the
loss.
Optimizer: Adam(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7) with Keras 2's decay=1e-4 as a per-step
inverse-time decay, lr_t = 1e-3 / (1 + 1e-4 * t), t the updates before this one, and Keras 3's Adam rule:
    m <- m + (1 - beta_1) (g - m);  v <- v + (1 - beta_2) (g^2 - v)
    w <- w - lr_t sqrt(1 - beta_2^(t+1)) / (1 - beta_1^(t+1)) m / (sqrt(v) + epsilon)
(torch.optim.Adam and optax.adam put epsilon after the bias correction instead; dlbench's KerasAdam in each
framework follows Keras.) Keras: InverseTimeDecay(1e-3, decay_steps=1, decay_rate=1e-4); torch: a per-step
LambdaLR; optax: a schedule; TensorFlow: the optimizer's decay.
The metric is the loss (the sum over both heads), a training figure as char_lstm's (SPEC.target_on = "train"; the
original reports curves and no target). Text generation after training samples the main head, as
char_lstm (sample_text, check_sample): this is the model whose BatchNorm made one backend generate garbage after a
normal-looking loss in seed 002. Short runs see a milder form of it in every framework: the moving statistics move
1% per step, so after a few hundred steps inference still uses statistics partly from their start (ones and zeros)
and the sample scores lower than char_lstm's (0.855 after 141 steps with torch, 1.0 with the statistics recomputed).
Per framework: Keras 3 runs its own LSTM loop on the CPU (cuDNN on a GPU); torch nn.LSTM (oneDNN on the CPU, cuDNN
on a GPU; b_hh a frozen zero, not counted); Flax NNX OptimizedLSTMCell under nnx.RNN (a lax.scan); TensorFlow a
cell written with tf.Variables in a tf.scan.
The four versions sit beside this file: keras.py, torch.py, jax.py, tensorflow.py.
"""
from dlbench.workloads import layers
from dlbench.data.nietzsche import decode, encode
from dlbench.workloads import textgen
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="char_embed_lstm",
    source="seed 002's char-embedding text generator (text_generator_keras.py)",
    dataset="nietzsche",
    batch_size=128,
    epochs=10,
    params=458430,
    trainable_params=456894,
    hp=Hyper(maxlen=40, symbols=57, embedding=300, units=128, hidden1=512, hidden2=256,
             bn_momentum=0.99, bn_epsilon=1e-3, main_weight=1.0, aux_weight=0.2,
             learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=1e-4),
    metric="loss",
    optimizer="adam",
    recurrent=True,
    target=None,
    target_on="train",
    reference="seed 002 reports loss curves and samples, no final figure; the TensorFlow sample reads as English",
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights)."""
    return [layers.Embedding("embedding", hp.symbols, hp.embedding),
            layers.LSTM("lstm", hp.embedding, hp.units, hp.maxlen),
            layers.Dense("dense1", hp.units, hp.hidden1, bias=False), layers.BatchNorm("norm1", hp.hidden1),
            layers.Dense("dense2", hp.hidden1, hp.hidden2, bias=False), layers.BatchNorm("norm2", hp.hidden2),
            layers.Dense("main_out", hp.hidden2, hp.symbols),
            layers.Dense("aux_out", hp.units, hp.symbols)]  # the auxiliary head, on the LSTM's output


def splits(dataset, layout):
    """int32 character ids (N, 40) (the image layout does not apply); the next character's id is the target of
    both heads (main, aux): the same array twice."""
    chars = dataset.meta.get("chars", "")
    if len(chars) != SPEC.hp.symbols:
        raise ValueError("char_embed_lstm needs a corpus of %d symbols, %s has %d"
                         % (SPEC.hp.symbols, dataset, len(chars)))
    return (Split([dataset.x_train], [dataset.y_train, dataset.y_train]),
            Split([dataset.x_val], [dataset.y_val, dataset.y_val]))


def sample_text(predict, dataset, rng, length=textgen.LENGTH, temperature=textgen.TEMPERATURE):
    """400 characters generated after a random 40-character window of the corpus, at temperature 0.5, from the
    main head. predict(list of input arrays) returns the main head's probabilities (batch, 57). Returns the
    generated text, without its seed."""
    chars = dataset.meta["chars"]
    seed = textgen.seed_window(dataset.meta["text"], SPEC.hp.maxlen, rng)
    ids = textgen.sample(predict, encode(seed, chars), length, temperature, rng)
    return decode(ids, chars)


def check_sample(text, dataset):
    """{"bigram_share", "ok", "reason"}: see dlbench.workloads.textgen."""
    return textgen.check(text, dataset.meta["corpus"], synthetic=dataset.variant == "synthetic")
