"""The same recurrent work in every framework: how many recurrent launches one forward pass makes.

A recurrent layer that runs as one loop (lax.scan, tf.while_loop) or one fused kernel (oneDNN's or cuDNN's RNN)
is launched once per batch whatever its length; one that runs step by step outside any loop (an unrolled graph, a
Python loop over time, Keras 3's TimeDistributed over a static axis) launches every step's gate activations
(dlbench.frameworks.kernels.recurrent_launches). Each framework's real model (built by its real trainer, as a
benchmark builds it) is traced or profiled for one forward pass in training mode on the workload's synthetic data,
and the count is held to the spec's structure (the workload's model_layers: how many recurrent layers, how many
serial steps):
- a framework with a loop or a fused kernel: at most 2 launches per recurrent layer, plus one (an output sigmoid
  outside the recurrence, as imdb_bilstm's);
- Keras's torch backend, whose recurrence on a CPU is a Python loop over the steps (it hands LSTM and GRU to
  cuDNN on a GPU only): no loop, and at most 4 activations per serial step (an LSTM's cell has 3, a GRU's 2).
This caught two defects: mnist_hrnn's Keras model ran its row LSTM under Keras 3's TimeDistributed, 28 LSTM calls
per batch (29 loops on jax and tensorflow where the layers allow 5, 2,436 activations on torch where 56 serial
steps allow 225), and its native TensorFlow model unrolled both LSTMs (168 activations, no loop).
"""
import json
import os
import subprocess
import sys

import pytest

from dlbench import workloads
from dlbench.workloads import layers as vocabulary
from dlbench.frameworks.kernels import FUSED_RNN_OPS, LOOP_OPS, STEP_OPS, recurrent_launches

from conftest import MODERN, require_framework

RECURRENT = [w for w in workloads.TRAINING_IDS if workloads.get(w).SPEC.recurrent]
PER_STEP_ON_CPU = {"keras-torch"}  # Keras's torch backend: a Python loop over the steps on a CPU

