"""imdb_bilstm and imdb_fasttext in every training framework.

1. End to end: the real CLI runs both workloads in all six frameworks on 256 synthetic reviews (`--data synthetic`,
   two epochs), one suite for the module; each test reads the store: status, parameter counts (imdb_bilstm's
   2,658,945; imdb_fasttext's 50 * max_features + 51 with max_features from the same rows' bigrams), the
   data-dependent hyperparameters the worker used, positive times, a finite and falling training loss.
2. The same function: the native versions and Keras on each backend, given one set of weights, compute a NumPy
   reference of the spec's model: for imdb_bilstm the LSTM gate order, the backward direction (it reads the
   reversed sequence and keeps its state after the first step, so with pre-padding it reads the padding last) and
   the concatenation order [forward, backward]; for imdb_fasttext the plain mean over all positions, padding
   included. Small sizes (the same code, built from a smaller Hyper), pre-padded inputs.
3. The same initialisers: embedding U(-0.05, 0.05), glorot_uniform over the four gates together, orthogonal
   recurrent kernels, zero biases with the forget gate's at 1, in both directions; PyTorch's b_hh frozen zeros.
4. fasttext's bigram features equal the Keras example's own procedure (create_ngram_set, token_indice, add_ngram,
   pad_sequences) transcribed in plain Python, ids and order included.
A slow check trains every framework on 4,000 synthetic reviews and asks for validation accuracy clearly above chance.
"""
import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlbench.data import imdb
from dlbench.store import Store
from dlbench.workloads import imdb_bilstm, imdb_fasttext
from dlbench.workloads.spec import Hyper

from conftest import MODERN, dlbench, require_framework
from numpy_reference import reference_lstm, sigmoid

FRAMEWORKS = ["keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow"]
NATIVE = ["torch", "jax", "tensorflow"]
KERAS = [f for f in FRAMEWORKS if f.startswith("keras-")]
WORKLOADS = ["imdb_bilstm", "imdb_fasttext"]
MODULES = {"imdb_bilstm": imdb_bilstm, "imdb_fasttext": imdb_fasttext}
SAMPLES, EPOCHS = 256, 2


def fasttext_max_features(samples, seed=0):
    """max_features of a run on `samples` synthetic rows: the worker's own splits() on the same data."""
    dataset = imdb.load("synthetic", samples=samples, seed=seed)
    imdb_fasttext.splits(dataset, "channels_last")
    return dataset.meta["max_features"]


def expected_params(workload, samples):
    if workload == "imdb_bilstm":
        return imdb_bilstm.SPEC.params
    return imdb_fasttext.params(fasttext_max_features(samples))


def run_suite(folder, samples, epochs):
    store_path = folder / "imdb.sqlite"
    result = dlbench("run", "--workloads", ",".join(WORKLOADS), "--frameworks", ",".join(MODERN), "--data", "synthetic",
                     "--samples", samples, "--epochs", epochs, "--repeats", 1, "--threads", 1, "--store", store_path,
                     timeout=7200)
    store = Store(store_path)
    runs = store.runs()
    return {"result": result, "runs": runs, "epochs": store.epochs([r["id"] for r in runs])}


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    cache = {}

    def get(samples, epochs):
        if (samples, epochs) not in cache:
            cache[samples, epochs] = run_suite(tmp_path_factory.mktemp("imdb"), samples, epochs)
        return cache[samples, epochs]
    return get


