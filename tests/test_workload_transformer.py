"""The keras.io transformer workloads (imdb_transformer) in every training framework.

1. End to end: the real CLI runs imdb_transformer in all six frameworks on 256 synthetic reviews (`--data
   synthetic`, two epochs), one suite for the module; each test reads the store: status, the parameter count
   (657,758, all trainable), positive times, a finite training and validation loss, and a training loss that falls
   from the first epoch to the second.
2. The layer vocabulary: KerasMultiHeadAttention's weights in Keras's layouts and its FLOPs by hand (the four
   projections and attention's two matmuls); the model's count.
3. The same initialisers in the native versions, read through verify's converters in Keras's layouts: embeddings
   U(-0.05, 0.05), attention and Dense kernels glorot_uniform over the Dense's fans (an attention kernel (32, 2, 32)
   draws as the (32, 64) matrix it flattens to, as Keras 3 does), biases zero, LayerNorm gamma 1 and beta 0.
4. The data: pre-padded and pre-truncated to the last 200 ids, as imdb_bilstm's encoding.
That every framework computes the same function (same weights -> same outputs, loss and update) is dlbench verify's
check (tests/test_verify.py runs it on every workload).
"""
import math

import numpy as np
import pytest

from dlbench.data import imdb
from dlbench.store import Store
from dlbench.workloads import flops, imdb_transformer, layers

from conftest import MODERN, dlbench, require_framework

NATIVE = ["torch", "jax", "tensorflow"]
SAMPLES, EPOCHS = 256, 2


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    store_path = tmp_path_factory.mktemp("transformer") / "transformer.sqlite"
    result = dlbench("run", "--workloads", "imdb_transformer", "--frameworks", ",".join(MODERN), "--data",
                     "synthetic", "--samples", SAMPLES, "--epochs", EPOCHS, "--repeats", 1, "--threads", 2,
                     "--store", store_path, timeout=1800)
    store = Store(store_path)
    runs = store.runs()
    return {"result": result, "runs": runs, "epochs": store.epochs([r["id"] for r in runs])}


@pytest.mark.parametrize("framework", MODERN)
def test_imdb_transformer_trains_on_synthetic_reviews(suite, framework):
    require_framework(framework)
    assert suite["result"].returncode == 0, suite["result"].stderr[-3000:]
    runs = [r for r in suite["runs"] if r["framework"] == framework and r["workload"] == "imdb_transformer"]
    assert len(runs) == 1 and runs[0]["status"] == "ok", (runs[0]["error"], runs[0]["detail"])
    run, epochs = runs[0], suite["epochs"][runs[0]["id"]]
    assert run["params_total"] == run["params_trainable"] == 657758
    assert run["env"]["n_train"] == SAMPLES
    assert [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1))
    for e in epochs:
        assert e["train_seconds"] > 0 and e["eval_seconds"] > 0
        assert math.isfinite(e["loss"]) and math.isfinite(e["val_loss"])
        assert 0 <= e["val_accuracy"] <= 1
    assert epochs[-1]["loss"] < epochs[0]["loss"]


# --- the layer vocabulary --------------------------------------------------------------------------------------

def test_attention_weights_are_keras_s_layouts_and_its_flops_count_both_attention_matmuls():
    att = layers.KerasMultiHeadAttention("att", dim=32, heads=2, key_dim=16, steps=10)
    assert att.weights() == [("att/query/kernel", (32, 2, 16)), ("att/query/bias", (2, 16)),
                             ("att/key/kernel", (32, 2, 16)), ("att/key/bias", (2, 16)),
                             ("att/value/kernel", (32, 2, 16)), ("att/value/bias", (2, 16)),
                             ("att/attention_output/kernel", (2, 16, 32)), ("att/attention_output/bias", (32,))]
    projections = 4 * 2 * 10 * 32 * 32  # q, k, v and the output: 10 steps of 32 x 32 each
    attention = 2 * (2 * 10 * 10 * 32)  # Q K^T and the weights times V: 10 x 10 x (2 heads x 16) each
    assert att.forward() == projections + attention
    # the weight gradients are the projections'; the attention matmuls need both operands' gradients
    assert att.weight_grad() == projections and att.input_grad() == projections + 2 * attention
    assert att.backward() == 2 * att.forward()


