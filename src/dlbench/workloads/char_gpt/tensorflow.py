"""char_gpt in native TensorFlow: nanoGPT's model.py written as tf.Modules with their own variables (no Keras;
kernels (in, out)), attention written out as softmax(QK^T / sqrt(d)) V with a causal mask (TensorFlow has no fused
attention op outside Keras), the tied head as h @ wte^T, logits out (softmax fused into the loss); PyTorch's AdamW
rule with the global-norm clip and nanoGPT's schedule written out in dlbench.frameworks.tensorflow.optim."""
import math

import tensorflow as tf

from dlbench.frameworks.tensorflow.layers import normalized, softmax
from dlbench.frameworks.tensorflow.optim import AdamW
from dlbench.workloads.gpt_shared import projection_std


class Linear(tf.Module):
    def __init__(self, n_in, n_out, std, generator, name):
        super().__init__(name=name)
        self.kernel = tf.Variable(generator.normal((n_in, n_out), stddev=std), name="kernel")

    def __call__(self, x):
        return tf.matmul(x, self.kernel)


class Embedding(tf.Module):
    def __init__(self, num, dim, std, generator, name):
        super().__init__(name=name)
        self.embeddings = tf.Variable(generator.normal((num, dim), stddev=std), name="embeddings")

    def __call__(self, ids):
        return tf.gather(self.embeddings, ids)


class LayerNorm(tf.Module):
    """Over the last axis, a scale and no shift (nanoGPT's LayerNorm(bias=False))."""

    def __init__(self, dim, epsilon, name):
        super().__init__(name=name)
        self.gamma = tf.Variable(tf.ones([dim]), name="gamma")
        self.epsilon = epsilon

    def __call__(self, x):
        return normalized(x, self.epsilon) * self.gamma  # statistics in float32 (layers.normalized)


def dropout(x, rate, training):
    return tf.nn.dropout(x, rate) if training and rate > 0 else x


class CausalSelfAttention(tf.Module):
    def __init__(self, hp, generator, name):
        super().__init__(name=name)
        self.c_attn = Linear(hp.n_embd, 3 * hp.n_embd, hp.init_std, generator, "c_attn")
        self.c_proj = Linear(hp.n_embd, hp.n_embd, projection_std(hp), generator, "c_proj")
        self.n_head, self.dropout = hp.n_head, hp.dropout

    def __call__(self, x, training):
        b, t, c = tf.shape(x)[0], x.shape[1], x.shape[2]
        q, k, v = tf.split(self.c_attn(x), 3, axis=2)
        q, k, v = (tf.transpose(tf.reshape(a, (b, t, self.n_head, c // self.n_head)), (0, 2, 1, 3))
                   for a in (q, k, v))  # (B, nh, T, hs)
        att = tf.matmul(q, k, transpose_b=True) / math.sqrt(c // self.n_head)
        causal = tf.linalg.band_part(tf.ones((t, t), tf.bool), -1, 0)  # lower triangle: each position sees the past
        att = tf.where(causal, att, tf.fill(tf.shape(att), tf.constant(float("-inf"), att.dtype)))
        y = tf.matmul(dropout(softmax(att, axis=-1), self.dropout, training), v)  # softmax in float32 (layers)
        y = tf.reshape(tf.transpose(y, (0, 2, 1, 3)), (b, t, c))
        return dropout(self.c_proj(y), self.dropout, training)


class MLP(tf.Module):
    def __init__(self, hp, generator, name):
        super().__init__(name=name)
        self.c_fc = Linear(hp.n_embd, 4 * hp.n_embd, hp.init_std, generator, "c_fc")
        self.c_proj = Linear(4 * hp.n_embd, hp.n_embd, projection_std(hp), generator, "c_proj")
        self.dropout = hp.dropout

    def __call__(self, x, training):
        return dropout(self.c_proj(tf.nn.gelu(self.c_fc(x), approximate=False)), self.dropout, training)


class Block(tf.Module):
    def __init__(self, hp, generator, name):
        super().__init__(name=name)
        self.ln_1 = LayerNorm(hp.n_embd, hp.layer_norm_epsilon, "ln_1")
        self.attn = CausalSelfAttention(hp, generator, "attn")
        self.ln_2 = LayerNorm(hp.n_embd, hp.layer_norm_epsilon, "ln_2")
        self.mlp = MLP(hp, generator, "mlp")

    def __call__(self, x, training):
        x = x + self.attn(self.ln_1(x), training)
        return x + self.mlp(self.ln_2(x), training)


class GPT(tf.Module):
    def __init__(self, hp, generator):
        super().__init__(name="gpt")
        self.wte = Embedding(hp.symbols, hp.n_embd, hp.init_std, generator, "wte")
        self.wpe = Embedding(hp.block_size, hp.n_embd, hp.init_std, generator, "wpe")
        self.h = [Block(hp, generator, "h_%d" % i) for i in range(hp.n_layer)]
        self.ln_f = LayerNorm(hp.n_embd, hp.layer_norm_epsilon, "ln_f")
        self.dropout = hp.dropout

    def __call__(self, idx, training):
        pos = tf.range(idx.shape[1])
        x = dropout(self.wte(idx) + self.wpe(pos), self.dropout, training)
        for block in self.h:
            x = block(x, training)
        return tf.matmul(self.ln_f(x), self.wte.embeddings, transpose_b=True)  # the tied head: logits (B, T, vocab)


def schedule(hp):
    """nanoGPT's get_lr of the optimizer's iteration count (from 0), in TensorFlow: gpt_shared.learning_rate."""
    def lr(it):
        warmup = hp.learning_rate * (it + 1.0) / (hp.warmup_iters + 1.0)
        ratio = (it - hp.warmup_iters) / (hp.lr_decay_iters - hp.warmup_iters)
        cosine = hp.min_lr + 0.5 * (1.0 + tf.cos(math.pi * ratio)) * (hp.learning_rate - hp.min_lr)
        return tf.where(it < hp.warmup_iters, warmup, tf.where(it > hp.lr_decay_iters, hp.min_lr, cosine))
    return lr


def build(hp, generator):
    model = GPT(hp, generator)
    variables = model.trainable_variables
    optimizer = AdamW(variables, schedule(hp), hp.beta_1, hp.beta_2, hp.epsilon, hp.weight_decay,
                      decayed=[len(v.shape) >= 2 for v in variables], clip=hp.grad_clip)
    return model, optimizer


def loss_fn(logits, targets):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits))


def correct(logits, targets):
    """Per window: the share of its positions whose next character is predicted (summed over the batch)."""
    hits = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=targets.dtype), targets), tf.float32)
    return tf.reduce_sum(tf.reduce_mean(hits, axis=1))


def probabilities(logits):
    return tf.nn.softmax(logits, axis=-1)
