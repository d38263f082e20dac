"""Tiers and compile modes: `default` and `tuned` are trial settings that both run in one suite, and the tuned
forms keep the workload's semantics (every sample once per epoch, in the default tier's shuffled order, the last
partial batch kept), so a tuned run trains the same model as a default one. Compile modes and the GPU settings
(tf32, cudnn_autotune) are trial settings too, each in the trial key."""
import json
import subprocess
import sys

import numpy as np
import pytest

from dlbench import data, frameworks, suite as suites, workloads
from dlbench.frameworks import load_adapter
from dlbench.frameworks.adapter import InputPipeline
from dlbench.suite import SuiteError
from dlbench.worker.settings import TrialSettings
from conftest import MODERN, dlbench, require_framework


def test_both_tiers_in_one_suite_are_separate_trials_with_their_own_keys():
    suite = suites.build({}, {"workloads": ["mnist_mlp"], "frameworks": ["jax", "torch"], "tier": ["default", "tuned"],
                              "repeats": 1})
    trials = suites.plan(suite)
    assert sorted((t.framework, t.settings["tier"]) for t in trials) == [
        ("jax", "default"), ("jax", "tuned"), ("torch", "default"), ("torch", "tuned")]
    assert len({t.key for t in trials}) == 4


def test_an_unknown_tier_is_a_one_line_error():
    with pytest.raises(SuiteError, match="tier = 'fast' is not valid: expected default or tuned"):
        suites.build({}, {"workloads": ["mnist_mlp"], "tier": "fast"})


def one_epoch(trainer_class, n, **options):
    """Loss and accuracy of one epoch of mnist_mlp on n real MNIST samples (n not a multiple of the batch)."""
    settings = TrialSettings(threads=1, device="cpu", seed=0, tier="tuned")
    adapter = load_adapter("jax")
    adapter.configure(settings)
    adapter.load(settings)
    workload = workloads.get("mnist_mlp")
    train, _ = workload.splits(data.dataset_module("mnist").load("small", n, seed=0), adapter.layout)
    module = workloads.framework_module("mnist_mlp", "jax")
    trainer = trainer_class(module, workload.SPEC.hp, 0, InputPipeline(None, adapter.layout), **options)
    return trainer.train_epoch(train, 128, np.random.RandomState(0))


def test_the_jax_whole_epoch_scan_trains_exactly_as_the_step_loop():
    """The tuned tier's lax.scan (the GPU form) against the default nnx.jit step loop: same samples, same order,
    same dropout keys, the partial batch included, so the epoch's loss and accuracy agree to float32 rounding."""
    require_framework("jax")
    from dlbench.frameworks.jax.adapter import JaxScanTrainer, JaxTrainer

    n = 1000  # 7 full batches of 128 and one of 104
    loss_loop, accuracy_loop = one_epoch(JaxTrainer, n)
    loss_scan, accuracy_scan = one_epoch(JaxScanTrainer, n)
    assert loss_scan == pytest.approx(loss_loop, rel=1e-4)
    assert accuracy_scan == pytest.approx(accuracy_loop, abs=2 / n)
    assert accuracy_loop > 0.3  # it learned something: the comparison is not of two untrained models
    # The tuned tier's CPU form: the same resident arrays, one jitted step per batch instead of the scan.
    loss_steps, accuracy_steps = one_epoch(JaxScanTrainer, n, scan=False)
    assert loss_steps == pytest.approx(loss_loop, rel=1e-4)
    assert accuracy_steps == pytest.approx(accuracy_loop, abs=2 / n)


BOTH_PLACEMENTS = """
import json, sys
import numpy as np
from dlbench import data, workloads
from dlbench.frameworks import load_adapter
from dlbench.frameworks.adapter import InputPipeline
from dlbench.worker.settings import TrialSettings
framework, n = sys.argv[1], int(sys.argv[2])
settings = {"threads": 1, "device": "cpu", "seed": 0, "precision": "fp32", "compile": "none"}
adapter = load_adapter(framework)
adapter.configure(TrialSettings.from_dict(settings))
adapter.load(TrialSettings.from_dict(settings))
workload = workloads.get("mnist_mlp")
train, _ = workload.splits(data.dataset_module("mnist").load("small", n, seed=0), adapter.layout)
module = workloads.framework_module("mnist_mlp", framework)
found = {}
for tier in ("default", "tuned"):
    if framework == "torch":
        import torch
        torch.manual_seed(0)
    elif framework == "tensorflow":
        import tensorflow as tf
        tf.random.set_seed(0)
    trainer = adapter.trainer(module, workload.SPEC, TrialSettings.from_dict(dict(settings, tier=tier)),
                              InputPipeline(None, adapter.layout))
    found[tier] = (trainer.data_placement, [float(v) for v in trainer.train_epoch(train, 128, np.random.RandomState(0))])
print(json.dumps(found))
"""


