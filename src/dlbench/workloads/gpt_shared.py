"""What the two GPT workloads (char_gpt, char_gpt_mini) share: nanoGPT's character-level GPT (karpathy/nanoGPT at
3adf61e, model.py and train.py) on the Nietzsche corpus. Each workload's own sizes stay in its package (SPEC.hp);
the model, the data and the schedule are here once.

Data: the corpus as character ids (57 symbols, lowercased as char_lstm: dlbench.data.nietzsche), the first 90% for
training and the last 10% for validation, as nanoGPT's prepare.py cuts it. A sample is a window of block_size
characters at a random start, its target the same window shifted by one character (nanoGPT's get_batch). An epoch
is iters_per_epoch (250, nanoGPT's eval interval) batches of windows; validation is eval_iters random batches of the
validation text. Both are int32 arrays (N, block_size).
Where this differs from nanoGPT: nanoGPT draws fresh windows for every batch; here one epoch's windows are drawn once
(with WINDOW_SEED, so every framework and every trial seed gets the same windows) and the input pipeline reshuffles
their order every epoch (the trial's seed), as it does for every workload: later epochs see the same windows in
another order. nanoGPT estimates the validation loss on fresh random batches at each evaluation; here the same
validation windows are read every epoch. `--samples N` draws N training windows per epoch instead (at most as
many as the dataset variant has samples; the small variant's text is its first 60,000 characters) and scales the
validation windows in proportion (at least one).

Model (GPT-2-style, pre-LN): token Embedding(57, d) whose matrix is also the output head (weight tying), position
Embedding(block_size, d), Dropout; n_layer blocks of x + attn(ln_1(x)), x + mlp(ln_2(x)) where attn is causal self-
attention (qkv Linear d -> 3d, n_head heads, softmax(QK^T / sqrt(d/n_head)) V, attention dropout, output Linear d ->
d, residual dropout) and mlp Linear d -> 4d, exact GELU, Linear 4d -> d, Dropout; a final LayerNorm; logits = h @
wte^T at every position. LayerNorms have no bias (epsilon 1e-5), no Linear has a bias. Initialisation: every Linear
and Embedding weight N(0, 0.02), the two output projections of each block (attn.c_proj, mlp.c_proj) N(0, 0.02 /
sqrt(2 n_layer)), LayerNorm scale 1.
Loss: cross-entropy, the mean over every position of every window; the accuracy is the next-character accuracy
over every position.
Optimizer: AdamW(lr, beta_1 0.9, beta_2 0.99, epsilon 1e-8), decoupled weight decay 0.1 on the 2-D weights only (the
embeddings and the matmul kernels, never a LayerNorm scale), gradients clipped to global norm 1.0 before every step,
the learning rate per iteration `it` counted from 0 (nanoGPT's get_lr, learning_rate() below):
    it < warmup_iters:          lr * (it + 1) / (warmup_iters + 1)
    it > lr_decay_iters:        min_lr
    otherwise:                  min_lr + 0.5 * (1 + cos(pi * (it - warmup_iters) / (lr_decay_iters - warmup_iters)))
                                         * (lr - min_lr)
Python 3.6-safe, numpy only, like every workload's __init__.py.
"""
import math

import numpy as np

from dlbench.data.nietzsche import encode
from dlbench.workloads import layers
from dlbench.workloads.spec import Split

WINDOW_SEED = 1337  # nanoGPT's torch.manual_seed(1337)
TRAIN_SHARE = 0.9  # prepare.py: the first 90% of the text for training


def hyper(**sizes):
    """nanoGPT train.py's optimizer and schedule constants, plus one model's sizes."""
    values = dict(symbols=57, learning_rate=1e-3, min_lr=1e-4, warmup_iters=100, beta_1=0.9, beta_2=0.99,
                  epsilon=1e-8, weight_decay=0.1, grad_clip=1.0, layer_norm_epsilon=1e-5, init_std=0.02,
                  iters_per_epoch=250)
    values.update(sizes)
    return values


def learning_rate(hp, it):
    """nanoGPT's get_lr(it), for iteration `it` counted from 0 (a float in plain Python: the reference every
    framework's own schedule is tested against)."""
    if it < hp.warmup_iters:
        return hp.learning_rate * (it + 1) / (hp.warmup_iters + 1)
    if it > hp.lr_decay_iters:
        return hp.min_lr
    ratio = (it - hp.warmup_iters) / float(hp.lr_decay_iters - hp.warmup_iters)
    return hp.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (hp.learning_rate - hp.min_lr)


def projection_std(hp):
    """The initial standard deviation of each block's two output projections (nanoGPT's c_proj.weight)."""
    return hp.init_std / math.sqrt(2 * hp.n_layer)


def model_layers(hp):
    """The layers in the order of the Keras model's model.weights (dlbench.workloads.layers): wte, wpe, then per
    block ln_1, the attention (qkv and output kernels), ln_2, the MLP's two kernels (one per position:
    TimeDistributed), then ln_f and the tied head (no weights of its own). Names follow nanoGPT's modules."""
    d, t = hp.n_embd, hp.block_size
    found = [layers.Embedding("wte", hp.symbols, d), layers.Embedding("wpe", t, d)]
    for i in range(hp.n_layer):
        block = "h.%d." % i
        found += [layers.LayerNorm(block + "ln_1", d, center=False),
                  layers.CausalSelfAttention(block + "attn", d, hp.n_head, t),
                  layers.LayerNorm(block + "ln_2", d, center=False),
                  layers.TimeDistributed(layers.Dense(block + "mlp.c_fc", d, 4 * d, bias=False), t),
                  layers.TimeDistributed(layers.Dense(block + "mlp.c_proj", 4 * d, d, bias=False), t)]
    return found + [layers.LayerNorm("ln_f", d, center=False), layers.TiedHead(hp.symbols, d, t)]


def _windows(ids, starts, block_size):
    x = ids[starts[:, None] + np.arange(block_size)]
    y = ids[starts[:, None] + np.arange(1, block_size + 1)]
    return x.astype(np.int32), y.astype(np.int32)


def splits(dataset, spec):
    """(train, validation) Splits of int32 windows (N, block_size) and their next-character targets (module
    docstring: how many, drawn how)."""
    hp = spec.hp
    chars = dataset.meta.get("chars", "")
    if len(chars) != hp.symbols:
        raise ValueError("%s needs a corpus of %d symbols, %s has %d" % (spec.id, hp.symbols, dataset, len(chars)))
    ids = encode(dataset.meta["text"], chars)
    cut = int(len(ids) * TRAIN_SHARE)
    train_ids, val_ids = ids[:cut], ids[cut:]
    full = hp.iters_per_epoch * spec.batch_size
    n_train = min(full, dataset.n_train)
    n_val = max(1, int(round(hp.eval_iters * spec.batch_size * n_train / float(full))))
    rng = np.random.RandomState(WINDOW_SEED)
    t = hp.block_size
    train = _windows(train_ids, rng.randint(0, len(train_ids) - t, size=n_train), t)
    val = _windows(val_ids, rng.randint(0, len(val_ids) - t, size=n_val), t)
    return Split([train[0]], [train[1]]), Split([val[0]], [val[1]])
