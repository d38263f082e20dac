"""Which recurrent kernel (and, for a model with attention, which attention kernel) a trial actually ran, read from evidence: the op names of its traced or profiled training
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


# --- Which attention kernel ---------------------------------------------------------------------------------------
# The same evidence (the op names of one traced or profiled training step) names the attention kernel of a model
# with attention (WorkloadSpec.attention): PyTorch's scaled_dot_product_attention shows the kernel it dispatched to
# as an aten op of its own; JAX's cuDNN path is a primitive of its own (XLA's path on any device is dot_general and
# softmax primitives, fused, or not, by the compiler); native TensorFlow has no fused attention op.
ATTENTION_RULES = (
    (lambda op: "_scaled_dot_product_cudnn_attention" in op, "cuDNN fused attention"),
    (lambda op: op.startswith("jax:") and "dot_product_attention" in op, "cuDNN fused attention"),
    (lambda op: "_scaled_dot_product_flash_attention_for_cpu" in op, "flash attention (CPU)"),
    (lambda op: "_scaled_dot_product_flash_attention" in op or "_flash_attention_forward" in op, "flash attention"),
    (lambda op: "_scaled_dot_product_efficient_attention" in op or "_efficient_attention_forward" in op,
     "memory-efficient attention"),
    (lambda op: "_scaled_dot_product_attention_math" in op, "math (SDPA's unfused fallback)"),
)
# No fused kernel named: the attention ran as its matmuls and a softmax, whose ops are the evidence.
MATH = "math (matmul, softmax, matmul)"
SOFTMAX_OPS = frozenset(["aten::_softmax", "aten::softmax", "tf:softmax", "jax:exp", "jax:reduce_max"])


def attention_kernel(ops, attention):
    """(label, evidence) of the attention kernel the op names show (ATTENTION_RULES, most specific first); a model
    with attention whose ops name no fused kernel ran the unfused math (its softmax ops the evidence); a model
    without attention gets (None, [])."""
    if not attention:
        return None, []
    names = sorted(set(ops))
    for test, label in ATTENTION_RULES:
        evidence = [op for op in names if test(op.lower())]
        if evidence:
            return label, evidence[:5]
    return MATH, [op for op in names if op.lower() in SOFTMAX_OPS][:5]


# --- How many recurrent launches one forward pass makes -------------------------------------------------------------
# A recurrent layer that runs as one loop (lax.scan, tf.while_loop) or one fused kernel (cuDNN, oneDNN, ATen's RNN
# op) is launched once per batch, whatever its length. One that runs step by step outside any loop (an unrolled
# graph, a Python loop over time, Keras 3's TimeDistributed over a static axis, which calls its layer once per
# slice) launches every step's ops: its gate activations (a true sigmoid everywhere, WORKLOADS.md) count them,
# two or three per step. The same model should launch the same order of work in every framework: this is the
# count that shows when one does not (tests/test_rnn_launches.py).
LOOP_OPS = frozenset(["jax:scan", "jax:while", "tf:while", "tf:statelesswhile"])
FUSED_RNN_OPS = frozenset(["aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu", "jax:rnn_fwd",
                           "tf:cudnnrnn", "tf:cudnnrnnv2", "tf:cudnnrnnv3", "tf:blocklstm", "tf:blocklstmv2",
                           "tf:grublockcell"])
STEP_OPS = frozenset(["aten::sigmoid", "jax:logistic", "tf:sigmoid"])


def recurrent_launches(top_ops):
    """top_ops: the names of the ops one forward pass launches at its top level, one entry per launch (a loop's
    body and a fused kernel's insides not listed). Returns {"loops", "fused", "step_ops", "launches"}: loops and
    fused kernels count once each, step ops (gate activations outside any loop) once per launch."""
    names = [op.lower() for op in top_ops]
    counts = {"loops": sum(1 for op in names if op in LOOP_OPS),
              "fused": sum(1 for op in names if op in FUSED_RNN_OPS),
              "step_ops": sum(1 for op in names if op in STEP_OPS)}
    counts["launches"] = counts["loops"] + counts["fused"] + counts["step_ops"]
    return counts


def jaxpr_top_ops(closed_jaxpr):
    """A (closed) jaxpr's primitives as "jax:<name>", one per equation, sub-jaxprs of calls (pjit, custom_vjp,
    remat, cond) included, the bodies of loops (scan, while) not."""
    found = []

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            name = "jax:" + eqn.primitive.name
            found.append(name)
            if name in LOOP_OPS:
                continue
            for value in eqn.params.values():
                for sub in value if isinstance(value, (list, tuple)) else (value,):
                    inner = getattr(sub, "jaxpr", sub)
                    if hasattr(inner, "eqns"):
                        walk(inner)
    walk(getattr(closed_jaxpr, "jaxpr", closed_jaxpr))
    return found


def tf_graph_top_ops(graph_def, outputs=None):
    """A TensorFlow GraphDef's op types as "tf:<type>", one per node, the bodies of the functions it calls
    (PartitionedCall, If) included, the bodies of its loops (While) not. With `outputs` (node names), only the
    top-level nodes they depend on: a traced graph also holds ops that nothing reads (Keras's TensorFlow rnn runs
    its first step once outside the loop to learn the output's shape), which the runtime prunes."""
    library = dict((f.signature.name, f) for f in graph_def.library.function)
    nodes = list(graph_def.node)
    if outputs is not None:
        by_name = dict((node.name, node) for node in nodes)
        needed, stack = set(), list(outputs)
        while stack:
            name = stack.pop().lstrip("^").split(":")[0]
            if name in by_name and name not in needed:
                needed.add(name)
                stack.extend(by_name[name].input)
        nodes = [node for node in nodes if node.name in needed]
    found = []

    def walk(nodes, depth):
        for node in nodes:
            name = "tf:" + node.op
            found.append(name)
            if name.lower() in LOOP_OPS or depth > 20:
                continue
            for key in ("f", "then_branch", "else_branch"):
                if key in node.attr and node.attr[key].func.name in library:
                    walk(library[node.attr[key].func.name].node_def, depth + 1)
    walk(nodes, 0)
    return found


def torch_top_ops(events):
    """PyTorch profiler events (prof.events()) as their names, one per call, the calls made inside a fused RNN op
    left out."""
    found = []
    for event in events:
        parent, inside = getattr(event, "cpu_parent", None), False
        while parent is not None and not inside:
            inside = parent.name.lower() in FUSED_RNN_OPS
            parent = getattr(parent, "cpu_parent", None)
        if not inside:
            found.append(event.name)
    return found