def both_placements(framework, n=1000):
    """{tier: (data_placement, (loss, accuracy) of one epoch)} for mnist_mlp on n real samples, compile none, each
    trainer built from the same seed: the default tier's host-fed loop against the tuned tier's resident one. In a
    fresh process, as a worker: TensorFlow's thread pools are set once per process."""
    result = subprocess.run([sys.executable, "-c", BOTH_PLACEMENTS, framework, str(n)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("framework", ["torch", "tensorflow", "jax"])
def test_the_default_tier_feeds_from_the_host_and_the_tuned_tier_keeps_the_set_on_the_device(framework):
    """One data-placement rule (docs/gpu.md): every native default loop takes NumPy batches from the host, every
    tuned one the training set resident on the device (here the CPU's memory, the framework's own arrays), and the
    two train the same model on the same batches: the same epoch to float32 rounding."""
    require_framework(framework)
    found = both_placements(framework)
    assert found["default"][0] == "host: per batch" and found["tuned"][0] == "device: resident"
    (loss_host, accuracy_host), (loss_device, accuracy_device) = found["default"][1], found["tuned"][1]
    assert loss_device == pytest.approx(loss_host, rel=1e-4)
    assert accuracy_device == pytest.approx(accuracy_host, abs=2 / 1000)
    assert accuracy_host > 0.3


def planned(**values):
    trials = suites.plan(suites.build({}, {"workloads": ["mnist_mlp"], "frameworks": list(MODERN), "repeats": 1,
                                           **values}))
    return sorted((t.framework, t.settings["tier"], t.settings["compile"]) for t in trials)


def test_compile_unset_is_auto_and_each_tier_resolves_it_per_framework():
    """Unset, every trial records compile "auto" (so a default suite compares all frameworks in one table), and the
    worker runs the framework's default mode, or in the tuned tier its best practice's on that device."""
    assert {c for _, _, c in planned(tier=["default", "tuned"])} == {"auto"}

    def resolved(framework, tier, device="cpu"):
        return frameworks.get(framework).compile_for(TrialSettings(compile="auto", tier=tier, device=device))
    assert [resolved(f, "default") for f in MODERN] == ["jit", "none", "none", "none", "jit", "none"]
    # Tuned on a CPU: XLA for TensorFlow; torch stays eager, keras-tensorflow gets what jit_compile="auto" gives.
    assert [resolved(f, "tuned") for f in MODERN] == ["jit", "none", "none", "none", "jit", "jit"]
    # On a GPU the tuned tier compiles torch (CUDA graphs) and keras-tensorflow (XLA, as "auto" does there).
    assert [resolved(f, "tuned", "gpu") for f in MODERN] == ["jit", "jit", "none", "jit", "jit", "jit"]
    assert resolved("torch", "default", "gpu") == "none"
    assert frameworks.get("torch").compile_for(TrialSettings(compile="jit", tier="default", device="cpu")) == "jit"


def test_asked_compile_modes_are_separate_trials_and_a_one_mode_framework_runs_its_mode():
    both = planned(compile=["none", "jit"])
    assert [c for f, _, c in both if f == "torch"] == ["jit", "none"]
    assert [c for f, _, c in both if f == "jax"] == ["jit"]  # not two identical trials under two names
    assert [c for f, _, c in planned(compile="none") if f == "keras-jax"] == ["jit"]
    assert suites.compile_modes("mnist_mlp", "cntk", ["jit"]) == ["none"]  # the legacy frameworks' own executor


def test_gpu_settings_are_checked_and_in_the_key_only_when_a_suite_sets_them():
    base = {"workloads": ["mnist_mlp"], "frameworks": ["torch"], "repeats": 1}
    (plain,) = suites.plan(suites.build({}, base))
    (set_,) = suites.plan(suites.build({"tf32": False}, dict(base, cudnn_autotune=True)))
    assert "tf32" not in json.loads(plain.key)["settings"]
    assert json.loads(set_.key)["settings"]["tf32"] is False and set_.settings["cudnn_autotune"] is True
    with pytest.raises(SuiteError, match="tf32 = 'yes' is not valid: expected true or false"):
        suites.build({}, dict(base, tf32="yes"))
    with pytest.raises(SuiteError, match="repeats = True is not valid"):  # a bool is still no integer
        suites.build({}, dict(base, repeats=True))


def test_the_tuned_tier_and_both_compile_modes_run_and_learn_in_every_framework(tmp_path):
    """The real CLI: mnist_mlp in the tuned tier with compile none and jit (torch.compile with Inductor, XLA for
    TensorFlow, Keras's jit_compile), every trial ok, learning, and the executor it ran read back."""
    for framework in MODERN:
        require_framework(framework)
    store_path = tmp_path / "s.sqlite"
    result = dlbench("run", "--workloads", "mnist_mlp", "--frameworks", ",".join(MODERN), "--tier", "tuned",
                     "--compile", "none,jit", "--data", "small", "--samples", 2000, "--epochs", 2, "--repeats", 1,
                     "--threads", 1, "--store", store_path, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    from dlbench.store import Store
    runs = Store(store_path).runs()
    used = {(r["framework"], r["settings"]["compile"]): r["env"]["compile_used"] for r in runs}
    assert used == {
        ("keras-jax", "jit"): "jit_compile=True", ("keras-tensorflow", "none"): "jit_compile=False",
        ("keras-tensorflow", "jit"): "jit_compile=True", ("keras-torch", "none"): "jit_compile=False",
        ("keras-torch", "jit"): "jit_compile=True", ("torch", "none"): "eager",
        ("torch", "jit"): "torch.compile(mode='default')",
        ("jax", "jit"): "jax.jit: one XLA program per step over the resident arrays",
        ("tensorflow", "none"): "tf.function(jit_compile=False)", ("tensorflow", "jit"): "tf.function(jit_compile=True)"}
    for run in runs:
        assert run["status"] == "ok", (run["framework"], run["error"])
        assert run["env"]["tuning"], "a tuned run says what was tuned, or that nothing was"
        # The tuned tier keeps the set on the device wherever the framework can; Keras's fit cannot. A CPU run
        # computes strict FP32 (TF32 is a GPU tensor-core format).
        native = run["framework"] in ("torch", "jax", "tensorflow")
        assert run["env"]["data_placement"] == ("device: resident" if native else "host: per batch"), run["framework"]
        assert run["env"]["matmul_precision"] == "fp32"
    summary = {(row["framework"], row["settings"]["compile"]): row for row in json.loads(result.stdout)}
    assert set(summary) == set(used)  # the two compile modes are told apart in the results
    # Learning, compiled or not: chance is 10%; two epochs on 2000 real digits reach about 85%.
    assert all(row["val_accuracy"] > 0.7 for row in summary.values()), summary


def test_layout_is_a_setting_each_framework_honours_or_refuses(tmp_path):
    """mnist_cnn with an asked layout: torch keeps NCHW tensors in its channels_last memory format, Keras on torch
    builds the model channels-last, and a framework whose workload files are written for one layout (JAX's Flax
    convolutions are NHWC) is recorded skipped with the reason, never run in another layout."""
    for framework in ("torch", "keras-torch", "jax"):
        require_framework(framework)
    with pytest.raises(SuiteError, match="layout = 'nhwc' is not valid: expected one of channels_first, channels_last"):
        suites.build({}, {"workloads": ["mnist_cnn"], "layout": "nhwc"})
    store_path = tmp_path / "s.sqlite"
    common = ("--workloads", "mnist_cnn", "--data", "small", "--samples", 600, "--epochs", 1, "--repeats", 1,
              "--threads", 1, "--store", store_path, "--json")
    assert dlbench("run", "--frameworks", "torch,keras-torch", "--layout", "channels_last", *common).returncode == 0
    refused = dlbench("run", "--frameworks", "jax", "--layout", "channels_first", *common)
    from dlbench.store import Store
    runs = {r["framework"]: r for r in Store(store_path).runs()}
    assert runs["torch"]["status"] == runs["keras-torch"]["status"] == "ok"
    assert runs["torch"]["env"]["memory_format"] == "channels_last"
    assert runs["keras-torch"]["env"]["layout"] == "channels_last"  # read back from keras.config
    assert runs["torch"]["params_total"] == runs["keras-torch"]["params_total"] == 1199882
    assert runs["torch"]["settings"]["layout"] == "channels_last"
    assert runs["jax"]["status"] == "skipped" and refused.returncode == 0  # skipped, as a refused precision is
    assert "written for channels_last only, not layout = channels_first" in runs["jax"]["error"]


def test_the_tuned_tier_runs_cifar10_cnn_with_its_augmentation_in_every_framework(tmp_path):
    """The issue's second workload: augmentation keeps each tuned form on its host pipeline, and every framework
    still runs, says what it tuned (or why nothing), and measures the pipeline's share."""
    for framework in MODERN:
        require_framework(framework)
    store_path = tmp_path / "s.sqlite"
    result = dlbench("run", "--workloads", "cifar10_cnn", "--frameworks", ",".join(MODERN), "--tier", "tuned",
                     "--data", "synthetic", "--samples", 256, "--epochs", 2, "--repeats", 1, "--threads", 1,
                     "--store", store_path)
    assert result.returncode == 0, result.stderr[-2000:]
    from dlbench.store import Store
    store = Store(store_path)
    runs = store.runs()
    assert sorted(r["framework"] for r in runs) == sorted(MODERN)
    for run in runs:
        assert run["status"] == "ok", (run["framework"], run["error"])
        assert run["params_total"] == workloads.get("cifar10_cnn").SPEC.params
        assert run["env"]["tuning"] and run["env"]["augmentation"] is True
        assert all(0 < e["input_seconds"] < e["train_seconds"] for e in store.epochs([run["id"]])[run["id"]])
    (tf_run,) = [r for r in runs if r["framework"] == "tensorflow"]
    assert tf_run["env"]["compile_used"] == "tf.function(jit_compile=True)"  # XLA: TensorFlow's tuned form


def test_one_tf32_policy_allowed_unless_a_suite_turns_it_off_and_never_on_a_cpu():
    from dlbench.frameworks.adapter import matmul_precision, tf32_allowed

    assert tf32_allowed(TrialSettings(device="gpu")) and tf32_allowed(TrialSettings(device="gpu", tf32=True))
    assert not tf32_allowed(TrialSettings(device="gpu", tf32=False))
    assert not tf32_allowed(TrialSettings(device="cpu", tf32=True))
    assert matmul_precision(True, True, True, (9, 0)) == "tf32"
    assert matmul_precision(True, False, False, (9, 0)) == "fp32"
    assert matmul_precision(False, True, True) == "fp32"  # a CPU has no TF32 tensor cores
    assert matmul_precision(True, True, True, (7, 0)) == "fp32"  # nor has a V100
    assert matmul_precision(True, False, True, (8, 0)) == "tf32 for convolutions only"  # PyTorch's own default


# Each framework's TF32 switches set and read back in a fresh process (they are process-wide), as its setup does on
# a GPU: the flags exist in the CPU builds too, so only the device itself is not exercised here.
TF32_READBACK = {
    "torch": ("import torch; from dlbench.frameworks.torch.adapter import set_torch_tf32 as put, "
              "torch_tf32_used as got; fw = torch"),
    "tensorflow": ("import tensorflow as tf; from dlbench.frameworks.tensorflow.adapter import set_tensorflow_tf32 as "
                   "put, tensorflow_tf32_used as got; fw = tf"),
    "jax": ("import jax; from dlbench.frameworks.jax.adapter import set_jax_tf32 as put, jax_matmul_precision; "
            "fw = jax; got = lambda jax, gpu, cap: (None, jax_matmul_precision("
            "jax.config.jax_default_matmul_precision, gpu, cap))"),
}


@pytest.mark.parametrize("framework", sorted(TF32_READBACK))
def test_each_framework_sets_and_reads_back_the_tf32_policy(framework):
    import subprocess
    import sys

    require_framework(framework)
    code = TF32_READBACK[framework] + "; " + "; ".join([
        "put(fw, True); a = got(fw, True, (9, 0))[1]", "put(fw, False); b = got(fw, True, (9, 0))[1]",
        "put(fw, True); c = got(fw, False, None)[1]", "print(a, b, c)"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["tf32", "fp32", "fp32"]