def the_run(suite, workload, framework):
    assert suite["result"].returncode == 0, suite["result"].stderr[-3000:]
    runs = [r for r in suite["runs"] if r["framework"] == framework and r["workload"] == workload]
    assert len(runs) == 1
    assert runs[0]["status"] == "ok", (runs[0]["error"], runs[0]["detail"])
    return runs[0], suite["epochs"][runs[0]["id"]]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_trains_on_synthetic_reviews(suites, workload, framework):
    require_framework(framework)
    run, epochs = the_run(suites(SAMPLES, EPOCHS), workload, framework)
    params = expected_params(workload, SAMPLES)
    assert run["params_total"] == params and run["params_trainable"] == params
    assert run["env"]["n_train"] == SAMPLES
    if workload == "imdb_fasttext":
        # 50 * max_features + 51 with the bigrams of these 256 rows: 32,278 bigrams, max_features 52,279
        assert run["env"]["hyperparameters"]["max_features"] == (params - 51) // 50
    assert [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1))
    for e in epochs:
        assert e["train_seconds"] > 0 and e["eval_seconds"] > 0
        assert math.isfinite(e["loss"]) and math.isfinite(e["val_loss"])
        assert math.isclose(e["samples_per_second"], SAMPLES / e["train_seconds"], rel_tol=1e-9)
    assert epochs[-1]["loss"] < epochs[0]["loss"]


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_learns_the_synthetic_sentiment(suites, workload, framework):
    """4,000 synthetic reviews, 3 epochs (375 steps of 32): validation accuracy clearly above chance (50%) in some
    epoch. Both models overfit 4,000 reviews fast (2.7M and 16M parameters), so the last epoch is not always the
    best: jax reached 71% (imdb_bilstm, epoch 2) and 69% (imdb_fasttext, epoch 3), with training accuracy 88-92%;
    the planted words' majority vote over the last 100 words scores about 80%. Only jax was calibrated (two loaded
    cores: torch's bidirectional LSTM ran at 30 samples/s there); the whole check takes tens of minutes."""
    require_framework(framework)
    run, epochs = the_run(suites(4000, 3), workload, framework)
    assert max(e["val_accuracy"] for e in epochs) > 0.65, [e["val_accuracy"] for e in epochs]


# --- the same function in every framework ------------------------------------------------------------------------

SMALL = {
    "imdb_bilstm": Hyper(**dict(imdb_bilstm.SPEC.hp.as_dict(), max_features=40, maxlen=9, embedding_dim=6, units=5)),
    "imdb_fasttext": Hyper(**dict(imdb_fasttext.SPEC.hp.as_dict(), max_features=40, maxlen=9, embedding_dim=6)),
}


def reference_weights(workload, seed=0):
    """Random weights in Keras's layout and order: embedding (num, dim); per LSTM kernel (in, 4u), recurrent kernel
    (u, 4u), bias (4u), gates i, f, c, o, forward then backward; Dense kernel (in, 1), bias (1,). Scaled so that
    every gate matters."""
    rng = np.random.RandomState(seed)
    hp = SMALL[workload]
    shapes = [(hp.max_features, hp.embedding_dim)]
    if workload == "imdb_bilstm":
        shapes += [(hp.embedding_dim, 4 * hp.units), (hp.units, 4 * hp.units), (4 * hp.units,)] * 2
        shapes += [(2 * hp.units, 1), (1,)]
    else:
        shapes += [(hp.embedding_dim, 1), (1,)]
    weights = []
    for shape in shapes:
        fan_in = shape[0] if len(shape) > 1 and shape[0] != hp.max_features else 2
        weights.append((rng.normal(size=shape) * 1.5 / np.sqrt(fan_in)).astype(np.float32))
    return weights


def reference_ids(workload, count=5):
    """Pre-padded rows of different lengths (one full, one all padding), through the workload's own encoding."""
    hp = SMALL[workload]
    rng = np.random.RandomState(1)
    lengths = [hp.maxlen, 0, 3, 6, 1][:count]
    return imdb.pad([rng.randint(1, hp.max_features, size=n) for n in lengths], hp.maxlen)


def reference_logits(workload, weights, ids):
    w = [a.astype(np.float64) for a in weights]
    x = w[0][ids]  # (N, T, dim)
    if workload == "imdb_fasttext":
        return (x.mean(axis=1) @ w[1] + w[2])[:, 0]

    forward = reference_lstm(x, *w[1:4])
    backward = reference_lstm(x[:, ::-1], *w[4:7])  # reads the last step first, ends on the first (the padding)
    return (np.concatenate([forward, backward], axis=1) @ w[7] + w[8])[:, 0]


def torch_logits(workload, weights, ids):
    import torch

    from dlbench.workloads.imdb_bilstm import torch as bilstm
    from dlbench.workloads.imdb_fasttext import torch as fasttext
    module = bilstm if workload == "imdb_bilstm" else fasttext
    model, _ = module.build(SMALL[workload])
    state = {"embedding.weight": weights[0], "dense.weight": weights[-2].T, "dense.bias": weights[-1]}
    if workload == "imdb_bilstm":
        for suffix, (kernel, recurrent, bias) in (("_l0", weights[1:4]), ("_l0_reverse", weights[4:7])):
            state.update({"lstm.weight_ih" + suffix: kernel.T, "lstm.weight_hh" + suffix: recurrent.T,
                          "lstm.bias_ih" + suffix: bias, "lstm.bias_hh" + suffix: np.zeros_like(bias)})
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(ids)).numpy()


