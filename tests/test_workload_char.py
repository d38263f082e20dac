"""char_lstm and char_embed_lstm in every training framework, and the generated-text check.

1. End to end: the real CLI trains both workloads in all six frameworks on synthetic Nietzsche-shaped data (random
   characters: 256 windows, 2 epochs); each test reads the store: status ok, the spec's parameter counts (total and
   trainable), finite losses.
2. The same function: the native versions (torch, jax, tensorflow) and Keras on each backend, given one set of
   weights, compute a NumPy reference of the spec's model: the LSTM's gates, the one-hot and embedding inputs, both
   heads of char_embed_lstm and its BatchNorms, in inference mode (moving statistics) and in training mode (the
   batch's statistics, and the moving statistics' update: Keras's momentum 0.99 everywhere).
3. The same initialisers: Embedding U(-0.05, 0.05), BatchNorm gamma 1, beta 0, moving mean 0 and variance 1, and
   Keras 2's per-step decay of Adam's learning rate.
4. The generated text: the Keras example's sampling, and the bigram check: a random string fails, an excerpt of the
   corpus passes, an untrained model's sample fails (about 38%, as random characters), a model trained for a
   few hundred steps passes.
A slow check trains char_lstm on the real corpus in every framework (its loss falls) and checks the samples.
"""
import json
import math
import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from dlbench.data import nietzsche
from dlbench.store import Store
from dlbench.workloads import char_embed_lstm, char_lstm, textgen

from conftest import dlbench, require_framework
from numpy_reference import reference_lstm, softmax

FRAMEWORKS = ["keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow"]
NATIVE = ["torch", "jax", "tensorflow"]
KERAS = [f for f in FRAMEWORKS if f.startswith("keras-")]
WORKLOADS = {"char_lstm": char_lstm, "char_embed_lstm": char_embed_lstm}


@pytest.fixture(scope="module")
def corpus():
    return nietzsche.load("small")


# --- end to end ----------------------------------------------------------------------------------------------------

def run_suite(folder, workload, data, samples, epochs, threads=1):
    store_path = folder / ("%s-%s.sqlite" % (workload, data))
    result = dlbench("run", "--workloads", workload, "--frameworks", "all", "--data", data, "--samples", samples,
                     "--epochs", epochs, "--repeats", 1, "--threads", threads, "--store", store_path, timeout=7200)
    store = Store(store_path)
    runs = store.runs()
    with sqlite3.connect(str(store_path)) as db:  # the generated text stored with each run
        samples = {row[0]: {"text": row[1], "bigram_share": row[2], "ok": bool(row[3]), "reason": row[4]}
                   for row in db.execute("SELECT run_id, text, bigram_share, ok, reason FROM samples")}
    return {"result": result, "runs": runs, "epochs": store.epochs([r["id"] for r in runs]), "samples": samples}


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("char")
    cache = {}

    def get(workload, data, samples, epochs):
        key = (workload, data, samples, epochs)
        if key not in cache:
            cache[key] = run_suite(folder, workload, data, samples, epochs)
        return cache[key]
    return get


def the_run(suite, framework):
    assert suite["result"].returncode == 0, suite["result"].stderr[-3000:]
    runs = [r for r in suite["runs"] if r["framework"] == framework]
    assert len(runs) == 1
    assert runs[0]["status"] == "ok", (runs[0]["error"], runs[0]["detail"])
    return runs[0], suite["epochs"][runs[0]["id"]]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("workload", ["char_lstm", "char_embed_lstm"])
def test_trains_in_every_framework(suites, workload, framework):
    require_framework(framework)
    spec = WORKLOADS[workload].SPEC
    run, epochs = the_run(suites(workload, "synthetic", 256, 2), framework)
    assert run["params_total"] == spec.params and run["params_trainable"] == spec.trainable_params
    assert run["env"]["n_train"] == 256
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        assert e["train_seconds"] > 0 and math.isfinite(e["loss"]) and math.isfinite(e["val_loss"])
        assert 0 <= e["accuracy"] <= 1
    # random characters: the loss starts near log(57) (plus 0.2 log(57) for the aux head; 5.13-5.23 in the six
    # frameworks for char_embed_lstm) and stays near it. The validation pass re-reads every 20th training window
    # (in-sample: 13 of these 256), so after 4 steps at RMSprop's lr 0.01 it can dip below log(57) (3.74 seen on
    # keras-tensorflow), never far
    start = math.log(57) * (1.2 if workload == "char_embed_lstm" else 1.0)
    assert start - 0.3 < epochs[0]["loss"] < start + 0.6, epochs[0]["loss"]
    assert start - 0.6 < epochs[-1]["val_loss"] < start + 0.3, epochs[-1]["val_loss"]
    # the sample is stored with the run; synthetic data is not checked
    sample = suites(workload, "synthetic", 256, 2)["samples"][run["id"]]
    assert len(sample["text"]) == 400 and sample["ok"] and "synthetic" in sample["reason"]


