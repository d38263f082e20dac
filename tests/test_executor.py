"""Real worker processes failing in real ways: each costs one trial, is recorded with its reason, and loses nothing."""
import os
import signal

import pytest

from dlbench import executor, frameworks
from dlbench.store import Store
from dlbench.suite import Trial

from conftest import require_framework
from test_reliability import running
from test_store import NODE


def torch_trial(timeout=None, **settings):
    base = {"device": "cpu", "precision": "fp32", "compile": "none", "tier": "default", "batch_size": 128,
            "data": "small", "samples": 1000, "epochs": 2, "threads": 1, "seed": 0}
    base.update(settings)
    return Trial("mnist_mlp", "torch", base, 0, timeout)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "s.sqlite")
    s.suite_id = s.begin_suite("t", {})
    return s


def test_missing_framework_is_skipped_with_the_install_hint(store, monkeypatch):
    ghost = frameworks.Framework("ghost", "Ghost", ["dlbench_no_such_package"], [], ["ghost"], "dlbench.frameworks.torch")
    monkeypatch.setitem(frameworks.FRAMEWORKS, "ghost", ghost)
    trial = Trial("mnist_mlp", "ghost", torch_trial().settings, 0)
    assert executor.run_trial(trial, store, store.suite_id, NODE) == "skipped"
    (run,) = store.runs()
    assert run["status"] == "skipped"
    assert "missing dlbench_no_such_package" in run["error"] and "pip install 'dlbench[ghost]'" in run["error"]


def test_worker_that_raises_is_failed_with_its_error(store):
    # 9000 samples of an 8000-sample data set: the worker's data loader raises before any framework is imported.
    assert executor.run_trial(torch_trial(samples=9000), store, store.suite_id, NODE) == "failed"
    (run,) = store.runs()
    assert run["status"] == "failed"
    assert run["error"].startswith("DataError:") and "8000" in run["error"]
    assert "Traceback" in run["detail"]
    assert run["exit_code"] == 0  # it ended properly, with its final event


def test_worker_killed_mid_trial_is_failed_and_keeps_its_earlier_events(store):
    require_framework("torch")

    def kill_after_env(event):
        if event["event"] == "start":
            kill_after_env.pid = event["pid"]
        if event["event"] == "model":
            os.kill(kill_after_env.pid, signal.SIGKILL)

    status = executor.run_trial(torch_trial(epochs=50), store, store.suite_id, NODE, on_event=kill_after_env)
    assert status == "failed"
    (run,) = store.runs()
    assert run["error"].startswith("the worker was killed by signal 9 (SIGKILL) before its final event")
    assert "out-of-memory killer" in run["error"]
    assert run["exit_code"] == -9
    assert run["params_total"] == 669706 and run["env"]["threads"]["intra_op"] == 1  # kept


def test_trial_past_its_timeout_is_stopped_with_its_process_group(store):
    require_framework("torch")
    seen = {}

    def remember(event):
        if event["event"] == "start":
            seen["pid"] = event["pid"]

    status = executor.run_trial(torch_trial(timeout=8, epochs=10000), store, store.suite_id, NODE,
                                on_event=remember)
    assert status == "timeout"
    (run,) = store.runs()
    assert run["status"] == "timeout" and "8 s timeout" in run["error"]
    assert not running(seen["pid"])
