"""The layer vocabulary a workload declares its model in, once: each layer knows its FLOPs per sample
(dlbench.workloads.flops counts them) and its canonical weights, Keras's names, order and layouts (dlbench verify
loads one set of them into every framework).

A workload's __init__.py returns its layers from `model_layers(hp)`, in the order of the Keras model's
`model.weights` (layers without weights, such as a pool, sit where the model has them: they carry the spatial
sizes along).

Canonical weight layouts (Keras 3's, whatever image layout a backend runs in):
  Dense       kernel (in, out), bias (out,)
  Conv2D      kernel (kh, kw, in, out) HWIO, bias (out,)
  Embedding   embeddings (vocabulary, dim)
  LSTM        kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,), gates i, f, c, o
  GRU         kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u) (input row, recurrent row), gates z, r, h
              (reset_after=True, the cuDNN form)
  BatchNorm   gamma, beta, moving_mean, moving_variance (units,)
A Bidirectional layer lists its forward layer's weights (forward_<name>), then its backward layer's.

Runs in the worker too: plain Python 3.6, no framework and no numpy needed.
"""


def conv_output_size(size, kernel, padding, stride=1):
    """One spatial dimension after a convolution or pooling: "same" keeps ceil(size / stride), "valid" keeps the
    positions where the window fits, (size - kernel) // stride + 1."""
    if padding == "same":
        return -(-size // stride)
    if padding == "valid":
        if size < kernel:
            raise ValueError("a %d-wide window does not fit in %d positions" % (kernel, size))
        return (size - kernel) // stride + 1
    raise ValueError("padding must be 'same' or 'valid', not %r" % (padding,))


class Layer(object):
    """A layer's FLOPs for one sample (forward, and backward split into the weight gradient and the input gradient,
    left out when the layer reads the data: data=True) and its canonical weights [(name, shape)]."""

    kind = None
    name = None
    data = False

    def forward(self):
        return 0

    def weight_grad(self):
        return self.forward()

    def input_grad(self):
        return 0 if self.data else self.forward()

    def backward(self):
        return self.weight_grad() + self.input_grad()

    def weights(self):
        return []


class Dense(Layer):
    """n_in -> n_out (the bias add is elementwise: not counted). flattened_channels: the layer reads a Flatten of
    convolutional features that keeps memory order (Flatten(data_format="channels_last") on every backend), so on a
    channels-first backend its kernel rows are in (C, H, W) order; the number is C (dlbench verify permutes the rows
    when it loads one set of weights there)."""

    kind = "Dense"

    def __init__(self, name, n_in, n_out, bias=True, data=False, flattened_channels=None):
        self.name, self.n_in, self.n_out, self.bias, self.data = name, n_in, n_out, bias, data
        self.flattened_channels = flattened_channels

    def forward(self):
        return 2 * self.n_in * self.n_out

    def weights(self):
        kernel = [(self.name + "/kernel", (self.n_in, self.n_out))]
        return kernel + ([(self.name + "/bias", (self.n_out,))] if self.bias else [])

    def __repr__(self):
        return "Dense(%d -> %d)" % (self.n_in, self.n_out)


class Conv2D(Layer):
    """A k x k convolution of c_in -> c_out channels over an input of `size` (height, width); out_size is what it
    produces after its padding and stride."""

    kind = "Conv2D"

    def __init__(self, name, c_in, c_out, kernel, size, padding="valid", stride=1, data=False):
        self.name, self.c_in, self.c_out, self.kernel, self.size, self.padding, self.stride, self.data = (
            name, c_in, c_out, kernel, tuple(size), padding, stride, data)
        self.out_size = tuple(conv_output_size(n, kernel, padding, stride) for n in self.size)

    def forward(self):
        return 2 * self.kernel * self.kernel * self.c_in * self.c_out * self.out_size[0] * self.out_size[1]

    def weights(self):
        return [(self.name + "/kernel", (self.kernel, self.kernel, self.c_in, self.c_out)),
                (self.name + "/bias", (self.c_out,))]

    def __repr__(self):
        return "Conv2D(%d -> %d, %dx%d %s, %dx%d -> %dx%d)" % (
            self.c_in, self.c_out, self.kernel, self.kernel, self.padding, self.size[0], self.size[1],
            self.out_size[0], self.out_size[1])


class MaxPool2D(Layer):
    """A pool of `pool` x `pool`, stride the pool size, padding valid: no FLOPs counted, it sets the next size."""

    kind = "MaxPool2D"

    def __init__(self, pool, size):
        self.pool, self.size = pool, tuple(size)
        self.out_size = tuple(conv_output_size(n, pool, "valid", pool) for n in self.size)

    def __repr__(self):
        return "MaxPool2D(%d, %dx%d -> %dx%d)" % ((self.pool,) + self.size + self.out_size)


class Embedding(Layer):
    """A lookup (forward) and a scatter-add (its gradient): no FLOPs counted."""

    kind = "Embedding"

    def __init__(self, name, num, dim):
        self.name, self.num, self.dim = name, num, dim

    def weights(self):
        return [(self.name + "/embeddings", (self.num, self.dim))]

    def __repr__(self):
        return "Embedding(%d, %d)" % (self.num, self.dim)


class BatchNorm(Layer):
    """Normalisation with a learned scale and shift and running statistics: elementwise, no FLOPs counted."""

    kind = "BatchNorm"

    def __init__(self, name, units):
        self.name, self.units = name, units

    def weights(self):
        return [(self.name + "/" + a, (self.units,)) for a in ("gamma", "beta", "moving_mean", "moving_variance")]

    def __repr__(self):
        return "BatchNorm(%d)" % self.units


class GlobalAveragePooling1D(Layer):
    """A mean over the sequence: elementwise adds, not counted."""

    kind = "GlobalAveragePooling1D"

    def __repr__(self):
        return "GlobalAveragePooling1D()"


class Recurrent(Layer):
    """A recurrent layer of `gates` gates of `units` each, over `steps` time steps of n_in features: per step the
    input projection (n_in -> gates * units) and the recurrent one (units -> gates * units)."""

    gates = None

    def __init__(self, name, n_in, units, steps, data=False):
        self.name, self.n_in, self.units, self.steps, self.data = name, n_in, units, steps, data

    def _width(self):
        return self.gates * self.units

    def forward(self):
        return 2 * self._width() * (self.n_in + self.units) * self.steps

    def weight_grad(self):
        return self.forward()  # both kernels, every step (the first step's recurrent input is zero but multiplied)

    def input_grad(self):
        recurrent = 2 * self._width() * self.units * (self.steps - 1)  # not for the initial state
        inputs = 0 if self.data else 2 * self._width() * self.n_in * self.steps
        return recurrent + inputs

    def _bias_shape(self):
        return (self._width(),)

    def weights(self):
        return [(self.name + "/kernel", (self.n_in, self._width())),
                (self.name + "/recurrent_kernel", (self.units, self._width())),
                (self.name + "/bias", self._bias_shape())]

    def __repr__(self):
        return "%s(%d -> %d, %d steps)" % (self.kind, self.n_in, self.units, self.steps)


class LSTM(Recurrent):
    gates = 4
    kind = "LSTM"


class GRU(Recurrent):
    """Keras's GRU(reset_after=True), cuDNN's form: its bias holds the input bias, then the recurrent bias (applied
    before the reset gate multiplies it)."""

    gates = 3
    kind = "GRU"

    def _bias_shape(self):
        return (2, self._width())


class SimpleRNN(Recurrent):
    gates = 1
    kind = "SimpleRNN"


class Repeated(Layer):
    """A layer run `times` times per sample with the same weights (TimeDistributed over slices) or with its own
    (Bidirectional: twice)."""

    def __init__(self, layer, times, kind):
        self.layer, self.times, self.kind, self.name = layer, times, kind, layer.name

    def forward(self):
        return self.times * self.layer.forward()

    def weight_grad(self):
        return self.times * self.layer.weight_grad()

    def input_grad(self):
        return self.times * self.layer.input_grad()

    def weights(self):
        if self.kind != "Bidirectional":
            return self.layer.weights()
        inner = self.layer.weights()
        return [(direction + "_" + name, shape) for direction in ("forward", "backward") for name, shape in inner]

    def __repr__(self):
        return "%s(%r)" % (self.kind, self.layer)


def TimeDistributed(layer, times):
    """The layer applied to each of `times` slices of a sample (Keras's TimeDistributed): one set of weights."""
    return Repeated(layer, times, "TimeDistributed")


def Bidirectional(layer):
    """The layer forwards and backwards over the sequence, two sets of weights (Keras's Bidirectional)."""
    return Repeated(layer, 2, "Bidirectional")


# --- the keras.io transformer examples' layers ----------------------------------------------------------------------

class KerasMultiHeadAttention(Layer):
    """Keras's MultiHeadAttention(num_heads, key_dim) as self-attention over `steps` positions of `dim` features,
    biases on. Its weights as Keras stores them: query, key and value kernels (dim, heads, key_dim) with biases
    (heads, key_dim), the output kernel (heads, key_dim, dim) with a bias (dim,).
    Forward per sample: the four projections, 4 x 2 * steps * dim * heads * key_dim, and attention's two batched
    matmuls (Q K^T and the weights times V), 2 x 2 * steps^2 * heads * key_dim. Backward: each projection's weight
    and input gradients cost what its forward did; the two attention matmuls have no weights, and each needs the
    gradient with respect to both of its operands (2 x their forward), counted with the input gradient."""

    kind = "KerasMultiHeadAttention"

    def __init__(self, name, dim, heads, key_dim, steps):
        self.name, self.dim, self.heads, self.key_dim, self.steps = name, dim, heads, key_dim, steps

    def _projections(self):
        return 4 * 2 * self.steps * self.dim * self.heads * self.key_dim

    def _attention(self):
        return 2 * 2 * self.steps * self.steps * self.heads * self.key_dim

    def forward(self):
        return self._projections() + self._attention()

    def weight_grad(self):
        return self._projections()

    def input_grad(self):
        return self._projections() + 2 * self._attention()

    def weights(self):
        found = []
        for projection in ("query", "key", "value"):
            found += [(self.name + "/%s/kernel" % projection, (self.dim, self.heads, self.key_dim)),
                      (self.name + "/%s/bias" % projection, (self.heads, self.key_dim))]
        return found + [(self.name + "/attention_output/kernel", (self.heads, self.key_dim, self.dim)),
                        (self.name + "/attention_output/bias", (self.dim,))]

    def __repr__(self):
        return "KerasMultiHeadAttention(%d heads of %d, %d -> %d, %d steps)" % (
            self.heads, self.key_dim, self.dim, self.dim, self.steps)


class KerasNormalization(Layer):
    """Keras's Normalization over the last axis after adapt(): (x - mean) / max(sqrt(variance), 1e-7), its state
    non-trainable weights mean and variance (units,) and count () (kept by Keras for old saved models, 0 after
    adapt). Elementwise: no FLOPs counted."""

    kind = "KerasNormalization"

    def __init__(self, name, units):
        self.name, self.units = name, units

    def weights(self):
        return [(self.name + "/mean", (self.units,)), (self.name + "/variance", (self.units,)),
                (self.name + "/count", ())]

    def __repr__(self):
        return "KerasNormalization(%d)" % self.units


# --- nanoGPT's layers ----------------------------------------------------------------------------------------------

class LayerNorm(Layer):
    """Layer normalisation over the last axis with a learned scale (gamma) and, when center, a shift (beta):
    elementwise, no FLOPs counted. nanoGPT's LayerNorm(bias=False) is center=False."""

    kind = "LayerNorm"

    def __init__(self, name, units, center=True):
        self.name, self.units, self.center = name, units, center

    def weights(self):
        return [(self.name + "/" + a, (self.units,)) for a in (("gamma", "beta") if self.center else ("gamma",))]

    def __repr__(self):
        return "LayerNorm(%d%s)" % (self.units, "" if self.center else ", no beta")


class CausalSelfAttention(Layer):
    """nanoGPT's CausalSelfAttention over `steps` positions of width `dim` in `heads` heads: a fused q, k, v
    projection (dim -> 3 dim, no bias: qkv_kernel (dim, 3 dim), columns q, k, v, each head's dim/heads columns in
    order), the attention, and the output projection (dim -> dim, no bias: proj_kernel). FLOPs per sample: the two
    projections at every position, plus the two attention matmuls (Q K^T and the weights times V) of 2 x steps^2 x
    dim each, causal counted in full (PaLM's appendix, nanoGPT's estimate_mfu); backward: the projections' weight
    and input gradients, and twice the attention matmuls (both of their operands are activations)."""

    kind = "CausalSelfAttention"

    def __init__(self, name, dim, heads, steps):
        self.name, self.dim, self.heads, self.steps = name, dim, heads, steps

    def _projections(self):
        return self.steps * (2 * self.dim * 3 * self.dim + 2 * self.dim * self.dim)

    def _attention(self):
        return 2 * 2 * self.steps * self.steps * self.dim

    def forward(self):
        return self._projections() + self._attention()

    def weight_grad(self):
        return self._projections()

    def input_grad(self):
        return self._projections() + 2 * self._attention()

    def weights(self):
        return [(self.name + "/qkv_kernel", (self.dim, 3 * self.dim)),
                (self.name + "/proj_kernel", (self.dim, self.dim))]

    def __repr__(self):
        return "CausalSelfAttention(%d wide, %d heads, %d steps)" % (self.dim, self.heads, self.steps)


class TiedHead(Layer):
    """The output head of a model whose token embedding (vocabulary, dim) is also its output matrix: logits = h @
    E^T at each of `steps` positions. No weights of its own (they are the embedding's); 2 x dim x vocabulary FLOPs
    per position, and its weight gradient (into the embedding) as much again."""

    kind = "TiedHead"

    def __init__(self, vocabulary, dim, steps):
        self.vocabulary, self.dim, self.steps = vocabulary, dim, steps

    def forward(self):
        return 2 * self.dim * self.vocabulary * self.steps

    def __repr__(self):
        return "TiedHead(%d -> %d, %d steps)" % (self.dim, self.vocabulary, self.steps)