def test_the_target_is_the_original_s_training_loss():
    """The originals train on every window and report a training loss (char_lstm's ~1.40 after 10 epochs): the
    target is compared with the epoch's training loss (target_on "train"), and an epoch is all 200,285 windows."""
    from dlbench.workloads.spec import WorkloadSpec

    assert (char_lstm.SPEC.metric, char_lstm.SPEC.target, char_lstm.SPEC.target_on) == ("loss", 1.40, "train")
    assert char_embed_lstm.SPEC.target_on == "train"
    assert char_lstm.SPEC.describe()["target_on"] == "train"
    assert WorkloadSpec("w", "", "mnist", 1, 1, 1, 1, None).target_on == "validation"  # every other workload
    with pytest.raises(ValueError, match="target_on"):
        WorkloadSpec("w", "", "mnist", 1, 1, 1, 1, None, target_on="val")
    train, val = char_lstm.splits(nietzsche.load("real"), "channels_last")
    assert train.n == 200285 and val.n == 10015  # validation: every 20th training window, in-sample


def test_spec_parameter_counts_follow_the_arithmetic():
    assert char_lstm.SPEC.params == 4 * 128 * (57 + 128 + 1) + 128 * 57 + 57 == 102585
    count = (57 * 300 + 4 * 128 * (300 + 128 + 1) + (128 * 57 + 57) + 128 * 512 + 4 * 512 + 512 * 256 + 4 * 256
             + 256 * 57 + 57)
    assert char_embed_lstm.SPEC.params == count == 458430
    assert char_embed_lstm.SPEC.params - char_embed_lstm.SPEC.trainable_params == 2 * (512 + 256) == 1536


# --- the same function in every framework ------------------------------------------------------------------------

def reference_weights(workload, seed=0):
    """Random weights by layer name, in Keras's layout (LSTM kernel (in, 4u), recurrent (u, 4u), bias (4u), gates
    i, f, c, o; Dense (in, out); BatchNorm gamma, beta, moving mean, moving variance), large enough that every gate
    and both BatchNorm statistics matter."""
    rng = np.random.RandomState(seed)

    def normal(*shape, scale=1.0):
        fan_in = shape[0] if len(shape) > 1 else 4
        return (rng.normal(size=shape) * scale * 1.5 / np.sqrt(fan_in)).astype(np.float32)
    if workload == "char_lstm":
        # a one-hot input picks one row of the kernel: rows of standard deviation 1
        return {"lstm": [normal(57, 512, scale=np.sqrt(57) / 1.5), normal(128, 512), normal(512)],
                "dense": [normal(128, 57, scale=2.0), normal(57)]}

    def norm(units):
        values = [1 + 0.3 * rng.normal(size=units), 0.3 * rng.normal(size=units), 0.5 * rng.normal(size=units),
                  rng.uniform(0.5, 2.0, size=units)]  # gamma, beta, moving mean, moving variance
        return [v.astype(np.float32) for v in values]
    return {"embedding": [rng.uniform(-1, 1, size=(57, 300)).astype(np.float32)],
            "lstm": [normal(300, 512), normal(128, 512), normal(512)],
            "aux_out": [normal(128, 57, scale=2.0), normal(57)],
            "dense1": [normal(128, 512)], "norm1": norm(512),
            "dense2": [normal(512, 256)], "norm2": norm(256),
            "main_out": [normal(256, 57, scale=2.0), normal(57)]}


def reference_windows(count=8):
    return nietzsche.load("small", samples=count).x_train  # real text, int32 (count, 40)


