"""The layers the native TensorFlow versions of the workloads share, written with tf.Variables.

Native TensorFlow has no layers outside Keras (tf.keras is Keras 3), so these play the part that torch.nn and
flax.nnx play in the other versions. Initialisers as Keras's: kernels glorot_uniform, recurrent kernels
orthogonal, biases zero (an LSTM's forget gate at 1), embeddings U(-0.05, 0.05).
"""
import math

import tensorflow as tf

from dlbench.frameworks.tensorflow.optim import glorot_uniform, orthogonal


def softmax(x, axis=-1):
    """tf.nn.softmax in float32 whatever x's dtype, returned in x's (a half-precision run's attention weights: the
    fused attention kernels and Keras's mixed policy take the softmax in float32 too)."""
    return tf.cast(tf.nn.softmax(tf.cast(x, tf.float32), axis=axis), x.dtype)


def normalized(x, epsilon):
    """(x - mean) / sqrt(variance + epsilon) over the last axis, its statistics in float32 whatever x's dtype (as
    Keras's and Flax's LayerNorms compute them under a half compute dtype), returned in x's dtype."""
    y = tf.cast(x, tf.float32)
    mean, variance = tf.nn.moments(y, axes=[-1], keepdims=True)
    return tf.cast((y - mean) * tf.math.rsqrt(variance + epsilon), x.dtype)


class Dense(tf.Module):
    def __init__(self, units_in, units_out, generator, name, use_bias=True):
        super().__init__(name=name)
        self.kernel = tf.Variable(glorot_uniform(generator, (units_in, units_out)), name="kernel")
        self.bias = tf.Variable(tf.zeros([units_out]), name="bias") if use_bias else None

    def __call__(self, x):
        y = tf.matmul(x, self.kernel)
        return y if self.bias is None else y + self.bias


class Conv2D(tf.Module):
    """A square convolution on NHWC images, stride 1, padding "SAME" or "VALID"."""

    def __init__(self, channels_in, channels_out, kernel, padding, generator, name):
        super().__init__(name=name)
        self.kernel = tf.Variable(glorot_uniform(generator, (kernel, kernel, channels_in, channels_out)), name="kernel")
        self.bias = tf.Variable(tf.zeros([channels_out]), name="bias")
        self.padding = padding

    def __call__(self, x):
        return tf.nn.bias_add(tf.nn.conv2d(x, self.kernel, strides=1, padding=self.padding), self.bias)


class Embedding(tf.Module):
    def __init__(self, num, dim, generator, name):
        super().__init__(name=name)
        self.embeddings = tf.Variable(generator.uniform((num, dim), -0.05, 0.05, dtype=tf.float32), name="embeddings")

    def __call__(self, ids):
        return tf.gather(self.embeddings, ids)


