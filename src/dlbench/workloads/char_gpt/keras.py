"""char_gpt in Keras 3: one definition for the jax, tensorflow and torch backends (KERAS_BACKEND picks). Keras's
MultiHeadAttention has separate q, k and v kernels with biases, not nanoGPT's fused bias-free qkv, so the block is
written with Dense(3 d, no bias), a small attention layer on keras.ops.dot_product_attention(is_causal=True) (each
backend's fused attention: torch's scaled_dot_product_attention, jax.nn.dot_product_attention; an einsum and softmax
on tensorflow) and Dense(d, no bias); with attention dropout in training (char_gpt) the same math unfused, the
softmax weights through Dropout, since the fused call has no dropout. The tied head is the token embedding used in
reverse (a small layer, as keras-hub's ReversibleEmbedding). The model outputs logits. The optimizer is Keras's AdamW
(decay excluded from the LayerNorm scales, "gamma"; global_clipnorm; the schedule a LearningRateSchedule) with one
line changed to nanoGPT's rule, PyTorch's: Keras adds epsilon to sqrt(v) before the bias correction, PyTorch after
it, so at beta_2 0.99 Keras's first steps have a 10 times larger effective epsilon (dlbench verify tells them
apart)."""
import math

import keras
import numpy as np
from keras import layers, ops

from dlbench.workloads.gpt_shared import projection_std


def normal(std):
    return keras.initializers.RandomNormal(mean=0.0, stddev=std)


class TiedEmbedding(layers.Embedding):
    """An Embedding that, called with reverse=True, is the output head: logits = h @ embeddings^T."""

    def call(self, inputs, reverse=False):
        if reverse:  # Embedding does not autocast its table: cast it, or a mixed policy's head runs in float32
            return ops.matmul(inputs, ops.cast(ops.transpose(self.embeddings), self.compute_dtype))
        return super().call(inputs)

    def compute_output_spec(self, inputs, reverse=False):
        if reverse:
            return keras.KerasTensor(inputs.shape[:-1] + (self.input_dim,), dtype=self.compute_dtype)
        return super().compute_output_spec(inputs)


class PositionEmbedding(layers.Layer):
    """Adds a learned vector per position (wpe) to its input of `steps` positions."""

    def __init__(self, steps, dim, std, **kwargs):
        super().__init__(**kwargs)
        self.embeddings = self.add_weight(shape=(steps, dim), initializer=normal(std), name="embeddings")

    def call(self, x):
        return x + self.embeddings[None]