SCRIPT = """
import json, sys
import numpy as np
from dlbench import data, frameworks, workloads
from dlbench.frameworks.adapter import InputPipeline
from dlbench.frameworks.kernels import recurrent_launches
from dlbench.worker.settings import TrialSettings
framework, ids = sys.argv[1], sys.argv[2].split(",")
settings = TrialSettings(threads=1, device="cpu", seed=0, tier="default")
adapter = frameworks.load_adapter(framework)
adapter.configure(settings)
adapter.load(settings)
out = {}
for workload_id in ids:
    workload = workloads.get(workload_id)
    spec = workload.SPEC
    dataset = data.dataset_module(spec.dataset).load("synthetic", 64, seed=0)
    train, _ = workload.splits(dataset, adapter.layout)
    spec = spec.with_hp(workload.hyper(dataset))
    module = workloads.framework_module(workload_id, framework)
    trainer = adapter.trainer(module, spec, settings, InputPipeline(None, adapter.layout))
    out[workload_id] = recurrent_launches(trainer.forward_top_ops(train.take(np.arange(4)).inputs))
print("LAUNCHES " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def launches():
    """framework -> workload -> recurrent_launches(), one process per framework (Keras's backend is fixed at its
    import)."""
    cache = {}

    def get(framework):
        if framework not in cache:
            env = dict(os.environ, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
            if framework.startswith("keras-"):
                env["KERAS_BACKEND"] = framework.split("-", 1)[1]
            result = subprocess.run([sys.executable, "-c", SCRIPT, framework, ",".join(RECURRENT)],
                                    capture_output=True, text=True, env=env, timeout=1200)
            assert result.returncode == 0, result.stderr[-3000:]
            line = [l for l in result.stdout.splitlines() if l.startswith("LAUNCHES ")][-1]
            cache[framework] = json.loads(line[len("LAUNCHES "):])
        return cache[framework]
    return get


def structure(workload_id):
    """(recurrent layers, serial steps) of the spec's model: a Bidirectional layer is two layers and twice the
    steps; a TimeDistributed one is its layer once (one run over batch x slices, Keras 2's reshape path)."""
    layers = steps = 0
    for layer in workloads.model_layers(workload_id):
        times = 1
        if isinstance(layer, vocabulary.Repeated):
            times = layer.times if layer.kind == "Bidirectional" else 1
            layer = layer.layer
        if isinstance(layer, vocabulary.Recurrent):
            layers += times
            steps += times * layer.steps
    return layers, steps


def test_every_recurrent_workload_is_counted():
    assert set(RECURRENT) >= {"mnist_hrnn", "imdb_gru", "imdb_bilstm", "char_lstm", "char_embed_lstm", "babi_rnn"}
    assert structure("mnist_hrnn") == (2, 56)
    assert structure("imdb_bilstm") == (2, 200)


@pytest.mark.parametrize("framework", MODERN)
def test_recurrent_launches_are_of_the_same_order_in_every_framework(launches, framework):
    require_framework(framework)
    found = launches(framework)
    for workload_id in RECURRENT:
        counts, (layers, steps) = found[workload_id], structure(workload_id)
        if framework in PER_STEP_ON_CPU:
            assert counts["loops"] + counts["fused"] == 0, (workload_id, counts)
            assert steps <= counts["step_ops"] <= 4 * steps + 1, (workload_id, counts, steps)
        else:
            assert 1 <= counts["loops"] + counts["fused"] <= 2 * layers, (workload_id, counts, layers)
            assert counts["launches"] <= 2 * layers + 1, (workload_id, counts, layers)


def test_the_count_itself():
    """Loops and fused kernels count once, activations once each; case does not matter; other ops not at all."""
    ops = ["jax:scan", "tf:While", "aten::lstm", "tf:CudnnRNNV3", "aten::sigmoid", "jax:logistic", "tf:Sigmoid",
           "aten::mm", "jax:dot_general", "tf:MatMul"]
    assert recurrent_launches(ops) == {"loops": 2, "fused": 2, "step_ops": 3, "launches": 7}
    assert LOOP_OPS.isdisjoint(FUSED_RNN_OPS) and STEP_OPS.isdisjoint(FUSED_RNN_OPS | LOOP_OPS)


def test_a_jax_loop_counts_once_and_an_unrolled_one_per_step():
    require_framework("jax")
    import jax
    import jax.numpy as jnp

    from dlbench.frameworks.kernels import jaxpr_top_ops

    def scanned(x):
        return jax.lax.scan(lambda h, x_t: (jax.nn.sigmoid(h + x_t), None), jnp.zeros(3), x)[0]

    def unrolled(x):
        h = jnp.zeros(3)
        for t in range(x.shape[0]):
            h = jax.nn.sigmoid(h + x[t])
        return h
    x = jnp.ones((7, 3))
    assert recurrent_launches(jaxpr_top_ops(jax.make_jaxpr(jax.jit(scanned))(x)))["launches"] == 1
    assert recurrent_launches(jaxpr_top_ops(jax.make_jaxpr(unrolled)(x))) == {"loops": 0, "fused": 0,
                                                                             "step_ops": 7, "launches": 7}


def test_a_tensorflow_loop_counts_once_and_ops_nothing_reads_do_not_count():
    require_framework("tensorflow")
    import tensorflow as tf

    from dlbench.frameworks.kernels import tf_graph_top_ops

    def ops(function, x):
        graph = tf.function(function).get_concrete_function(x).graph
        return recurrent_launches(tf_graph_top_ops(graph.as_graph_def(), [t.op.name for t in graph.outputs]))

    def scanned(x):
        tf.sigmoid(x)  # traced, read by nothing: pruned
        return tf.scan(lambda h, x_t: tf.sigmoid(h + x_t), x, initializer=tf.zeros([3]))[-1]

    def unrolled(x):
        h = tf.zeros([3])
        for t in range(7):
            h = tf.sigmoid(h + x[t])
        return h
    x = tf.ones([7, 3])
    assert ops(scanned, x) == {"loops": 1, "fused": 0, "step_ops": 0, "launches": 1}
    assert ops(unrolled, x)["step_ops"] == 7


def test_a_torch_fused_rnn_counts_once_and_a_python_loop_per_step():
    require_framework("torch")
    import torch

    from dlbench.frameworks.kernels import torch_top_ops
    from torch.profiler import ProfilerActivity, profile

    def ops(run):
        with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
            run()
        return recurrent_launches(torch_top_ops(prof.events()))

    lstm, x = torch.nn.LSTM(3, 4, batch_first=True), torch.ones(2, 7, 3)

    def loop():
        h = torch.zeros(2, 3)
        for t in range(7):
            h = torch.sigmoid(h + x[:, t])
    assert ops(lambda: lstm(x)) == {"loops": 0, "fused": 1, "step_ops": 0, "launches": 1}
    assert ops(loop)["step_ops"] == 7
