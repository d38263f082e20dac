"""char_gpt_mini and char_gpt (nanoGPT's character GPT) in every training framework.

1. End to end: the real CLI trains both workloads in all six frameworks on the small Nietzsche text
   (char_gpt_mini: 120 windows, 10 iterations an epoch, 2 epochs; char_gpt: 8 windows in batches of 4, one epoch,
   since one of its real batches of 64 windows of 256 is about a teraFLOP, 10-20 s on one CPU thread); each test
   reads the store: status ok, the spec's parameter count, finite losses, char_gpt_mini's loss falling below
   ln(57) (nanoGPT's initial loss: near-uniform logits), and the attention kernel each run recorded, read from its
   ops; the results table shows it.
2. Without a framework: the data (windows and their next-character targets, the same for a given seed, 90/10
   split), the learning-rate schedule (nanoGPT's get_lr), the declared layers (parameter count and FLOPs,
   attention's two matmuls included) and the attention-kernel rules.
A slow check trains char_gpt_mini in all six frameworks for its 2000 iterations on the real corpus (about 20
minutes on one thread): each below the measured threshold, and all within a stated band of each other.
"""
import math

import numpy as np
import pytest

from dlbench.data import nietzsche
from dlbench.frameworks.kernels import MATH, attention_kernel
from dlbench.store import Store
from dlbench.workloads import char_gpt, char_gpt_mini, flops, gpt_shared

from conftest import dlbench, require_framework

FRAMEWORKS = ["keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow"]
WORKLOADS = {"char_gpt_mini": char_gpt_mini, "char_gpt": char_gpt}
# workload -> (windows per epoch, batch size, epochs)
SIZES = {"char_gpt_mini": (120, 12, 2), "char_gpt": (8, 4, 1)}
START = math.log(57)  # the loss of uniform predictions over the 57 symbols


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """Both workloads, all six frameworks, one CLI call per workload (one trial process per framework)."""
    folder = tmp_path_factory.mktemp("gpt")
    found = {}
    for workload, (samples, batch_size, epochs) in SIZES.items():
        store_path = folder / ("%s.sqlite" % workload)
        result = dlbench("run", "--workloads", workload, "--frameworks", "all", "--data", "small", "--samples",
                         samples, "--batch-size", batch_size, "--epochs", epochs, "--repeats", 1, "--threads", 1,
                         "--store", store_path, timeout=1800)
        store = Store(store_path)
        runs = store.runs()
        found[workload] = {"result": result, "runs": runs, "epochs": store.epochs([r["id"] for r in runs])}
    return found


def the_run(suite, workload, framework):
    found = suite[workload]
    assert found["result"].returncode == 0, found["result"].stderr[-3000:]
    runs = [r for r in found["runs"] if r["framework"] == framework]
    assert len(runs) == 1
    assert runs[0]["status"] == "ok", (runs[0]["error"], runs[0]["detail"])
    return runs[0], found["epochs"][runs[0]["id"]]


# What each framework runs on a CPU, read from its ops (measured, torch 2.13): torch's SDPA dispatches to its CPU
# flash kernel, and with dropout (char_gpt) to its math fallback; Keras on torch calls the same SDPA without dropout
# and the unfused math with it; XLA (jax, keras-jax) and TensorFlow compute the matmuls and softmax.
FLASH_CPU, SDPA_MATH = "flash attention (CPU)", "math (SDPA's unfused fallback)"
CPU_KERNELS = {"char_gpt_mini": {"torch": FLASH_CPU, "keras-torch": FLASH_CPU},
               "char_gpt": {"torch": SDPA_MATH, "keras-torch": MATH}}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_trains_in_every_framework_and_records_its_attention_kernel(suite, workload, framework):
    require_framework(framework)
    spec = WORKLOADS[workload].SPEC
    run, epochs = the_run(suite, workload, framework)
    assert run["params_total"] == spec.params and run["params_trainable"] == spec.trainable_params
    samples, _, n_epochs = SIZES[workload]
    assert run["env"]["n_train"] == samples
    assert [e["epoch"] for e in epochs] == list(range(1, n_epochs + 1))
    for e in epochs:
        assert math.isfinite(e["loss"]) and math.isfinite(e["val_loss"]) and 0 <= e["accuracy"] <= 1
    if workload == "char_gpt_mini":  # 20 steps of warm-up (lr up to 2e-4): the loss falls from ln(57)
        assert epochs[0]["loss"] < START + 0.1 and epochs[1]["loss"] < epochs[0]["loss"] - 0.1, epochs
        assert epochs[1]["val_loss"] < START - 0.2, epochs
    else:  # two steps at lr 1e-5 and 2e-5, but Adam moves every weight by about lr at once: measured 3.60-3.70
        assert START - 1.0 < epochs[-1]["val_loss"] < START - 0.1, epochs
    expected = CPU_KERNELS[workload].get(framework, MATH)
    assert run["attention_kernel"] == expected, run["attention_evidence"]
    assert run["attention_evidence"]  # the op names that show it
    assert run["rnn_kernel"] is None  # no recurrent layer


