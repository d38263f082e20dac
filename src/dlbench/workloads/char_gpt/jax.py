"""char_gpt in JAX with Flax NNX and optax: nanoGPT's model.py written with nnx.Linear without bias,
nnx.LayerNorm(use_bias=False), the tied head through wte's attend (h @ wte^T), attention through
jax.nn.dot_product_attention(is_causal=True) (XLA's attention on a CPU, cuDNN's fused kernel on a GPU where it
applies); with attention dropout in training (char_gpt) the same math unfused, the softmax weights through
nnx.Dropout, since the fused call has no dropout. Logits out (softmax fused into the loss); optax.chain of
clip_by_global_norm and adamw with a mask (decay on 2-D weights), its learning rate nanoGPT's schedule of optax's
step count (from 0)."""
import math

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from dlbench.workloads.gpt_shared import projection_std


def normal(std):
    return nnx.initializers.normal(stddev=std)


class CausalSelfAttention(nnx.Module):
    def __init__(self, hp, rngs):
        self.c_attn = nnx.Linear(hp.n_embd, 3 * hp.n_embd, use_bias=False, kernel_init=normal(hp.init_std), rngs=rngs)
        self.c_proj = nnx.Linear(hp.n_embd, hp.n_embd, use_bias=False, kernel_init=normal(projection_std(hp)),
                                 rngs=rngs)
        self.attn_dropout = nnx.Dropout(hp.dropout, rngs=rngs)
        self.resid_dropout = nnx.Dropout(hp.dropout, rngs=rngs)
        self.n_head, self.dropout = hp.n_head, hp.dropout

    def __call__(self, x):
        b, t, c = x.shape
        q, k, v = jnp.split(self.c_attn(x), 3, axis=2)
        q, k, v = (a.reshape(b, t, self.n_head, c // self.n_head) for a in (q, k, v))  # (B, T, nh, hs)
        if self.dropout > 0 and not self.attn_dropout.deterministic:  # training with attention dropout: unfused
            att = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(c // self.n_head)
            att = jnp.where(jnp.tril(jnp.ones((t, t), bool)), att, -jnp.inf)
            y = jnp.einsum("bhqk,bkhd->bqhd", self.attn_dropout(jax.nn.softmax(att, axis=-1)), v)
        else:
            y = jax.nn.dot_product_attention(q, k, v, is_causal=True)
        return self.resid_dropout(self.c_proj(y.reshape(b, t, c)))


class MLP(nnx.Module):
    def __init__(self, hp, rngs):
        self.c_fc = nnx.Linear(hp.n_embd, 4 * hp.n_embd, use_bias=False, kernel_init=normal(hp.init_std), rngs=rngs)
        self.c_proj = nnx.Linear(4 * hp.n_embd, hp.n_embd, use_bias=False, kernel_init=normal(projection_std(hp)),
                                 rngs=rngs)
        self.dropout = nnx.Dropout(hp.dropout, rngs=rngs)

    def __call__(self, x):
        return self.dropout(self.c_proj(jax.nn.gelu(self.c_fc(x), approximate=False)))  # exact (erf) GELU


class Block(nnx.Module):
    def __init__(self, hp, rngs):
        self.ln_1 = nnx.LayerNorm(hp.n_embd, epsilon=hp.layer_norm_epsilon, use_bias=False, rngs=rngs)
        self.attn = CausalSelfAttention(hp, rngs)
        self.ln_2 = nnx.LayerNorm(hp.n_embd, epsilon=hp.layer_norm_epsilon, use_bias=False, rngs=rngs)
        self.mlp = MLP(hp, rngs)

    def __call__(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nnx.Module):
    def __init__(self, hp, rngs):
        self.wte = nnx.Embed(hp.symbols, hp.n_embd, embedding_init=normal(hp.init_std), rngs=rngs)
        self.wpe = nnx.Embed(hp.block_size, hp.n_embd, embedding_init=normal(hp.init_std), rngs=rngs)
        self.drop = nnx.Dropout(hp.dropout, rngs=rngs)
        self.h = nnx.List([Block(hp, rngs) for _ in range(hp.n_layer)])
        self.ln_f = nnx.LayerNorm(hp.n_embd, epsilon=hp.layer_norm_epsilon, use_bias=False, rngs=rngs)

    def __call__(self, idx):
        pos = jnp.arange(idx.shape[1])
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return self.wte.attend(self.ln_f(x))  # the tied head: logits (B, T, vocabulary)


def schedule(hp):
    """nanoGPT's get_lr of optax's step count (from 0), in jnp: gpt_shared.learning_rate."""
    def lr(it):
        warmup = hp.learning_rate * (it + 1) / (hp.warmup_iters + 1)
        ratio = (it - hp.warmup_iters) / (hp.lr_decay_iters - hp.warmup_iters)
        cosine = hp.min_lr + 0.5 * (1.0 + jnp.cos(jnp.pi * ratio)) * (hp.learning_rate - hp.min_lr)
        return jnp.where(it < hp.warmup_iters, warmup, jnp.where(it > hp.lr_decay_iters, hp.min_lr, cosine))
    return lr


def build(hp, rngs):
    model = GPT(hp, rngs)
    decayed = lambda params: jax.tree_util.tree_map(lambda p: p.ndim >= 2, params)  # noqa: E731
    optimizer = optax.chain(
        optax.clip_by_global_norm(hp.grad_clip),
        optax.adamw(schedule(hp), b1=hp.beta_1, b2=hp.beta_2, eps=hp.epsilon, weight_decay=hp.weight_decay,
                    mask=decayed))
    return model, optimizer


def loss_fn(logits, targets):
    return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()


def correct(logits, targets):
    """Per window: the share of its positions whose next character is predicted (summed over the batch)."""
    return (jnp.argmax(logits, axis=-1) == targets).mean(axis=1).sum()


def probabilities(logits):
    return jax.nn.softmax(logits, axis=-1)
