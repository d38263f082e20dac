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
    for repeat in range(2):
        fill(store, "torch", repeat, [9.0, 1.00, 1.02, 0.98, 1.01])
        fill(store, "jax", repeat, [30.0, 2.00, 2.04, 1.96, 2.02])
    rows = rows_by_framework(store)
    torch, jax = rows["torch"], rows["jax"]
    assert torch.fastest and not jax.fastest
    # The warm-up epoch (9 s, 30 s) is out of the steady-state mean but is the time to first epoch.
    assert abs(torch.epoch_seconds.estimate - 1.0025) < 1e-9
    assert torch.first_epoch_seconds == 9.0 and jax.first_epoch_seconds == 30.0
    assert torch.epoch_seconds.low < 1.0025 < torch.epoch_seconds.high
    assert torch.epoch_seconds.groups == 2 and torch.epoch_seconds.n == 8
    assert 1.9 < jax.ratio.estimate < 2.1 and jax.ratio.low > 1.0 and not jax.tie_with_fastest
    assert torch.ratio.estimate == 1.0
    assert torch.params == 669706 and torch.val_accuracy == 0.6 and torch.statuses == {"ok": 2}


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


def test_time_to_target_and_input_share():
    from dlbench.summary import input_share, time_to_target
    epochs = [{"train_seconds": 3.0, "val_accuracy": 0.5, "val_loss": 2.0, "warmup": 1, "input_seconds": 1.0},
              {"train_seconds": 1.0, "val_accuracy": 0.97, "val_loss": 1.0, "warmup": 0, "input_seconds": 0.25},
              {"train_seconds": 1.0, "val_accuracy": 0.99, "val_loss": 0.5, "warmup": 0, "input_seconds": 0.25}]
    assert time_to_target(epochs, 0.97, "accuracy") == 4.0   # warm-up epoch included: it is part of the wait
    assert time_to_target(epochs, 0.995, "accuracy") is None
    assert time_to_target(epochs, 0.6, "loss") == 5.0
    assert time_to_target(epochs, None, "accuracy") is None
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


class _Trainer:
    """Only the attribute the worker reads: a trainer's epoch window, as Keras's callback leaves it."""
    epoch_window = None


def test_a_per_call_setup_counts_in_the_warmup_epoch_only():
    from dlbench.worker.run import epoch_seconds

    trainer = _Trainer()
    assert epoch_seconds(trainer, False, 10.0, 12.0) == (2.0, None)  # a native loop: the call is the epoch
    trainer.epoch_window = (10.5, 11.75)
    assert epoch_seconds(trainer, True, 10.0, 12.0) == (2.0, 0.75)  # the user's single fit pays setup once, here
    assert trainer.epoch_window is None  # read once: a stale window never leaks into the next epoch
    trainer.epoch_window = (10.5, 11.75)
    assert epoch_seconds(trainer, False, 10.0, 12.0) == (1.25, 0.75)