def test_the_results_table_shows_the_attention_kernel(suite):
    result = suite["char_gpt_mini"]["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "attention" in result.stdout and "flash attention (CPU)" in result.stdout.replace("\n", " ")


# --- without a framework -------------------------------------------------------------------------------------------

def test_windows_are_next_character_pairs_drawn_once_with_a_seed():
    dataset = nietzsche.load("small")
    train, val = char_gpt_mini.splits(dataset, "channels_last")
    hp = char_gpt_mini.SPEC.hp
    assert train.n == 250 * 12 and val.n == 20 * 12  # an epoch of 250 iterations; 20 validation batches
    x, y = train.inputs[0], train.targets[0]
    assert x.dtype == y.dtype == np.int32 and x.shape == y.shape == (3000, hp.block_size)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # the target is the window shifted by one character
    ids = nietzsche.encode(dataset.meta["text"], nietzsche.SYMBOL_TABLE)
    cut = int(len(ids) * 0.9)
    text_train = ids[:cut].tobytes()
    assert all(x[i].tobytes() in text_train for i in range(0, 3000, 500))  # windows of the first 90%
    assert val.inputs[0][0].tobytes() in ids[cut:].tobytes()
    again, _ = char_gpt_mini.splits(dataset, "channels_last")
    np.testing.assert_array_equal(again.inputs[0], x)  # the same windows in every framework
    small = char_gpt_mini.splits(nietzsche.load("small", samples=120), "channels_last")
    assert small[0].n == 120 and small[1].n == round(240 * 120 / 3000.0)  # --samples: windows per epoch
    big, big_val = char_gpt.splits(dataset, "channels_last")
    assert big.inputs[0].shape == (16000, 256) and big_val.n == 200 * 64


def test_learning_rate_is_nanogpt_get_lr_counted_from_zero():
    hp = char_gpt_mini.SPEC.hp
    lr = [gpt_shared.learning_rate(hp, it) for it in range(2200)]
    assert lr[0] == pytest.approx(1e-3 / 101) and lr[99] == pytest.approx(1e-3 * 100 / 101)
    assert lr[100] == pytest.approx(1e-3)  # the cosine's top
    assert lr[1050] == pytest.approx(1e-4 + 0.5 * 0.9e-3)  # half way: the mean of lr and min_lr
    assert lr[2000] == pytest.approx(1e-4) and lr[2100] == 1e-4
    assert all(a >= b for a, b in zip(lr[100:], lr[101:]))


def test_framework_schedules_match_the_reference():
    """The schedules the frameworks' optimizers read (jnp, tf, keras.ops) against gpt_shared.learning_rate."""
    hp = char_gpt.SPEC.hp
    its = [0, 1, 50, 99, 100, 101, 2500, 4999, 5000, 5001, 6000]
    expected = [gpt_shared.learning_rate(hp, it) for it in its]
    require_framework("jax")
    import jax.numpy as jnp
    from dlbench.workloads.char_gpt import jax as gpt_jax
    got = [float(gpt_jax.schedule(hp)(jnp.asarray(it))) for it in its]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    require_framework("tensorflow")
    import tensorflow as tf
    from dlbench.workloads.char_gpt import tensorflow as gpt_tf
    got = [float(gpt_tf.schedule(hp)(tf.constant(float(it)))) for it in its]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_declared_layers_count_the_parameters_and_attention_flops():
    for module in (char_gpt_mini, char_gpt):
        hp = module.SPEC.hp
        found = module.model_layers(hp)
        assert sum(int(np.prod(s)) for layer in found for _, s in layer.weights()) == module.SPEC.params
        d, t, n = hp.n_embd, hp.block_size, hp.n_layer
        matmul_params = n * 12 * d * d + hp.symbols * d  # the blocks' kernels and the tied head
        attention = n * 2 * 2 * t * t * d
        assert flops.forward_flops_per_sample(module.SPEC.id) == 2 * matmul_params * t + attention
    # nanoGPT's estimate_mfu: 6 N + 12 L H Q T per token (N without the position embeddings); ours per window
    hp = char_gpt.SPEC.hp
    n = char_gpt.SPEC.params - hp.block_size * hp.n_embd
    model = flops.model_flops_per_sample("char_gpt")
    assert model == pytest.approx(hp.block_size * (6 * n + 12 * hp.n_layer * hp.n_embd * hp.block_size), rel=0.01)


def test_attention_rules_read_the_kernel_from_op_names():
    assert attention_kernel(["aten::scaled_dot_product_attention",
                             "aten::_scaled_dot_product_flash_attention_for_cpu"], True)[0] == "flash attention (CPU)"
    assert attention_kernel(["aten::_scaled_dot_product_efficient_attention"], True)[0] == "memory-efficient attention"
    assert attention_kernel(["aten::_scaled_dot_product_cudnn_attention"], True)[0] == "cuDNN fused attention"
    assert attention_kernel(["aten::_scaled_dot_product_flash_attention"], True)[0] == "flash attention"
    assert attention_kernel(["jax:dot_product_attention_fwd_wrapper"], True)[0] == "cuDNN fused attention"
    assert attention_kernel(["tf:BatchMatMulV2", "tf:Softmax"], True) == (MATH, ["tf:Softmax"])
    assert attention_kernel(["aten::_scaled_dot_product_flash_attention_for_cpu"], False) == (None, [])


# After the full run (2000 iterations, 1 thread, seed 0), measured on this corpus: validation loss 1.710 (keras-torch),
# 1.714 (keras-jax), 1.718 (torch, tensorflow), 1.719 (jax), 1.733 (keras-tensorflow), falling every epoch from
# 2.42-2.43 after the first; training loss 1.633-1.660. nanoGPT's README reports ~1.88 on Shakespeare for these
# settings: another text. The frameworks start from their own random weights and dropout masks (the windows are the
# same), so they agree within a band, not exactly: measured 0.023 wide, stated 0.05.
LEARNED, BAND = 1.80, 0.05


@pytest.fixture(scope="module")
def full_runs(tmp_path_factory):
    """The full run in every framework: {framework: its epochs}."""
    for framework in FRAMEWORKS:
        require_framework(framework)
    store_path = tmp_path_factory.mktemp("gpt-full") / "gpt.sqlite"
    result = dlbench("run", "--workloads", "char_gpt_mini", "--frameworks", ",".join(FRAMEWORKS), "--data", "real",
                     "--repeats", 1, "--threads", 1, "--store", store_path, timeout=5400)
    assert result.returncode == 0, result.stderr[-3000:]
    store = Store(store_path)
    runs = store.runs()
    assert sorted(r["framework"] for r in runs) == sorted(FRAMEWORKS) and all(r["status"] == "ok" for r in runs)
    epochs = store.epochs([r["id"] for r in runs])
    return dict((r["framework"], epochs[r["id"]]) for r in runs)


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_char_gpt_mini_learns_the_corpus(full_runs, framework):
    """2000 iterations (8 epochs of 250) on the real corpus: the validation loss falls every epoch and ends below
    the measured threshold."""
    losses = [e["val_loss"] for e in full_runs[framework]]
    assert len(losses) == 8
    assert losses[-1] < LEARNED, losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


@pytest.mark.slow
def test_char_gpt_mini_lands_within_a_band_in_every_framework(full_runs):
    final = dict((f, epochs[-1]["val_loss"]) for f, epochs in full_runs.items())
    assert max(final.values()) - min(final.values()) < BAND, final