class CausalSelfAttention(layers.Layer):
    """softmax(QK^T / sqrt(d / heads)) V over the heads of a fused q, k, v input (B, T, 3 d), causal."""

    def __init__(self, heads, dropout, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.dropout = heads, dropout
        self.attn_dropout = layers.Dropout(dropout)

    def call(self, qkv, training=None):
        t, c = qkv.shape[1], qkv.shape[2] // 3
        q, k, v = ops.split(qkv, 3, axis=-1)
        q, k, v = (ops.reshape(a, (-1, t, self.heads, c // self.heads)) for a in (q, k, v))  # (B, T, nh, hs)
        if self.dropout > 0 and training:  # training with attention dropout: unfused
            att = ops.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(c // self.heads)
            att = ops.where(ops.tril(ops.ones((t, t), "bool")), att, float("-inf"))
            weights = self.attn_dropout(ops.softmax(att, axis=-1), training=training)
            y = ops.einsum("bhqk,bkhd->bqhd", weights, v)
        else:
            y = ops.dot_product_attention(q, k, v, is_causal=True)
        return ops.reshape(y, (-1, t, c))


class AdamW(keras.optimizers.AdamW):
    """Keras's AdamW (its decoupled decay, clipping and schedule) with PyTorch's update, epsilon after the bias
    correction: w <- w - lr m_hat / (sqrt(v_hat) + epsilon)."""

    def update_step(self, gradient, variable, learning_rate):
        lr, g = ops.cast(learning_rate, variable.dtype), ops.cast(gradient, variable.dtype)
        t = ops.cast(self.iterations + 1, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(g, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(g), v), 1 - self.beta_2))
        m_hat = ops.divide(m, 1 - ops.power(ops.cast(self.beta_1, variable.dtype), t))
        v_hat = ops.divide(v, 1 - ops.power(ops.cast(self.beta_2, variable.dtype), t))
        self.assign_sub(variable, ops.divide(ops.multiply(m_hat, lr), ops.add(ops.sqrt(v_hat), self.epsilon)))


class Schedule(keras.optimizers.schedules.LearningRateSchedule):
    """nanoGPT's get_lr of the optimizer's iteration count (from 0), in keras.ops: gpt_shared.learning_rate."""

    def __init__(self, hp):
        self.hp = hp

    def __call__(self, step):
        hp, it = self.hp, ops.cast(step, "float32")
        warmup = hp.learning_rate * (it + 1.0) / (hp.warmup_iters + 1.0)
        ratio = (it - hp.warmup_iters) / (hp.lr_decay_iters - hp.warmup_iters)
        cosine = hp.min_lr + 0.5 * (1.0 + ops.cos(math.pi * ratio)) * (hp.learning_rate - hp.min_lr)
        return ops.where(it < hp.warmup_iters, warmup, ops.where(it > hp.lr_decay_iters, hp.min_lr, cosine))

    def get_config(self):
        return dict(self.hp.as_dict())


def block(x, hp, i):
    name = "h_%d_" % i
    h = layers.LayerNormalization(epsilon=hp.layer_norm_epsilon, center=False, name=name + "ln_1")(x)
    h = layers.Dense(3 * hp.n_embd, use_bias=False, kernel_initializer=normal(hp.init_std), name=name + "c_attn")(h)
    h = CausalSelfAttention(hp.n_head, hp.dropout, name=name + "attn")(h)
    h = layers.Dense(hp.n_embd, use_bias=False, kernel_initializer=normal(projection_std(hp)),
                     name=name + "attn_c_proj")(h)
    x = layers.Add()([x, layers.Dropout(hp.dropout)(h)])
    h = layers.LayerNormalization(epsilon=hp.layer_norm_epsilon, center=False, name=name + "ln_2")(x)
    h = layers.Dense(4 * hp.n_embd, activation="gelu", use_bias=False, kernel_initializer=normal(hp.init_std),
                     name=name + "c_fc")(h)  # Keras's gelu is the exact (erf) form
    h = layers.Dense(hp.n_embd, use_bias=False, kernel_initializer=normal(projection_std(hp)),
                     name=name + "mlp_c_proj")(h)
    return layers.Add()([x, layers.Dropout(hp.dropout)(h)])


def build(hp):
    idx = keras.Input(shape=(hp.block_size,), dtype="int32")
    wte = TiedEmbedding(hp.symbols, hp.n_embd, embeddings_initializer=normal(hp.init_std), name="wte")
    x = PositionEmbedding(hp.block_size, hp.n_embd, hp.init_std, name="wpe")(wte(idx))
    x = layers.Dropout(hp.dropout)(x)
    for i in range(hp.n_layer):
        x = block(x, hp, i)
    x = layers.LayerNormalization(epsilon=hp.layer_norm_epsilon, center=False, name="ln_f")(x)
    logits = wte(x, reverse=True)  # the tied head: logits (B, T, vocabulary)
    # The output layer the mixed-precision policy keeps in float32 (keras/adapter): an identity on the head's logits,
    # since the head itself is the embedding layer, whose first input is the int32 ids.
    logits = layers.Identity(name="logits")(logits)
    model = keras.Model(idx, logits, name="char_gpt")
    optimizer = AdamW(learning_rate=Schedule(hp), weight_decay=hp.weight_decay, beta_1=hp.beta_1,
                      beta_2=hp.beta_2, epsilon=hp.epsilon, global_clipnorm=hp.grad_clip)
    optimizer.exclude_from_weight_decay(var_names=["gamma"])  # the LayerNorm scales: decay on 2-D weights only
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def probabilities(logits):
    logits = np.asarray(logits, dtype=np.float64)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