class LSTM(tf.Module):
    """Keras's LSTM: sigmoid gates, tanh candidate and output, gate order i, f, c, o; every step's input projection
    in one matmul. The steps run in a tf.scan (a while loop in the graph), or, with unroll, as a Python loop that
    the tf.function unrolls (worth it for short sequences only). Returns the last hidden state, or every step's
    with return_sequences; go_backwards reads the sequence backwards (Keras: the last state follows the first
    element)."""

    def __init__(self, units_in, units, generator, name, return_sequences=False, go_backwards=False, unroll=False):
        super().__init__(name=name)
        self.units, self.return_sequences, self.go_backwards, self.unroll = units, return_sequences, go_backwards, unroll
        self.kernel = tf.Variable(glorot_uniform(generator, (units_in, 4 * units)), name="kernel")
        self.recurrent_kernel = tf.Variable(orthogonal(generator, (units, 4 * units)), name="recurrent_kernel")
        # unit_forget_bias: zeros, with the forget gate's slice at 1
        self.bias = tf.Variable(tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0),
                                name="bias")

    def step(self, state, z):
        h, c = state
        i, f, g, o = tf.split(z + tf.matmul(h, self.recurrent_kernel), 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    def __call__(self, x):
        inputs = tf.einsum("btf,fg->tbg", x, self.kernel) + self.bias  # time major: (time, batch, 4 * units)
        if self.go_backwards:
            inputs = tf.reverse(inputs, [0])
        zeros = tf.zeros([tf.shape(x)[0], self.units])
        if self.unroll:
            state, hs = (zeros, zeros), []
            for t in range(x.shape[1]):  # a Python loop: unrolled when the tf.function traces it
                state = self.step(state, inputs[t])
                hs.append(state[0])
            hs = tf.stack(hs)
        else:
            hs, _ = tf.scan(self.step, inputs, initializer=(zeros, zeros))
        return tf.transpose(hs, [1, 0, 2]) if self.return_sequences else hs[-1]


class LayerNormalization(tf.Module):
    """Keras's LayerNormalization over the last axis: (x - mean) / sqrt(variance + epsilon) * gamma + beta, gamma
    1 and beta 0 to start."""

    def __init__(self, units, epsilon, name):
        super().__init__(name=name)
        self.epsilon = epsilon
        self.gamma = tf.Variable(tf.ones([units]), name="gamma")
        self.beta = tf.Variable(tf.zeros([units]), name="beta")

    def __call__(self, x):
        return normalized(x, self.epsilon) * self.gamma + self.beta


class MultiHeadAttention(tf.Module):
    """Keras's MultiHeadAttention(num_heads, key_dim) as self-attention, its variables in Keras's layouts: query,
    key and value kernels (dim, heads, key_dim) with biases (heads, key_dim), the output kernel (heads, key_dim,
    dim) with a bias (dim,); glorot_uniform drawn over the flattened (dim, heads * key_dim) kernel, as Keras 3
    draws it. TensorFlow has no fused attention outside Keras: softmax(Q K^T / sqrt(key_dim)) V written out, dropout on
    the attention weights in training."""

    def __init__(self, dim, num_heads, key_dim, generator, name, dropout=0.0):
        super().__init__(name=name)
        self.key_dim, self.dropout = key_dim, dropout
        self.query = self.projection(generator, dim, num_heads, key_dim, "query")
        self.key = self.projection(generator, dim, num_heads, key_dim, "key")
        self.value = self.projection(generator, dim, num_heads, key_dim, "value")
        kernel = tf.reshape(glorot_uniform(generator, (num_heads * key_dim, dim)), (num_heads, key_dim, dim))
        self.attention_output = _Projection(kernel, tf.zeros([dim]), "attention_output")

    @staticmethod
    def projection(generator, dim, num_heads, key_dim, name):
        kernel = tf.reshape(glorot_uniform(generator, (dim, num_heads * key_dim)), (dim, num_heads, key_dim))
        return _Projection(kernel, tf.zeros([num_heads, key_dim]), name)

    def __call__(self, x, training=False):
        q = tf.einsum("btd,dnh->btnh", x, self.query.kernel) + self.query.bias
        k = tf.einsum("btd,dnh->btnh", x, self.key.kernel) + self.key.bias
        v = tf.einsum("btd,dnh->btnh", x, self.value.kernel) + self.value.bias
        weights = softmax(tf.einsum("bqnh,bknh->bnqk", q, k) / math.sqrt(self.key_dim), axis=-1)
        weights = tf.nn.dropout(weights, self.dropout) if training and self.dropout > 0 else weights
        out = tf.einsum("bnqk,bknh->bqnh", weights, v)
        return tf.einsum("btnh,nhd->btd", out, self.attention_output.kernel) + self.attention_output.bias


class _Projection(tf.Module):
    """One of an attention layer's four projections: a kernel and a bias, in Keras's layouts."""

    def __init__(self, kernel, bias, name):
        super().__init__(name=name)
        self.kernel = tf.Variable(kernel, name="kernel")
        self.bias = tf.Variable(bias, name="bias")


class Normalization(tf.Module):
    """Keras's Normalization over the last axis after adapt(): (x - mean) / max(sqrt(variance), 1e-7); its mean,
    variance and count (0, kept by Keras for old saved models) are variables that are not trained."""

    def __init__(self, mean, variance, name):
        super().__init__(name=name)
        self.mean = tf.Variable(tf.constant(mean, tf.float32), trainable=False, name="mean")
        self.variance = tf.Variable(tf.constant(variance, tf.float32), trainable=False, name="variance")
        self.count = tf.Variable(tf.zeros([], tf.int64), trainable=False, name="count")

    def __call__(self, x):
        return (x - self.mean) / tf.maximum(tf.sqrt(self.variance), 1e-7)