def reference_outputs(workload, weights, windows, training=False):
    """Logits: char_lstm's, or char_embed_lstm's (main, aux); in training mode also the BatchNorms' batch (mean,
    biased variance)."""
    w = {k: [a.astype(np.float64) for a in v] for k, v in weights.items()}
    if workload == "char_lstm":
        h = reference_lstm(np.eye(57)[windows], *w["lstm"])
        return h @ w["dense"][0] + w["dense"][1]
    h = reference_lstm(w["embedding"][0][windows], *w["lstm"])
    stats = []

    def norm(x, gamma, beta, mean, variance):
        if training:
            mean, variance = x.mean(axis=0), x.var(axis=0)
            stats.append((mean, variance))
        return gamma * (x - mean) / np.sqrt(variance + 1e-3) + beta
    x = np.maximum(norm(h @ w["dense1"][0], *w["norm1"]), 0)
    x = np.maximum(norm(x @ w["dense2"][0], *w["norm2"]), 0)
    outputs = (x @ w["main_out"][0] + w["main_out"][1], h @ w["aux_out"][0] + w["aux_out"][1])
    return (outputs, stats) if training else outputs


def native_model(framework, workload, weights):
    """The native version built and loaded with the reference weights; returns (model, forward(windows, training)
    -> numpy outputs, moving statistics () -> [(mean, variance)] of the BatchNorms)."""
    module = WORKLOADS[workload]
    hp = module.SPEC.hp
    encode = char_lstm.one_hot if workload == "char_lstm" else (lambda windows: windows)
    if framework == "torch":
        import torch
        version = __import__("dlbench.workloads.%s.torch" % workload, fromlist=["build"])
        model = version.build(hp)[0]
        state = {"lstm.weight_ih_l0": weights["lstm"][0].T, "lstm.weight_hh_l0": weights["lstm"][1].T,
                 "lstm.bias_ih_l0": weights["lstm"][2], "lstm.bias_hh_l0": np.zeros(512, np.float32)}
        if workload == "char_lstm":
            state.update({"dense.weight": weights["dense"][0].T, "dense.bias": weights["dense"][1]})
        else:
            state.update({"embedding.weight": weights["embedding"][0],
                          "aux.weight": weights["aux_out"][0].T, "aux.bias": weights["aux_out"][1],
                          "main.weight": weights["main_out"][0].T, "main.bias": weights["main_out"][1],
                          "dense1.weight": weights["dense1"][0].T, "dense2.weight": weights["dense2"][0].T})
            for name in ("norm1", "norm2"):
                gamma, beta, mean, variance = weights[name]
                state.update({name + ".weight": gamma, name + ".bias": beta, name + ".running_mean": mean,
                              name + ".running_var": variance, name + ".num_batches_tracked": np.array(0)})
        model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})

        def forward(windows, training):
            model.train(training)
            with torch.no_grad():
                out = model(torch.from_numpy(np.ascontiguousarray(encode(windows))))
            return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()

        def moving():
            return [(n.running_mean.numpy().copy(), n.running_var.numpy().copy()) for n in (model.norm1, model.norm2)]
        return model, forward, moving
    if framework == "jax":
        import jax.numpy as jnp
        from flax import nnx
        version = __import__("dlbench.workloads.%s.jax" % workload, fromlist=["build"])
        model = version.build(hp, nnx.Rngs(params=0, dropout=1))[0]
        cell = model.lstm.rnn.cell
        pairs = [(cell.dense_i.kernel, weights["lstm"][0]), (cell.dense_h.kernel, weights["lstm"][1]),
                 (cell.dense_h.bias, weights["lstm"][2])]
        if workload == "char_lstm":
            pairs += [(model.dense.kernel, weights["dense"][0]), (model.dense.bias, weights["dense"][1])]
        else:
            pairs += [(model.embedding.embedding, weights["embedding"][0]),
                      (model.aux.kernel, weights["aux_out"][0]), (model.aux.bias, weights["aux_out"][1]),
                      (model.main.kernel, weights["main_out"][0]), (model.main.bias, weights["main_out"][1]),
                      (model.dense1.kernel, weights["dense1"][0]), (model.dense2.kernel, weights["dense2"][0])]
            for norm, values in ((model.norm1, weights["norm1"]), (model.norm2, weights["norm2"])):
                pairs += list(zip((norm.scale, norm.bias, norm.mean, norm.var), values))
        for variable, value in pairs:
            assert variable[...].shape == value.shape
            variable[...] = jnp.asarray(value)

        def forward(windows, training):
            model.train() if training else model.eval()
            out = model(jnp.asarray(encode(windows)))
            return tuple(np.asarray(o) for o in out) if isinstance(out, tuple) else np.asarray(out)

        def moving():
            return [(np.asarray(n.mean[...]), np.asarray(n.var[...])) for n in (model.norm1, model.norm2)]
        return model, forward, moving
    import tensorflow as tf
    version = __import__("dlbench.workloads.%s.tensorflow" % workload, fromlist=["build"])
    model = version.build(hp, tf.random.Generator.from_seed(0))[0]
    pairs = list(zip((model.lstm.kernel, model.lstm.recurrent_kernel, model.lstm.bias), weights["lstm"]))
    if workload == "char_lstm":
        pairs += list(zip((model.dense.kernel, model.dense.bias), weights["dense"]))
    else:
        pairs += [(model.embedding.embeddings, weights["embedding"][0]),
                  (model.aux.kernel, weights["aux_out"][0]), (model.aux.bias, weights["aux_out"][1]),
                  (model.main.kernel, weights["main_out"][0]), (model.main.bias, weights["main_out"][1]),
                  (model.dense1.kernel, weights["dense1"][0]), (model.dense2.kernel, weights["dense2"][0])]
        for norm, values in ((model.norm1, weights["norm1"]), (model.norm2, weights["norm2"])):
            pairs += list(zip((norm.gamma, norm.beta, norm.moving_mean, norm.moving_variance), values))
    for variable, value in pairs:
        variable.assign(value)
    compiled = {flag: tf.function(lambda x, flag=flag: model(x, training=flag)) for flag in (False, True)}

    def forward(windows, training):
        out = compiled[training](tf.constant(encode(windows)))
        return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()

    def moving():
        return [(n.moving_mean.numpy(), n.moving_variance.numpy()) for n in (model.norm1, model.norm2)]
    return model, forward, moving


