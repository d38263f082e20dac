"""Tiers: `default` and `tuned` are trial settings that both run in one suite, and the tuned forms keep the
workload's semantics (every sample once per epoch, in the default tier's shuffled order, the last partial batch
kept), so a tuned run trains the same model as a default one."""
import numpy as np
import pytest

from dlbench import data, suite as suites, workloads
from dlbench.frameworks import load_adapter
from dlbench.frameworks.adapter import InputPipeline
from dlbench.suite import SuiteError
from conftest import require_framework


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


def one_epoch(trainer_class, n):
    """Loss and accuracy of one epoch of mnist_mlp on n real MNIST samples (n not a multiple of the batch)."""
    settings = {"threads": 1, "device": "cpu", "seed": 0, "tier": "tuned"}
    adapter = load_adapter("jax")
    adapter.configure(settings)
    adapter.load(settings)
    workload = workloads.get("mnist_mlp")
    train, _ = workload.splits(data.dataset_module("mnist").load("small", n, seed=0), adapter.layout)
    module = workloads.framework_module("mnist_mlp", "jax")
    trainer = trainer_class(module, workload.SPEC.hp, 0, InputPipeline(None, adapter.layout))
    return trainer.train_epoch(train, 128, np.random.RandomState(0))


def test_the_jax_whole_epoch_scan_trains_exactly_as_the_step_loop():
    """The tuned tier's lax.scan (the GPU form) against the default nnx.jit step loop: same samples, same order,
    same dropout keys, the partial batch included, so the epoch's loss and accuracy agree to float32 rounding."""
    require_framework("jax")
    from dlbench.frameworks.jax_adapter import JaxScanTrainer, JaxTrainer

    n = 1000  # 7 full batches of 128 and one of 104
    loss_loop, accuracy_loop = one_epoch(JaxTrainer, n)
    loss_scan, accuracy_scan = one_epoch(JaxScanTrainer, n)
    assert loss_scan == pytest.approx(loss_loop, rel=1e-4)
    assert accuracy_scan == pytest.approx(accuracy_loop, abs=2 / n)
    assert accuracy_loop > 0.3  # it learned something: the comparison is not of two untrained models
