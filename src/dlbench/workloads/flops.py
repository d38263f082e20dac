"""FLOPs per training sample, counted from each workload's declared layers (dlbench.workloads.layers); the peak
table that turns an achieved FLOP rate into MFU (model FLOPs utilisation) is dlbench.peaks.

Two counts, both from the same layer lists:
- **Model FLOPs** (model_flops_per_sample): 3 x the forward pass's matmul and convolution FLOPs, the standard MFU
  convention (the PaLM paper's appendix B: backward = 2 x forward, whatever the implementation skips). Two
  implementations of one model have the same model FLOPs, so MFU compares them fairly. This is what MFU divides.
- **Executed FLOPs** (train_flops_per_sample): forward + the backward matmuls a framework really runs. It leaves
  out the gradients nobody needs (below), so it is at most the model count: mnist_mlp executes 2.4 x its forward
  (its first layer, 784 -> 512, is most of the work and needs no input gradient), char_lstm 2.68 x (its LSTM
  reads one-hot data), the other workloads 2.96-3.0 x. It is what runs.flops_per_sample holds and what PyTorch's
  FlopCounterMode and XLA's cost analysis count (tests/test_flops.py), so it is the figure for an achieved
  hardware rate.

What counts:
- A multiply-add is 2 FLOPs. Only matrix multiplications and convolutions count: elementwise work (activations,
  bias adds, the LSTM/GRU gates' nonlinearities and products, dropout, BatchNorm), pooling, embedding lookups and
  their gradients' scatter-adds, the loss and the optimizer's update are left out. They are memory-bound, small
  next to the matmuls in every workload here but imdb_fasttext (whose only matmul is its Dense 50 -> 1: its
  count is tiny, and its MFU is meaningfully tiny too).
- Forward: a Dense layer n_in -> n_out costs 2 * n_in * n_out per sample; a convolution 2 * k_h * k_w * c_in *
  c_out per output position (the output size after its padding and stride); an LSTM 2 * 4u * (n_in + u) per time
  step (the input and the recurrent projections of its four gates), a GRU 2 * 3u * (n_in + u) (three gates; the
  cuDNN-style reset-after GRU multiplies the same matrices). Bidirectional doubles its layer; TimeDistributed
  multiplies it by the number of slices it runs over.
- Executed backward: the gradient with respect to the weights and the one with respect to the layer's input
  each cost what the forward matmul did, except for gradients nobody needs, which frameworks do not compute and
  the executed count leaves out too:
    * the input gradient of a layer that reads the data (marked `data=True`: a first Dense or convolution, an LSTM
      over pixels or one-hot characters). A layer that reads an Embedding's output does need it: the embedding
      is trained through it.
    * in a recurrent layer, the gradient with respect to the initial state (zeros, not a parameter): its recurrent
      input gradient is needed at steps 2..T only, 2 * G*u * u * (T - 1) (G gates). The forward pass still
      multiplies the zero initial state (every framework does), and so does the weight gradient.
  PyTorch's FlopCounterMode and XLA's cost analysis skip exactly these (tests/test_flops.py checks it).
A training step of a batch costs batch_size times either count. MFU is model FLOPs per second over the device's
dense peak for what ran (dlbench.peaks.peak: the trial's precision and the matmul precision its run read back,
TF32 or strict FP32 for float32 work); an achieved hardware rate is executed FLOPs per second.

Each workload declares its layers once in its own __init__.py (`model_layers(hp)`, in the vocabulary of
dlbench.workloads.layers), which this module walks. It runs in the worker too: plain Python (3.6), no framework.
"""

from dlbench import workloads


def _total(workload_id, hp, cost):
    found = workloads.model_layers(workload_id, hp)
    return None if found is None else sum(cost(layer) for layer in found)


def forward_flops_per_sample(workload_id, hp=None):
    """Matmul and convolution FLOPs of one sample's forward pass; None for a workload without a layer list."""
    return _total(workload_id, hp, lambda layer: layer.forward())


def backward_flops_per_sample(workload_id, hp=None):
    """Matmul and convolution FLOPs of one sample's executed backward pass (the weight gradients and the input
    gradients that are needed); None for a workload without a layer list."""
    return _total(workload_id, hp, lambda layer: layer.backward())


def train_flops_per_sample(workload_id, hp=None):
    """Executed FLOPs of one training sample: forward + the backward matmuls and convolutions that run (the
    optimizer excluded; unneeded input gradients left out, see the module docstring). What runs.flops_per_sample
    holds and what FlopCounterMode / XLA's cost analysis count: the figure for an achieved hardware rate, not for
    MFU (model_flops_per_sample). None for a workload without a layer list (the inference workloads)."""
    return _total(workload_id, hp, lambda layer: layer.forward() + layer.backward())


def model_flops_per_sample(workload_id, hp=None):
    """Model FLOPs of one training sample, the MFU convention: 3 x forward_flops_per_sample (backward = 2 x
    forward, as the PaLM paper's appendix B counts it, whatever gradients an implementation skips). hp may be a
    Hyper, a dict (a run's env["hyperparameters"]) or None (the spec's). None for a workload without a layer
    list."""
    forward = forward_flops_per_sample(workload_id, hp)
    return None if forward is None else 3 * forward