def assert_outputs_close(found, expected, atol):
    found = found if isinstance(found, tuple) else (found,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(found) == len(expected)
    for f, e in zip(found, expected):
        np.testing.assert_allclose(f, e, rtol=0, atol=atol)


@pytest.mark.parametrize("framework", NATIVE)
@pytest.mark.parametrize("workload", ["char_lstm", "char_embed_lstm"])
def test_native_version_computes_the_reference_model(workload, framework):
    require_framework(framework)
    weights, windows = reference_weights(workload), reference_windows()
    expected = reference_outputs(workload, weights, windows)
    for logits in (expected if isinstance(expected, tuple) else (expected,)):
        assert logits.std() > 1.0  # large enough that a wrong gate, order or statistic shows
    _, forward, _ = native_model(framework, workload, weights)
    assert_outputs_close(forward(windows, False), expected, atol=2e-3)


@pytest.mark.parametrize("framework", NATIVE)
def test_native_batchnorm_trains_on_batch_statistics_with_keras_momentum(framework):
    """Training mode normalises by the batch's mean and biased variance, and moves the moving statistics by
    0.01 of the way (Keras's momentum 0.99), towards the biased batch variance in every framework (PyTorch's
    KerasBatchNorm1d, not nn.BatchNorm1d's unbiased one)."""
    require_framework(framework)
    weights, windows = reference_weights("char_embed_lstm"), reference_windows(16)
    expected, stats = reference_outputs("char_embed_lstm", weights, windows, training=True)
    _, forward, moving = native_model(framework, "char_embed_lstm", weights)
    assert_outputs_close(forward(windows, True), expected, atol=2e-3)
    for (mean, variance), (batch_mean, batch_variance), name in zip(moving(), stats, ("norm1", "norm2")):
        start_mean, start_variance = weights[name][2], weights[name][3]
        np.testing.assert_allclose(mean, 0.99 * start_mean + 0.01 * batch_mean, rtol=0, atol=1e-4)
        np.testing.assert_allclose(variance, 0.99 * start_variance + 0.01 * batch_variance, rtol=1e-4, atol=1e-4)


KERAS_SCRIPT = """
import json, sys
import numpy as np
import keras
from dlbench.workloads import char_embed_lstm, char_lstm
from importlib import import_module
payload = json.loads(sys.stdin.read())
windows = np.asarray(payload["windows"], dtype="int32")
out = {}
for workload, module in (("char_lstm", char_lstm), ("char_embed_lstm", char_embed_lstm)):
    model = import_module("dlbench.workloads.%s.keras" % workload).build(module.SPEC.hp)
    out[workload + "_counts"] = [model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights)]
    for name, values in payload[workload].items():
        model.get_layer(name).set_weights([np.asarray(v, dtype="float32") for v in values])
    x = char_lstm.one_hot(windows) if workload == "char_lstm" else windows
    found = model.predict(x, verbose=0)
    out[workload] = [np.asarray(a).tolist() for a in found] if isinstance(found, list) else np.asarray(found).tolist()
print(json.dumps(out))
"""


@pytest.mark.parametrize("framework", KERAS)
def test_keras_computes_the_reference_model_on_every_backend(framework):
    require_framework(framework)
    windows = reference_windows()
    weights = {w: reference_weights(w) for w in WORKLOADS}
    payload = {w: {name: [a.tolist() for a in values] for name, values in weights[w].items()} for w in WORKLOADS}
    payload["windows"] = windows.tolist()
    env = dict(os.environ, KERAS_BACKEND=framework.split("-", 1)[1], JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="",
               TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", KERAS_SCRIPT], input=json.dumps(payload), capture_output=True,
                            text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])
    for workload, module in WORKLOADS.items():
        assert found[workload + "_counts"] == [module.SPEC.params, module.SPEC.trainable_params]
        expected = reference_outputs(workload, weights[workload], windows)
        if workload == "char_lstm":
            np.testing.assert_allclose(np.asarray(found[workload]), softmax(expected), rtol=0, atol=1e-4)
        else:  # (main, aux) probabilities
            for f, e in zip(found[workload], expected):
                np.testing.assert_allclose(np.asarray(f), softmax(e), rtol=0, atol=1e-4)


