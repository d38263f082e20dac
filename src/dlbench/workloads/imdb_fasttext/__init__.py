"""imdb_fasttext: the Keras example imdb_fasttext.py (Joulin et al., "Bag of Tricks for Efficient Text
Classification"), the average of a review's word and bigram embeddings fed to a logistic regression.

Data, as the example prepares it (ngram_range 2):
1. IMDB in Keras's encoding (dlbench.data.imdb) with the 20,000 most frequent words (load_data(num_words=20000):
   ids 20000 and up become oov 2).
2. The set of bigrams of the TRAINING sequences, built as the example does (a Python set of (id, id) tuples, one
   review's set after another), numbered in that set's iteration order from start_index = 20001 up; max_features
   = the largest id + 1 = 20001 + number of bigrams (id 20000 is never used, as in the example). Python's set
   order of int tuples is fixed for one Python version but changed in 3.8 (the tuple hash): on another version the
   bigrams get another permutation of the same ids, which changes nothing but which initial random row each
   bigram gets. Built with a set and numpy (searchsorted over the bigram codes), not the example's per-token
   dict loop: the same ids, a few seconds on the full set (1.2M bigrams).
3. Every training and validation sequence gets the ids of its bigrams that are in that set appended after its
   words, in the order they occur (repeats included; validation bigrams unseen in training are skipped).
4. pad_sequences(maxlen=400) with Keras's defaults: pre-padding with 0 and PRE-truncating, so a long review
   (about 2 * its length after step 3) keeps its last 400 ids, mostly bigram ids: the example's behaviour, kept.
The bigram set comes from the training rows the run uses: with --samples it is built from those rows only, so
max_features, and the parameter count, depend on the data (hyper(dataset) reads it after splits()).
Model: Embedding(max_features, 50) -> GlobalAveragePooling1D -> Dense 1 sigmoid; 50 * max_features + 51
parameters. No masking (mask_zero False, as the example): the average runs over all 400 positions, padding
included, and the padding id 0 has its own trained vector; every version does the same (a plain mean).
Initialisers: embedding U(-0.05, 0.05), Dense glorot_uniform with a zero bias.
Loss: binary cross-entropy. Keras keeps the sigmoid layer and its cross-entropy (probabilities clipped to
[1e-7, 1 - 1e-7]); the native versions output the logit and fuse the sigmoid into the loss: the same math without
the clip. Accuracy: the logit > 0 (probability > 0.5).
Optimizer: dense Adam with Keras 3's rule (lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7):
    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)
    w <- w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
Dense as in Keras 2 (and Keras 3: its Adam densifies TensorFlow's IndexedSlices): every embedding row, used by the
batch or not, is updated every step (its m and v decay, its weight moves with the momentum). No sparse optimizer
anywhere: PyTorch's nn.Embedding(sparse=False) gives a dense gradient, JAX's is dense, native TensorFlow's
IndexedSlices gradient is densified by the Adam update. With 1.2M bigrams this update over 62M parameters is what
an epoch spends most of its time on.
The four versions sit beside this file: keras.py (one definition for the three Keras backends), torch.py, jax.py,
tensorflow.py.
"""
import itertools

import numpy as np

from dlbench.workloads import layers
from dlbench.data import imdb
from dlbench.workloads.spec import Hyper, Split, WorkloadSpec