def jax_logits(workload, weights, ids):
    import jax.numpy as jnp
    from flax import nnx

    from dlbench.workloads.imdb_bilstm import jax as bilstm
    from dlbench.workloads.imdb_fasttext import jax as fasttext
    module = bilstm if workload == "imdb_bilstm" else fasttext
    model, _ = module.build(SMALL[workload], nnx.Rngs(params=0, dropout=1))
    variables = [model.embedding.embedding]
    if workload == "imdb_bilstm":
        for lstm in (model.forward, model.backward):
            cell = lstm.rnn.cell
            variables += [cell.dense_i.kernel, cell.dense_h.kernel, cell.dense_h.bias]
    variables += [model.dense.kernel, model.dense.bias]
    for variable, value in zip(variables, weights):
        assert variable[...].shape == value.shape
        variable[...] = jnp.asarray(value)
    model.eval()
    return np.asarray(model(jnp.asarray(ids)))


def tensorflow_logits(workload, weights, ids):
    import tensorflow as tf

    from dlbench.workloads.imdb_bilstm import tensorflow as bilstm
    from dlbench.workloads.imdb_fasttext import tensorflow as fasttext
    module = bilstm if workload == "imdb_bilstm" else fasttext
    model, _ = module.build(SMALL[workload], tf.random.Generator.from_seed(0))
    variables = [model.embedding.embeddings]
    if workload == "imdb_bilstm":
        for lstm in (model.forward, model.backward):
            variables += [lstm.kernel, lstm.recurrent_kernel, lstm.bias]
    variables += [model.dense.kernel, model.dense.bias]
    for variable, value in zip(variables, weights):
        variable.assign(value)
    return tf.function(lambda x: model(x, training=False))(tf.constant(ids)).numpy()


NATIVE_LOGITS = {"torch": torch_logits, "jax": jax_logits, "tensorflow": tensorflow_logits}


@pytest.mark.parametrize("framework", NATIVE)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_native_version_computes_the_reference_model(workload, framework):
    require_framework(framework)
    weights, ids = reference_weights(workload), reference_ids(workload)
    assert (ids[:, 0] == 0).sum() >= 3  # pre-padded rows: the backward direction ends on padding
    expected = reference_logits(workload, weights, ids)
    assert expected.std() > 0.3  # the weights are large enough that a wrong gate, order or direction shows
    if workload == "imdb_bilstm":
        # a backward direction that kept its state after the LAST step (or unreversed) would differ
        w = [a.astype(np.float64) for a in weights]
        wrong = list(w)
        wrong[4:7] = w[1:4]
        assert np.abs(reference_logits(workload, wrong, ids) - expected).max() > 0.05
    np.testing.assert_allclose(NATIVE_LOGITS[framework](workload, weights, ids), expected, rtol=0, atol=2e-4)


KERAS_SCRIPT = """
import json, sys
import numpy as np
from importlib import import_module
from dlbench.workloads.spec import Hyper
import keras
payload = json.loads(sys.stdin.read())
keras.config.set_image_data_format(sys.argv[1])  # the backend's layout, as the worker sets it
out = {}
for workload, item in payload.items():
    model = import_module("dlbench.workloads.%s.keras" % workload).build(Hyper(**item["hp"]))
    model.set_weights([np.asarray(w, dtype="float32") for w in item["weights"]])
    ids = np.asarray(item["ids"], dtype="int32")
    out[workload] = np.asarray(model.predict(ids, verbose=0)).reshape(-1).tolist()
print(json.dumps(out))
"""


@pytest.mark.parametrize("framework", KERAS)
def test_keras_computes_the_reference_model_on_every_backend(framework):
    """Keras's own Bidirectional(LSTM) and GlobalAveragePooling1D with the same weights on each backend, in that
    backend's layout (channels_first on keras-torch: GlobalAveragePooling1D must still average over time): the
    sigmoid of the reference logit."""
    require_framework(framework)
    backend = framework.split("-", 1)[1]
    layout = "channels_first" if backend == "torch" else "channels_last"
    weights = {w: reference_weights(w) for w in WORKLOADS}
    ids = {w: reference_ids(w) for w in WORKLOADS}
    payload = {w: {"hp": SMALL[w].as_dict(), "weights": [a.tolist() for a in weights[w]], "ids": ids[w].tolist()}
               for w in WORKLOADS}
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="",
               TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, layout], input=json.dumps(payload),
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])
    for workload in WORKLOADS:
        expected = sigmoid(reference_logits(workload, weights[workload], ids[workload]))
        np.testing.assert_allclose(np.asarray(found[workload]), expected, rtol=0, atol=1e-5)