# --- the same initialisers and optimizer schedule ------------------------------------------------------------------

@pytest.mark.parametrize("framework", NATIVE)
def test_native_char_embed_lstm_starts_as_keras_does(framework):
    require_framework(framework)
    hp = char_embed_lstm.SPEC.hp
    if framework == "torch":
        from dlbench.workloads.char_embed_lstm import torch as version
        model, optimizer, schedule = version.build(hp)
        embedding = model.embedding.weight.detach().numpy()
        norms = [[a.detach().numpy() for a in (n.weight, n.bias, n.running_mean, n.running_var)]
                 for n in (model.norm1, model.norm2)]
        assert model.dense1.bias is None and model.dense2.bias is None
        assert all(abs(n.momentum - 0.01) < 1e-12 and n.eps == 1e-3 for n in (model.norm1, model.norm2))
        # Keras 2's decay: lr / (1 + 1e-4 t) after t steps
        for step in range(3):
            assert math.isclose(optimizer.param_groups[0]["lr"], 1e-3 / (1 + 1e-4 * step), rel_tol=1e-12)
            optimizer.step()
            schedule.step()
    elif framework == "jax":
        from flax import nnx

        from dlbench.workloads.char_embed_lstm import jax as version
        model, _ = version.build(hp, nnx.Rngs(params=0, dropout=1))
        embedding = np.asarray(model.embedding.embedding[...])
        norms = [[np.asarray(a[...]) for a in (n.scale, n.bias, n.mean, n.var)] for n in (model.norm1, model.norm2)]
        assert model.dense1.bias is None and model.dense2.bias is None
        assert all(n.momentum == 0.99 and n.epsilon == 1e-3 for n in (model.norm1, model.norm2))
    else:
        import tensorflow as tf

        from dlbench.workloads.char_embed_lstm import tensorflow as version
        model, optimizer = version.build(hp, tf.random.Generator.from_seed(0))
        embedding = model.embedding.embeddings.numpy()
        norms = [[a.numpy() for a in (n.gamma, n.beta, n.moving_mean, n.moving_variance)]
                 for n in (model.norm1, model.norm2)]
        assert model.dense1.bias is None and model.dense2.bias is None
        assert optimizer.decay == 1e-4
    assert embedding.shape == (57, 300) and np.abs(embedding).max() <= 0.05 and np.abs(embedding).max() > 0.049
    assert abs(embedding.mean()) < 0.005
    for (gamma, beta, mean, variance), units in zip(norms, (512, 256)):
        assert gamma.shape == (units,)
        assert np.all(gamma == 1) and np.all(beta == 0) and np.all(mean == 0) and np.all(variance == 1)