SPEC = WorkloadSpec(
    id="imdb_fasttext",
    source="Keras example imdb_fasttext.py",
    dataset="imdb",
    batch_size=32,
    epochs=5,
    params=None,  # 50 * max_features + 51, max_features set by the training set's bigrams: see hyper()
    trainable_params=None,
    hp=Hyper(num_words=20000, ngram_range=2, maxlen=400, max_features=None, embedding_dim=50,
             learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    metric="accuracy",
    optimizer="adam",
    output="sigmoid",
    target=0.9,
    reference="90.56% validation accuracy after 5 epochs on the full IMDB with bigrams (Keras example)",
)


def model_layers(hp):
    """The model's layers in the order of Keras's model.weights (dlbench.workloads.layers: their FLOPs per sample
    and canonical weights): the Dense 50 -> 1 is the only matmul; the lookup and the average (20,000 adds a
    sample, more than the Dense's 100 FLOPs) are not matmuls. hp.max_features comes from hyper(dataset)."""
    return [layers.Embedding("embedding", hp.max_features, hp.embedding_dim),
            layers.GlobalAveragePooling1D(),
            layers.Dense("dense", hp.embedding_dim, 1)]


def params(max_features):
    """Keras's count_params() of the model: the embedding, then the Dense layer's 50 weights and bias."""
    return SPEC.hp.embedding_dim * max_features + SPEC.hp.embedding_dim + 1


class BigramIndex(object):
    """The example's token_indice, {(a, b): id}, held as sorted bigram codes a * base + b with their ids."""

    def __init__(self, pairs, start_index, base):
        self.base = base
        codes = pairs[:, 0] * base + pairs[:, 1]
        ids = start_index + np.arange(len(pairs), dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        self.codes, self.ids = codes[order], ids[order]
        self.max_features = int(ids.max()) + 1 if len(ids) else start_index  # np.max(list(indice_token)) + 1

    def __len__(self):
        return len(self.codes)

    def lookup(self, codes):
        """(found mask, ids of the found codes)."""
        if not len(self.codes):
            return np.zeros(len(codes), dtype=bool), np.zeros(0, dtype=np.int64)
        position = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        found = self.codes[position] == codes
        return found, self.ids[position[found]]


def bigram_index(sequences, start_index, base):
    """The set of bigrams of `sequences` (ids < base), numbered in the example's order: its loop
        ngram_set = set(); for input_list in X_train: ngram_set.update(create_ngram_set(input_list, 2))
        token_indice = {v: k + start_index for k, v in enumerate(ngram_set)}
    run on the same Python ints, so the set iterates in the same order."""
    ngram_set = set()
    for sequence in sequences:
        words = sequence.tolist()
        ngram_set.update(set(zip(words, words[1:])))  # create_ngram_set(input_list, ngram_value=2)
    flat = np.fromiter(itertools.chain.from_iterable(ngram_set), dtype=np.int64, count=2 * len(ngram_set))
    return BigramIndex(flat.reshape(-1, 2), start_index, base)


def add_bigrams(sequences, index):
    """The example's add_ngram(sequences, token_indice, 2): each sequence followed by the ids of its bigrams that
    are in the index, in the order they occur. Returns an object array of int32 arrays."""
    flat, lengths = imdb.flatten(sequences)
    n = len(lengths)
    row = np.repeat(np.arange(n), lengths)
    pairs = np.flatnonzero(row[:-1] == row[1:])  # a bigram starts at each position but a review's last
    found, ids = index.lookup(flat[pairs] * index.base + flat[pairs + 1])
    found_row = row[pairs[found]]
    counts = np.bincount(found_row, minlength=n).astype(np.int64)
    new_lengths = lengths + counts
    new_starts = np.cumsum(new_lengths) - new_lengths
    starts = np.cumsum(lengths) - lengths
    out = np.empty(int(new_lengths.sum()), dtype=np.int64)
    out[new_starts[row] + np.arange(len(flat)) - starts[row]] = flat  # the words, in place
    rank = np.arange(len(ids)) - (np.cumsum(counts) - counts)[found_row]  # 0, 1, ... within each review
    out[new_starts[found_row] + lengths[found_row] + rank] = ids  # then the bigram ids, in order
    return imdb.unflatten(out, new_lengths)


def splits(dataset, layout):
    """Words cut to num_words, the training set's bigrams appended to both splits, pre-padded and pre-truncated to
    maxlen: int32 (N, 400) in every layout; labels int32 0/1. Puts max_features and the bigram count into
    dataset.meta for hyper()."""
    hp = SPEC.hp
    train = imdb.top_words(dataset.x_train, hp.num_words)
    val = imdb.top_words(dataset.x_val, hp.num_words)
    index = bigram_index(train, start_index=hp.num_words + 1, base=hp.num_words)
    dataset.meta["bigrams"] = len(index)
    dataset.meta["max_features"] = index.max_features
    x_train = imdb.pad(add_bigrams(train, index), hp.maxlen)
    x_val = imdb.pad(add_bigrams(val, index), hp.maxlen)
    return (Split([x_train], [dataset.y_train.astype("int32")]),
            Split([x_val], [dataset.y_val.astype("int32")]))


def hyper(dataset):
    """SPEC.hp with the data-dependent max_features that splits() found."""
    if "max_features" not in dataset.meta:
        raise ValueError("imdb_fasttext.hyper() needs splits(dataset) first: it counts the training bigrams")
    values = SPEC.hp.as_dict()
    values["max_features"] = dataset.meta["max_features"]
    return Hyper(**values)
