"""bf16, fp16-mixed and the tuned tier on the transformer workloads, in the six training frameworks, by the real
command line at tiny sizes (one `dlbench run` per precision: a worker process per trial is most of the time). Each
trial runs with its compute in the half type, read back from the framework (never assumed), or ends skipped with
the framework's stated reason."""
import math

import pytest

from dlbench import suite as suites
from dlbench.store import Store
from conftest import MODERN, dlbench, require_framework

TINY = ("--data", "synthetic", "--epochs", "1", "--repeats", "1", "--threads", "1")
# fp16-mixed that XLA:CPU cannot compile: jax.nn.dot_product_attention asks float16 inputs for a dot algorithm
# (F16_F16_F32) that XLA:CPU lacks; the trial is refused with that reason, not failed, not run in another precision.
FP16_REFUSED = ("jax", "keras-jax")


def trials(store_path):
    store = Store(store_path)
    runs = store.runs()
    epochs = store.epochs([r["id"] for r in runs])
    return {(r["workload"], r["framework"]): (r, epochs[r["id"]]) for r in runs}


def check_ran(run, epochs, precision, compute, stderr):
    assert run["status"] == "ok", (run["workload"], run["framework"], run["error"], stderr[-2000:])
    used = run["env"]["precision"]
    assert used["requested"] == precision and used["compute"] == compute, (run["framework"], used)
    assert used["params"] == "float32", (run["framework"], used)  # the master weights
    assert epochs and all(math.isfinite(e["loss"]) and math.isfinite(e["val_loss"]) for e in epochs), epochs
    assert run["attention_kernel"], run["framework"]  # read from the ops the trial ran
    return used


def test_native_tensorflow_runs_mixed_precision_for_the_transformers_only():
    for workload_id in ("imdb_transformer", "char_gpt", "char_gpt_mini", "cifar10_vit"):
        assert suites.precision_refusal(workload_id, "tensorflow", "bf16") is None
    reason = suites.precision_refusal("mnist_mlp", "tensorflow", "fp16-mixed")
    assert reason.startswith("tensorflow runs fp32 only, not fp16-mixed, for mnist_mlp: native TensorFlow"), reason


@pytest.fixture(scope="module")
def tuned_bf16(tmp_path_factory):
    """char_gpt_mini in bf16 and the tuned tier, in the six frameworks: one run serves the bf16 checks and the tuned
    tier's (the tuned trainers run the same precision code as the default ones)."""
    for framework_id in MODERN:
        require_framework(framework_id)
    store_path = tmp_path_factory.mktemp("tuned-bf16") / "bf16.sqlite"
    result = dlbench("run", "--workloads", "char_gpt_mini", "--frameworks", ",".join(MODERN), "--tier", "tuned",
                     "--precision", "bf16", "--samples", "12", *TINY, "--store", store_path)
    return trials(store_path), result.stderr


def test_bf16_trains_char_gpt_mini_in_all_six_frameworks(tuned_bf16):
    found, stderr = tuned_bf16
    assert sorted(f for _, f in found) == sorted(MODERN)
    for (_, framework_id), (run, epochs) in found.items():
        used = check_ran(run, epochs, "bf16", "bfloat16", stderr)
        assert used["loss_scale"] is None, (framework_id, used)
        if framework_id.startswith("keras"):
            assert used["output"] == "float32"  # the logits the loss takes, in float32


def test_bf16_trains_imdb_transformer_in_native_tensorflow(tmp_path):
    """The written-out attention, LayerNorm and Keras-style autocast of native TensorFlow on the keras.io model."""
    require_framework("tensorflow")
    store_path = tmp_path / "imdb.sqlite"
    result = dlbench("run", "--workloads", "imdb_transformer", "--frameworks", "tensorflow", "--precision", "bf16",
                     "--samples", "32", *TINY, "--store", store_path)
    (run, epochs), = trials(store_path).values()
    used = check_ran(run, epochs, "bf16", "bfloat16", result.stderr)
    assert used["optimizer_state"] == "float32" and used["loss_scale"] is None, used


def test_fp16_mixed_on_char_gpt_mini_runs_or_is_refused_with_the_reason(tmp_path):
    for framework_id in MODERN:
        require_framework(framework_id)
    store_path = tmp_path / "fp16.sqlite"
    result = dlbench("run", "--workloads", "char_gpt_mini", "--frameworks", ",".join(MODERN), "--precision",
                     "fp16-mixed", "--samples", "12", *TINY, "--store", store_path)
    found = trials(store_path)
    assert sorted(f for _, f in found) == sorted(MODERN)
    for (_, framework_id), (run, epochs) in found.items():
        if framework_id in FP16_REFUSED:
            assert run["status"] == "skipped", (framework_id, run["status"], run["error"])
            assert "XLA:CPU cannot lower" in run["error"] and "F16_F16_F32" in run["error"], run["error"]
            continue
        used = check_ran(run, epochs, "fp16-mixed", "float16", result.stderr)
        assert used["loss_scale"].startswith("dynamic"), (framework_id, used)


def test_the_tuned_tier_records_what_it_did_for_a_transformer(tuned_bf16):
    """Each trainer's tuning words say what it did about attention, and the attention kernel that ran is still read
    back under bf16 and the tuned tier."""
    found, _ = tuned_bf16
    runs = {f: run for (_, f), (run, _) in found.items()}
    tuning = {f: runs[f]["env"]["tuning"] for f in MODERN}
    kernel = {f: runs[f]["attention_kernel"] for f in MODERN}
    # torch on a CPU: eager (torch.compile measured slower), attention through SDPA, its CPU flash kernel read back
    assert tuning["torch"].startswith("eager (the tuned tier compiles on a GPU only"), tuning["torch"]
    assert "scaled_dot_product_attention" in tuning["torch"]
    assert kernel["torch"] == kernel["keras-torch"] == "flash attention (CPU)", kernel
    # Keras turns flash attention on; on a CPU each backend's check says no, and its reason is recorded
    for backend, reason in (("jax", "cuDNN"), ("torch", "Flash attention is not supported"),
                            ("tensorflow", "not supported in tensorflow backend")):
        words = tuning["keras-" + backend]
        assert "keras.config.enable_flash_attention()" in words and reason in words, words
    # jax: XLA's attention in the jitted step; native TensorFlow: XLA compiles the step, the attention written out
    assert "jax.nn.dot_product_attention inside the jitted step" in tuning["jax"], tuning["jax"]
    assert runs["tensorflow"]["env"]["compile_used"] == "tf.function(jit_compile=True)"
    assert "attention written out" in tuning["tensorflow"], tuning["tensorflow"]
    for framework_id in ("jax", "keras-jax", "keras-tensorflow", "tensorflow"):
        assert kernel[framework_id] == "math (matmul, softmax, matmul)", (framework_id, kernel[framework_id])