# --- generated text ------------------------------------------------------------------------------------------------

def test_a_random_string_fails_and_corpus_excerpts_pass(corpus):
    rng = np.random.RandomState(0)
    text = corpus.meta["corpus"]
    chars = corpus.meta["chars"]
    for _ in range(20):
        garbage = "".join(rng.choice(list(chars), 400))
        verdict = char_lstm.check_sample(garbage, corpus)
        assert not verdict["ok"] and verdict["bigram_share"] < 0.55, verdict
        assert "garbage" in verdict["reason"] and "\n" not in verdict["reason"]
        start = rng.randint(0, len(text) - 400)
        verdict = char_embed_lstm.check_sample(text[start:start + 400], corpus)
        assert verdict["ok"] and verdict["bigram_share"] == 1.0, verdict
    # the garbage one seed article got from a BatchNorm model trained to a normal-looking loss
    seed_garbage = ("(_x2js1hevjg4z_?z_aæ?q_gpmj:sn![?(f3_ch=lhw4y n6)gkh\nkujau\nmomu,?!ljë7g)k,!?[45 0as9[d.68é"
                    "hhptvsx jd_næi,ä_z!cwkr\"_f6ë-mu_(epp")
    assert not char_lstm.check_sample(seed_garbage, corpus)["ok"]
    # and its sample from the same model on TensorFlow reads as English
    english = ("hinks the rich man must be wholly perverity and connection of the english sin of the philosophers of "
               "the basis of the same profound of his placed and evil and exception of fear to plants to me")
    assert char_lstm.check_sample(english, corpus)["ok"]


def test_synthetic_data_is_not_checked():
    dataset = nietzsche.load("synthetic", samples=100)
    verdict = char_lstm.check_sample("qqqq", dataset)
    assert verdict["ok"] and "synthetic" in verdict["reason"]


def test_sampling_reweights_by_temperature_and_slides_the_window():
    p = np.array([0.5, 0.3, 0.2, 0.0])
    q = textgen.reweight(p, 0.5)  # p^2, renormalised
    np.testing.assert_allclose(q, np.array([0.25, 0.09, 0.04, 0.0]) / 0.38)
    np.testing.assert_allclose(textgen.reweight(p, 1.0), p)
    rng = np.random.RandomState(0)
    draws = np.bincount([textgen.draw(q, rng) for _ in range(20000)], minlength=4) / 20000.0
    np.testing.assert_allclose(draws, q, atol=0.01)
    # a predictor that is sure the next symbol is (last + 1) mod 5 continues the count from the seed window
    seen = []

    def predict(inputs):
        window = inputs[0]
        seen.append(window.copy())
        out = np.zeros((1, 5))
        out[0, (window[0, -1] + 1) % 5] = 1.0
        return out
    ids = textgen.sample(predict, np.array([0, 1, 2]), length=7, temperature=0.5, rng=rng)
    assert ids.tolist() == [3, 4, 0, 1, 2, 3, 4] and ids.dtype == np.int32
    assert len(seen) == 7 and seen[1].tolist() == [[1, 2, 3]] and seen[4].tolist() == [[4, 0, 1]]


class TorchPredictor(object):
    """A trained or untrained native torch model as sample_text's predict."""

    def __init__(self, workload, model):
        import torch
        self.torch, self.model, self.version = torch, model, __import__(
            "dlbench.workloads.%s.torch" % workload, fromlist=["probabilities"])

    def __call__(self, inputs):
        self.model.eval()
        with self.torch.no_grad():
            return self.version.probabilities(self.model(*[self.torch.from_numpy(a) for a in inputs])).numpy()