def test_imdb_transformer_declares_the_spec_s_model():
    hp = imdb_transformer.SPEC.hp
    assert imdb_transformer.SPEC.attention and imdb_transformer.SPEC.describe()["attention"] is True
    found = imdb_transformer.model_layers(hp)
    assert sum(int(np.prod(shape)) for layer in found for _, shape in layer.weights()) == 657758
    steps, d = 200, 32
    matmuls = (4 * 2 * steps * d * 64  # attention's projections (2 heads of key_dim 32)
               + 2 * 2 * steps * steps * 64  # its two batched matmuls
               + 2 * steps * 2 * d * 32  # the feed-forward's two Dense 32 -> 32 over every step
               + 2 * (32 * 20 + 20 * 2))  # the head
    assert flops.forward_flops_per_sample("imdb_transformer") == matmuls


# --- the same initialisers -------------------------------------------------------------------------------------

def native_weights(framework):
    """The native version as built at full size, its weights in Keras's layouts (verify's converter)."""
    hp = imdb_transformer.SPEC.hp
    if framework == "torch":
        from dlbench.verify import torch as convert
        from dlbench.workloads.imdb_transformer import torch as module
        model, _ = module.build(hp)
    elif framework == "jax":
        from flax import nnx

        from dlbench.verify import jax as convert
        from dlbench.workloads.imdb_transformer import jax as module
        model, _ = module.build(hp, nnx.Rngs(params=0, dropout=1))
    else:
        import tensorflow as tf

        from dlbench.verify import tensorflow as convert
        from dlbench.workloads.imdb_transformer import tensorflow as module
        model, _ = module.build(hp, tf.random.Generator.from_seed(0))
    return convert.to_canonical(model, "imdb_transformer", hp)


@pytest.mark.parametrize("framework", NATIVE)
def test_native_transformer_starts_as_keras(framework):
    require_framework(framework)
    weights = native_weights(framework)
    for name in ("embedding.token_emb/embeddings", "embedding.pos_emb/embeddings"):
        w = weights[name]
        assert -0.05 <= w.min() < -0.045 and 0.045 < w.max() <= 0.05, name
    for name, w in weights.items():
        kind = name.rsplit("/", 1)[1]
        if kind == "kernel":
            fan_in, fan_out = (32, 64) if w.ndim == 3 and w.shape[0] == 32 else (
                (64, 32) if w.ndim == 3 else w.shape)
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            assert 0.8 * limit < np.abs(w).max() <= limit, (name, np.abs(w).max(), limit)
        elif kind in ("bias", "beta"):
            assert np.all(w == 0), name
        elif kind == "gamma":
            assert np.all(w == 1), name
    assert not np.array_equal(weights["block.att/query/kernel"], weights["block.att/key/kernel"])


# --- the data ---------------------------------------------------------------------------------------------------

def test_splits_pre_pad_and_pre_truncate_to_200():
    dataset = imdb.load("synthetic", samples=50, seed=3)
    train, val = imdb_transformer.splits(dataset, "channels_first")
    assert train.inputs[0].shape == (50, 200) and train.inputs[0].dtype == np.int32
    np.testing.assert_array_equal(train.inputs[0], imdb.encode(dataset.x_train, 20000, 200))
    lengths = np.array([len(x) for x in dataset.x_train])
    short, long = np.flatnonzero(lengths < 200), np.flatnonzero(lengths > 200)
    assert len(short) and len(long)  # both cases occur
    i, j = short[0], long[0]
    assert np.all(train.inputs[0][i, :200 - lengths[i]] == 0)  # pre-padded
    last = np.asarray(dataset.x_train[j][-200:])
    np.testing.assert_array_equal(train.inputs[0][j], np.where(last < 20000, last, 2))  # its last 200 ids, oov 2
    assert val.targets[0].dtype == np.int32
