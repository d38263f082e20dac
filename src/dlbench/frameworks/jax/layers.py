"""Flax NNX layers initialised as Keras initialises them (WORKLOADS.md: Flax's own defaults differ), shared by the
workloads' jax.py files."""
import jax
import jax.numpy as jnp
from flax import nnx


def keras_linear(n_in, n_out, rngs, use_bias=True):
    return nnx.Linear(n_in, n_out, use_bias=use_bias, kernel_init=nnx.initializers.glorot_uniform(),
                      bias_init=nnx.initializers.zeros_init(), rngs=rngs)


def _uniform(low, high):
    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, low, high)
    return init


def keras_embedding(num, dim, rngs):
    return nnx.Embed(num, dim, embedding_init=_uniform(-0.05, 0.05), rngs=rngs)


def unit_forget_bias(units):
    """Keras's unit_forget_bias: zeros, with the forget gate's slice (gate order i, f, g, o) at 1."""
    def init(key, shape, dtype=jnp.float32):
        return jnp.zeros(shape, dtype).at[units:2 * units].set(1.0)
    return init


class KerasLSTM(nnx.Module):
    """Flax's fused LSTM cell (kernel (in, 4 * units) without bias, recurrent kernel (units, 4 * units) with the
    bias: Keras's layout and count) initialised as Keras's LSTM, scanned over time by nnx.RNN (a lax.scan).
    Returns the last hidden state, or every step's with return_sequences; `reverse` reads the sequence backwards
    (Keras's go_backwards: the last state is the one after the first element)."""

    def __init__(self, units_in, units, rngs, return_sequences=False, reverse=False):
        cell = nnx.OptimizedLSTMCell(units_in, units, gate_fn=nnx.sigmoid, activation_fn=nnx.tanh,
                                     kernel_init=nnx.initializers.glorot_uniform(),
                                     recurrent_kernel_init=nnx.initializers.orthogonal(),
                                     bias_init=unit_forget_bias(units), rngs=rngs)
        self.rnn = nnx.RNN(cell, return_carry=True, reverse=reverse, keep_order=True)
        self.return_sequences = return_sequences

    def __call__(self, x):
        (_, h), outputs = self.rnn(x)
        return outputs if self.return_sequences else h


def keras_lstm(units_in, units, rngs, return_sequences=False, reverse=False):
    return KerasLSTM(units_in, units, rngs, return_sequences=return_sequences, reverse=reverse)


def keras_layer_norm(units, epsilon, rngs):
    """nnx.LayerNorm as Keras's LayerNormalization over the last axis: scale (gamma) 1, bias (beta) 0."""
    return nnx.LayerNorm(units, epsilon=epsilon, scale_init=nnx.initializers.ones_init(),
                         bias_init=nnx.initializers.zeros_init(), rngs=rngs)


class KerasMultiHeadAttention(nnx.Module):
    """Keras's MultiHeadAttention(num_heads, key_dim) as self-attention, its weights in Keras's layouts:
    nnx.LinearGeneral query, key and value kernels (dim, heads, key_dim) with biases (heads, key_dim), the output
    kernel (heads, key_dim, dim) with a bias (dim,); glorot_uniform drawn over the flattened (dim, heads * key_dim)
    kernel, as Keras 3 draws it. Without attention dropout (or in inference) the heads run through
    jax.nn.dot_product_attention (scale 1/sqrt(key_dim), its default), which picks the implementation: XLA's on
    the CPU, cuDNN's fused kernel on a GPU where it applies; with dropout in training they are written out, as
    Keras does."""

    def __init__(self, dim, num_heads, key_dim, rngs, dropout=0.0):
        glorot, zeros = nnx.initializers.glorot_uniform(), nnx.initializers.zeros_init()

        def projection():
            return nnx.LinearGeneral(dim, (num_heads, key_dim), kernel_init=glorot, bias_init=zeros, rngs=rngs)
        self.query, self.key, self.value = projection(), projection(), projection()
        self.attention_output = nnx.LinearGeneral((num_heads, key_dim), dim, axis=(-2, -1), kernel_init=glorot,
                                                  bias_init=zeros, rngs=rngs)
        self.dropout = nnx.Dropout(dropout, rngs=rngs)

    def __call__(self, x):
        q, k, v = self.query(x), self.key(x), self.value(x)  # (batch, steps, heads, key_dim)
        if self.dropout.rate > 0 and not self.dropout.deterministic:
            # dropout on the attention weights in training: written out (the fused call has none), as Keras does
            weights = jax.nn.softmax(jnp.einsum("bqnh,bknh->bnqk", q, k) / jnp.sqrt(q.shape[-1]), axis=-1)
            out = jnp.einsum("bnqk,bknh->bqnh", self.dropout(weights), v)
        else:
            out = jax.nn.dot_product_attention(q, k, v)
        return self.attention_output(out)


class KerasNormalization(nnx.Module):
    """Keras's Normalization over the last axis after adapt(): (x - mean) / max(sqrt(variance), 1e-7). Its mean,
    variance and count (0, kept by Keras for old saved models) are nnx.BatchStat: state that no optimizer
    trains, counted in the total as Keras counts them."""

    def __init__(self, mean, variance):
        self.mean = nnx.BatchStat(jnp.asarray(mean, jnp.float32))
        self.variance = nnx.BatchStat(jnp.asarray(variance, jnp.float32))
        self.count = nnx.BatchStat(jnp.zeros((), jnp.int32))

    def __call__(self, x):
        return (x - self.mean[...]) / jnp.maximum(jnp.sqrt(self.variance[...]), 1e-7)