# --- the same initialisers ---------------------------------------------------------------------------------------

def native_weights(framework):
    """imdb_bilstm as built at full size: (embedding, [(kernel (in, 4u), recurrent (u, 4u), bias (4u)) forward and
    backward], dense kernel (in, 1), dense bias), in Keras's layout."""
    hp = imdb_bilstm.SPEC.hp
    if framework == "torch":
        from dlbench.workloads.imdb_bilstm import torch as bilstm
        model, optimizer = bilstm.build(hp)
        trainable = {id(p) for group in optimizer.param_groups for p in group["params"]}
        lstm, lstms = model.lstm, []
        for suffix in ("_l0", "_l0_reverse"):
            frozen = getattr(lstm, "bias_hh" + suffix)  # b_hh: a frozen zero that the optimizer never sees
            assert not frozen.requires_grad and id(frozen) not in trainable and np.all(frozen.detach().numpy() == 0)
            lstms.append(tuple(getattr(lstm, name + suffix).detach().numpy()
                               for name in ("weight_ih", "weight_hh", "bias_ih")))
        lstms = [(k.T, r.T, b) for k, r, b in lstms]
        return (model.embedding.weight.detach().numpy(), lstms, model.dense.weight.detach().numpy().T,
                model.dense.bias.detach().numpy())
    if framework == "jax":
        from flax import nnx

        from dlbench.workloads.imdb_bilstm import jax as bilstm
        model, _ = bilstm.build(hp, nnx.Rngs(params=0, dropout=1))
        cells = (model.forward.rnn.cell, model.backward.rnn.cell)
        lstms = [(np.asarray(c.dense_i.kernel[...]), np.asarray(c.dense_h.kernel[...]),
                  np.asarray(c.dense_h.bias[...])) for c in cells]
        return (np.asarray(model.embedding.embedding[...]), lstms, np.asarray(model.dense.kernel[...]),
                np.asarray(model.dense.bias[...]))
    import tensorflow as tf

    from dlbench.workloads.imdb_bilstm import tensorflow as bilstm
    model, _ = bilstm.build(hp, tf.random.Generator.from_seed(0))
    lstms = [(l.kernel.numpy(), l.recurrent_kernel.numpy(), l.bias.numpy()) for l in (model.forward, model.backward)]
    return model.embedding.embeddings.numpy(), lstms, model.dense.kernel.numpy(), model.dense.bias.numpy()


@pytest.mark.parametrize("framework", NATIVE)
def test_native_bilstm_starts_as_keras(framework):
    require_framework(framework)
    hp = imdb_bilstm.SPEC.hp
    embedding, lstms, dense_kernel, dense_bias = native_weights(framework)
    assert embedding.shape == (hp.max_features, hp.embedding_dim)
    assert -0.05 <= embedding.min() < -0.049 and 0.049 < embedding.max() <= 0.05
    assert abs(embedding.mean()) < 1e-3 and abs(embedding.std() - 0.1 / math.sqrt(12)) < 1e-3  # uniform
    assert len(lstms) == 2 and not np.array_equal(lstms[0][0], lstms[1][0])  # two directions, drawn separately
    for kernel, recurrent, bias in lstms:
        units_in, units = hp.embedding_dim, hp.units
        assert kernel.shape == (units_in, 4 * units) and recurrent.shape == (units, 4 * units)
        limit = math.sqrt(6.0 / (units_in + 4 * units))  # glorot over the four gates together
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
        np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(units), atol=1e-4)
        expected_bias = np.zeros(4 * units)
        expected_bias[units:2 * units] = 1.0  # unit_forget_bias, gates i, f, c, o
        np.testing.assert_array_equal(bias, expected_bias)
    limit = math.sqrt(6.0 / (2 * hp.units + 1))
    assert dense_kernel.shape == (2 * hp.units, 1) and np.abs(dense_kernel).max() <= limit
    assert np.all(dense_bias == 0)


# --- fasttext's bigram features are the Keras example's ------------------------------------------------------------

