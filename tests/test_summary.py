import numpy as np
import pytest
import scipy.stats

from dlbench.store import Store
from dlbench.summary import summarize

from test_store import NODE, epoch, trial


def fill(store, framework, repeat, seconds, status="ok", settings=None):
    suite_id = store.last_suite_id() or store.begin_suite("t", {})
    run_id = store.start_run(suite_id, trial(framework, repeat, **(settings or {})), NODE)
    events = [{"event": "model", "params_total": 669706, "params_trainable": 669706}]
    events += [epoch(i + 1, s, warmup=(i == 0)) for i, s in enumerate(seconds)]
    store.apply_events(run_id, events + [{"event": "end", "status": status, "error": None if status == "ok"
                                          else "RuntimeError: it broke", "detail": None}])


def rows_by_framework(store):
    runs = store.runs()
    return {row.framework: row for row in summarize(runs, store.epochs([r["id"] for r in runs]))}


def test_fastest_ratio_and_steady_state(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    scales = (1.0, 1.04, 0.97)  # each process has its own speed
    for repeat, scale in enumerate(scales):
        fill(store, "torch", repeat, [9.0] + [scale * t for t in (1.00, 1.02, 0.98, 1.01)])
        fill(store, "jax", repeat, [30.0] + [scale * t for t in (2.00, 2.04, 1.96, 2.02)][::-1])
    rows = rows_by_framework(store)
    torch, jax = rows["torch"], rows["jax"]
    assert torch.fastest and not jax.fastest and torch.verdict == "fastest"
    # The warm-up epoch (9 s, 30 s) is out: each repeat's figure is its steady mean, the estimate their geometric
    # mean, the interval Student's t on their logs (recomputed here with scipy).
    logs = np.log([1.0025 * s for s in scales])
    half = scipy.stats.t.ppf(0.975, 2) * logs.std(ddof=1) / np.sqrt(3)
    assert torch.epoch_seconds.estimate == pytest.approx(np.exp(logs.mean()))
    assert (torch.epoch_seconds.low, torch.epoch_seconds.high) == pytest.approx(np.exp([logs.mean() - half,
                                                                                         logs.mean() + half]))
    assert torch.first_epoch_seconds == 9.0 and jax.first_epoch_seconds == 30.0
    assert torch.epoch_seconds.groups == 3 and torch.epoch_seconds.n == 12
    assert jax.ratio.estimate == pytest.approx(2.0)  # jax's repeats are torch's, twice as slow
    assert jax.ratio.low > 1.0 and jax.verdict == "slower"
    assert torch.ratio.estimate == 1.0
    assert torch.params == 669706 and torch.val_accuracy == 0.6 and torch.statuses == {"ok": 3}
    assert torch.spread.within == pytest.approx(np.log([1.00, 1.02, 0.98, 1.01]).std(ddof=1), rel=0.05)


def test_two_repeats_give_an_interval_but_no_verdict(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for repeat, scale in enumerate((1.0, 1.03)):
        fill(store, "torch", repeat, [9.0] + [scale * t for t in (1.00, 1.02, 0.98, 1.01)])
        fill(store, "jax", repeat, [30.0] + [scale * t for t in (2.00, 2.04, 1.96, 2.02)])
    jax = rows_by_framework(store)["jax"]
    assert jax.epoch_seconds.low is not None and jax.ratio.low is not None
    assert jax.verdict == "inconclusive" and "a verdict needs 3" in jax.verdict_reason


def test_samples_per_second_follows_the_epoch_estimate(tmp_path):
    """The table must never rank a framework slower yet show it with more samples/s: both come from one estimate."""
    store = Store(tmp_path / "s.sqlite")
    suite_id = store.begin_suite("t", {})
    for repeat, times in enumerate(([5.0, 1.0, 3.0], [5.0, 2.0, 2.0])):
        run_id = store.start_run(suite_id, trial("torch", repeat), NODE)
        store.apply_events(run_id, [{"event": "env", "n_train": 1000}]
                           + [epoch(i + 1, s, warmup=(i == 0)) for i, s in enumerate(times)]
                           + [{"event": "end", "status": "ok", "error": None, "detail": None}])
    row = rows_by_framework(store)["torch"]
    assert row.samples_per_second == pytest.approx(1000 / row.epoch_seconds.estimate)
    assert row.epoch_seconds.estimate == pytest.approx(2.0)


def test_an_outlying_repeat_and_a_long_warmup_are_flagged(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for repeat, scale in enumerate((1.0, 1.01, 0.99, 1.5)):
        fill(store, "torch", repeat, [9.0] + [scale * t for t in (1.00, 1.02, 0.98, 1.01)])
    fill(store, "torch", 4, [9.0, 1.8, 1.0, 1.02, 0.99])
    row = rows_by_framework(store)["torch"]
    assert any(w.startswith("repeat 4 is an outlier") for w in row.warnings)
    assert any("warm-up extended past the first epoch in 1 of 5 runs (#5: 2 epochs)" in w for w in row.warnings)
    assert row.epoch_seconds.groups == 5  # flagged, not dropped


def test_no_ci_from_a_single_steady_value(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    fill(store, "torch", 0, [5.0, 1.0])
    row = rows_by_framework(store)["torch"]
    assert row.epoch_seconds.estimate == 1.0
    assert row.epoch_seconds.low is None and row.epoch_seconds.high is None


def test_failed_runs_are_reported_not_averaged(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    fill(store, "torch", 0, [5.0, 1.0, 1.0])
    fill(store, "torch", 1, [5.0, 100.0, 100.0], status="failed")
    row = rows_by_framework(store)["torch"]
    assert row.statuses == {"ok": 1, "failed": 1}
    assert row.epoch_seconds.estimate == 1.0
    assert row.errors == ["RuntimeError: it broke"]


def test_different_settings_are_not_compared(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    fill(store, "torch", 0, [5.0, 1.0, 1.0], settings={"threads": 1})
    fill(store, "jax", 0, [5.0, 3.0, 3.0], settings={"threads": 2})
    rows = summarize(store.runs(), store.epochs([r["id"] for r in store.runs()]))
    assert len(rows) == 2 and all(row.fastest for row in rows)
    assert all(row.epoch_seconds.across_repeats is False for row in rows)  # one repeat: within-process only


def test_time_to_target_and_input_share():
    from dlbench.summary import input_share, time_to_target
    epochs = [{"train_seconds": 3.0, "val_accuracy": 0.5, "val_loss": 2.0, "warmup": 1, "input_seconds": 1.0},
              {"train_seconds": 1.0, "val_accuracy": 0.97, "val_loss": 1.0, "warmup": 0, "input_seconds": 0.25},
              {"train_seconds": 1.0, "val_accuracy": 0.99, "val_loss": 0.5, "warmup": 0, "input_seconds": 0.25}]
    assert time_to_target(epochs, 0.97, "accuracy") == 4.0   # warm-up epoch included: it is part of the wait
    assert time_to_target(epochs, 0.995, "accuracy") is None
    assert time_to_target(epochs, 0.6, "loss") == 5.0
    assert time_to_target(epochs, None, "accuracy") is None
    # char_lstm's target is a training loss, as its original measured it: the epochs' own loss, not val_loss
    trained = [{**e, "loss": loss} for e, loss in zip(epochs, (3.0, 1.5, 1.3))]
    assert time_to_target(trained, 1.4, "loss", target_on="train") == 5.0
    assert time_to_target(trained, 1.4, "loss") == 4.0  # validation loss crossed it an epoch earlier
    assert input_share(epochs) == 0.25                          # steady-state epochs only
    assert input_share([{**e, "input_seconds": None} for e in epochs]) is None


def test_time_per_step_is_the_steady_epoch_over_its_batches(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    suite_id = store.begin_suite("t", {})
    run_id = store.start_run(suite_id, trial("torch", 0, batch_size=128), NODE)
    store.apply_events(run_id, [{"event": "env", "n_train": 1000}]
                       + [epoch(i + 1, s, warmup=(i == 0)) for i, s in enumerate([5.0, 0.8, 0.8])]
                       + [{"event": "end", "status": "ok", "error": None, "detail": None}])
    fill(store, "jax", 0, [3.0, 1.0, 1.0])  # no env event: the step time is unknown, not guessed
    rows = rows_by_framework(store)
    # 1,000 samples in batches of 128: 8 steps, the last one partial
    assert abs(rows["torch"].step_ms - 100.0) < 1e-9 and rows["jax"].step_ms is None


class _Events:
    def __init__(self):
        self.emitted = []

    def emit(self, kind, **fields):
        self.emitted.append(fields)


class _Trainer:
    """What the clock calls on a trainer: sync and evaluate."""
    def sync(self):
        pass

    def evaluate(self, split, batch_size):
        return 0.5, 0.9


def test_the_epoch_clock_records_setup_in_the_first_epoch_only_and_stops_on_a_diverged_loss():
    from dlbench.frameworks.adapter import InputPipeline
    from dlbench.worker.settings import TrialSettings
    from dlbench.worker.training import EpochClock
    from dlbench.workloads.spec import Split

    events = _Events()
    split = Split([np.zeros((10, 2))], [np.zeros(10)])
    clock = EpochClock(_Trainer(), InputPipeline(), split, split, TrialSettings(batch_size=5), 1, events)
    clock.begin()
    clock.setup(0.25)  # Keras's one fit: its setup before the first epoch
    assert clock.end(1, 1.0, 0.5) is True
    clock.begin()
    assert clock.end(2, 0.8, 0.6) is True
    clock.begin()
    assert clock.end(3, float("nan"), 0.1) is False  # the trainer stops here
    first, second, third = events.emitted
    assert first["call_seconds"] == 0.25 and second["call_seconds"] is None
    assert [e["warmup"] for e in events.emitted] == [True, False, False]
    assert first["train_seconds"] > 0 and first["samples_per_second"] == 10 / first["train_seconds"]
    assert (first["val_loss"], first["val_accuracy"]) == (0.5, 0.9)
    assert clock.diverged == "training loss became nan in epoch 3"
