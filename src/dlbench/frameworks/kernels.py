"""Which recurrent kernel a trial actually ran, read from evidence: the op names of its traced or profiled training
step (PyTorch profiler events such as "aten::lstm", a jaxpr's primitives as "jax:scan", a TensorFlow graph's op
types as "tf:While"), never from a label written beside the model. On a CPU no op names cuDNN, so a CPU run cannot claim it. Python 3.6-safe: the worker uses it.
"""

# (test on a lower-cased op name, label), most specific first: the first rule an op matches names the kernel.
RULES = (
    # Whole words only: cuDNN's mangled convolution kernel names contain "gru" by accident (ImplicitGemm...).
    (lambda op: "cudnn_rnn" in op or "cudnnrnn" in op, "cuDNN RNN"),
    # jax.experimental.rnn's primitives, which Keras's jax backend calls on a GPU; they lower only to cuDNN.
    (lambda op: op in ("jax:rnn_fwd", "jax:rnn_bwd"), "cuDNN RNN"),
    (lambda op: "mkldnn_rnn" in op, "oneDNN fused RNN (CPU)"),
    (lambda op: op == "mxnet:rnn", "MXNet fused RNN op"),
    (lambda op: op in ("aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu"), "ATen RNN (native loop)"),
    (lambda op: "blocklstm" in op or "grublockcell" in op, "TensorFlow fused block LSTM/GRU"),
    (lambda op: op in ("jax:scan", "jax:while"), "XLA while loop (lax.scan)"),
    (lambda op: op in ("tf:while", "tf:statelesswhile"), "graph while loop (tf.while_loop)"),
    (lambda op: op in ("theano:scan", "pytensor:scan"), "symbolic scan loop (theano.scan / pytensor.scan)"),
    (lambda op: op == "cntk:pastvalue", "CNTK recurrent loop (Recurrence: PastValue, step by step)"),
    (lambda op: op == "mxnet:_foreach", "MXNet control-flow loop (contrib.foreach, step by step)"),
    (lambda op: op in ("paddle:rnn", "paddle:rnn_grad"), "Paddle fused rnn op (whole sequence; C++ steps on CPU)"),
)
PER_STEP = "per-step ops (unrolled graph or Python loop)"


def rnn_kernel(ops, recurrent):
    """(label, evidence): the kernel that the op names show, and the ops that show it. A recurrent model whose ops
    name no recurrent kernel and no loop runs its steps as separate ops (unrolled, or a Python loop); a model that
    is not recurrent and shows none gets (None, [])."""
    if not recurrent:  # a CNN's cuDNN convolution kernels are not evidence of any RNN
        return None, []
    names = sorted(set(ops))
    for test, label in RULES:
        evidence = [op for op in names if test(op.lower())]
        if evidence:
            return label, evidence[:5]
    return PER_STEP, []