def example_features(x_train, x_test, max_features=20000, maxlen=400):
    """imdb_fasttext.py's preparation, transcribed: create_ngram_set, the set of training bigrams, token_indice,
    add_ngram, pad_sequences (on lists of Python ints, as load_data returns them)."""
    def create_ngram_set(input_list, ngram_value=2):
        return set(zip(*[input_list[i:] for i in range(ngram_value)]))

    def add_ngram(sequences, token_indice, ngram_range=2):
        new_sequences = []
        for input_list in sequences:
            new_list = input_list[:]
            for i in range(len(new_list) - ngram_range + 1):
                for ngram_value in range(2, ngram_range + 1):
                    ngram = tuple(new_list[i:i + ngram_value])
                    if ngram in token_indice:
                        new_list.append(token_indice[ngram])
            new_sequences.append(new_list)
        return new_sequences

    ngram_set = set()
    for input_list in x_train:
        ngram_set.update(create_ngram_set(input_list, ngram_value=2))
    start_index = max_features + 1
    token_indice = {v: k + start_index for k, v in enumerate(ngram_set)}
    max_features = np.max(list(token_indice.values())) + 1
    x_train, x_test = add_ngram(x_train, token_indice), add_ngram(x_test, token_indice)

    def pad(sequences):
        out = np.zeros((len(sequences), maxlen), dtype=np.int32)
        for i, s in enumerate(sequences):
            if s:
                out[i, -len(s[-maxlen:]):] = s[-maxlen:]
        return out
    return pad(x_train), pad(x_test), int(max_features)


def test_bigram_features_are_the_keras_example_s():
    dataset = imdb.load("synthetic", samples=400, seed=5)
    train, val = imdb_fasttext.splits(dataset, "channels_last")
    x_train = [[int(w) for w in s] for s in imdb.top_words(dataset.x_train, 20000)]
    x_test = [[int(w) for w in s] for s in imdb.top_words(dataset.x_val, 20000)]
    expected_train, expected_test, max_features = example_features(x_train, x_test)
    assert dataset.meta["max_features"] == max_features == 20001 + dataset.meta["bigrams"]
    np.testing.assert_array_equal(train.inputs[0], expected_train)
    np.testing.assert_array_equal(val.inputs[0], expected_test)
    assert train.inputs[0].dtype == np.int32 and train.targets[0].dtype == np.int32
    assert imdb_fasttext.hyper(dataset).max_features == max_features
    assert imdb_fasttext.params(max_features) == 50 * max_features + 51


def test_add_bigrams_on_the_example_s_docstring_case():
    seqs = [np.array(s, dtype=np.int32) for s in ([1, 3, 4, 5], [1, 3, 7, 9, 2], [], [6], [4, 5, 4, 5])]
    index = imdb_fasttext.BigramIndex(np.array([[1, 3], [9, 2], [4, 5]]), start_index=1337, base=20)
    out = [s.tolist() for s in imdb_fasttext.add_bigrams(seqs, index)]
    # ids in the pairs' order from 1337; repeats appended again; a bigram never spans two reviews
    assert out == [[1, 3, 4, 5, 1337, 1339], [1, 3, 7, 9, 2, 1337, 1338], [], [6], [4, 5, 4, 5, 1339, 1339]]
    assert index.max_features == 1340
    empty = imdb_fasttext.bigram_index([np.array([7], dtype=np.int32)], start_index=21, base=20)
    assert len(empty) == 0 and empty.max_features == 21


def test_hyper_needs_splits_first():
    dataset = imdb.load("synthetic", samples=10)
    with pytest.raises(ValueError, match="splits"):
        imdb_fasttext.hyper(dataset)


def test_bilstm_splits_are_keras_encoding():
    dataset = imdb.load("synthetic", samples=50, seed=2)
    train, val = imdb_bilstm.splits(dataset, "channels_first")
    assert train.inputs[0].shape == (50, 100) and train.inputs[0].dtype == np.int32
    np.testing.assert_array_equal(train.inputs[0], imdb.encode(dataset.x_train, 20000, 100))
    assert train.inputs[0].max() < 20000 and val.targets[0].dtype == np.int32


# --- the worker side stays Python 3.6 ----------------------------------------------------------------------------

@pytest.mark.parametrize("relative", ["workloads/imdb_bilstm/__init__.py", "workloads/imdb_fasttext/__init__.py",
                                      "data/imdb.py"])
def test_worker_side_parses_as_python_36(relative):
    source = Path(__file__).resolve().parent.parent / "src" / "dlbench" / relative
    tree = ast.parse(source.read_text(), feature_version=(3, 6))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"dlbench", "numpy", "itertools", "os", "pickle", "zipfile", "zlib"}