def train_torch(workload, dataset, epochs, seed=0):
    import torch
    torch.manual_seed(seed)
    module = WORKLOADS[workload]
    version = __import__("dlbench.workloads.%s.torch" % workload, fromlist=["build"])
    parts = version.build(module.SPEC.hp)
    model, optimizer = parts[0], parts[1]
    train, _ = module.splits(dataset, "channels_first")
    rng = np.random.RandomState(seed)
    losses = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        order = rng.permutation(train.n)
        for start in range(0, train.n, 128):
            index = order[start:start + 128]
            inputs = [torch.from_numpy(a[index]) for a in train.inputs]
            targets = [torch.from_numpy(a[index]) for a in train.targets]
            loss = version.loss_fn(model(*inputs), *targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if len(parts) > 2:
                parts[2].step()
            total += loss.item() * len(index)
        losses.append(total / train.n)
    return model, losses


def torch_sample(workload, model, corpus):
    module = WORKLOADS[workload]
    text = module.sample_text(TorchPredictor(workload, model), corpus, np.random.RandomState(0))
    assert len(text) == 400 and set(text) <= set(corpus.meta["chars"])
    return text, module.check_sample(text, corpus)


@pytest.mark.parametrize("workload", ["char_lstm", "char_embed_lstm"])
def test_an_untrained_model_generates_garbage(workload, corpus):
    """Untrained (torch, seed 0): near-uniform probabilities, so the sample scores as random characters (0.376 for
    char_lstm, 0.411 for char_embed_lstm)."""
    require_framework("torch")
    import torch
    version = __import__("dlbench.workloads.%s.torch" % workload, fromlist=["build"])
    torch.manual_seed(0)
    _, verdict = torch_sample(workload, version.build(WORKLOADS[workload].SPEC.hp)[0], corpus)
    assert not verdict["ok"] and 0.25 < verdict["bigram_share"] < 0.55, verdict


def test_a_briefly_trained_char_lstm_passes(corpus):
    """32 RMSprop steps (2 epochs over 2,048 windows of the real text, training loss 3.27 -> 2.98) already produce
    a sample of the corpus's bigrams (0.98-1.0 over three seeds): the check flags broken models, not weak ones."""
    require_framework("torch")
    model, losses = train_torch("char_lstm", nietzsche.load("small", samples=2048), epochs=2)
    assert losses[-1] < losses[0]
    text, verdict = torch_sample("char_lstm", model, corpus)
    assert verdict["ok"], (verdict, text)


@pytest.mark.slow
def test_a_trained_char_embed_lstm_passes(corpus):
    """141 Adam steps (3 epochs over 6,000 windows, loss 3.69 -> 2.66) score 0.855 with torch, seed 0: lower than
    char_lstm's, because the BatchNorms' moving statistics (momentum 0.99), which inference uses, have moved only
    1 - 0.99^141 = 76% of the way from their start by then: with the statistics recomputed over the 6,000 training
    windows (cumulative averages) the same weights score 1.0."""
    require_framework("torch")
    model, losses = train_torch("char_embed_lstm", nietzsche.load("small", samples=6000), epochs=3)
    assert losses[-1] < losses[0]
    text, verdict = torch_sample("char_embed_lstm", model, corpus)
    print("trained char_embed_lstm: losses %s, %.3f: %r" % (losses, verdict["bigram_share"], text[:120]))
    assert verdict["ok"], (verdict, text)


# --- slow: learning on the real corpus -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_char_lstm_learns_the_real_corpus(suites, framework):
    """4,096 windows of the real corpus, 3 epochs (96 RMSprop steps at batch 128) in every framework: the training
    loss falls well below log(57) = 4.04 and the in-sample validation loss (every 20th training window, inference
    mode) follows."""
    require_framework(framework)
    run, epochs = the_run(suites("char_lstm", "real", 4096, 3), framework)
    assert run["params_total"] == char_lstm.SPEC.params
    losses = [e["loss"] for e in epochs]
    assert losses[-1] < losses[0] and losses[-1] < 3.2, losses
    assert epochs[-1]["val_loss"] < 3.4, [e["val_loss"] for e in epochs]
    sample = suites("char_lstm", "real", 4096, 3)["samples"][run["id"]]
    assert sample["ok"], sample
