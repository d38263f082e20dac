"""Adaptive repeats: which rows get another repeat, when the budget stops, what is left undecided. The runner's own
logic runs against a real store, with an executor that records trials whose epoch times come from a known two-level
noise model (the statistics are tested for what they claim in test_stats.py); then `dlbench run --budget` end to
end with real frameworks."""
import datetime
import json

import numpy as np

from conftest import dlbench, require_framework
from dlbench import runner, suite as suites
from dlbench.store import Store

NODE = {"host": "testhost", "device": "cpu: test"}
TRIAL_SECONDS = 10.0


class ModelledExecutor:
    """An executor (runner's interface) whose trials are recorded from a model instead of run: `speed[framework]`
    seconds per epoch, a per-process factor with SD `between`, per-epoch noise 1%. Each trial takes TRIAL_SECONDS
    on a fake clock."""

    concurrent = False

    def __init__(self, speed, between):
        self.now = 0.0
        self.speed, self.between, self.executed = speed, between, []

    def close(self):
        pass

    def run(self, trials, store, suite_id, watcher):
        self.store, self.suite_id = store, suite_id
        for trial in trials:
            rng = np.random.default_rng([sum(map(ord, trial.framework)), trial.repeat])
            scale = self.speed[trial.framework] * np.exp(rng.normal(0, self.between))
            times = [3 * scale] + list(scale * np.exp(rng.normal(0, 0.01, 4)))
            run_id = self.store.start_run(self.suite_id, trial, NODE)
            self.store.apply_events(run_id, [
                {"event": "epoch", "epoch": i + 1, "warmup": i == 0, "train_seconds": t, "loss": 1.0}
                for i, t in enumerate(times)] + [{"event": "end", "status": "ok"}])
            started = datetime.datetime.fromisoformat(self.store.runs()[-1]["started_at"])
            self.store.db.execute("UPDATE runs SET finished_at = ? WHERE id = ?",
                                  ((started + datetime.timedelta(seconds=TRIAL_SECONDS)).isoformat(), run_id))
            self.now += TRIAL_SECONDS
            self.executed.append((trial.framework, trial.repeat))


class ModelledRun(runner.SuiteRun):
    """A SuiteRun through the modelled executor, on its fake clock."""

    def __init__(self, suite, store, speed, between):
        modelled = ModelledExecutor(speed, between)
        super().__init__(suite, store, store.begin_suite("modelled", {}), modelled, clock=lambda: modelled.now)
        self.executed = modelled.executed


def modelled(tmp_path, speed, budget=1000, max_repeats=20, between=0.03):
    suite = suites.build({}, {"workloads": ["mnist_mlp"], "frameworks": list(speed), "repeats": 3, "threads": 1,
                              "budget": budget, "max_repeats": max_repeats})
    run = ModelledRun(suite, Store(tmp_path / "s.sqlite"), speed, between)
    return run, run.run(suites.plan(suite))


def repeats_of(run, framework):
    return sorted(r for f, r in run.executed if f == framework)


def test_clear_differences_are_decided_in_the_planned_rounds(tmp_path):
    run, outcome = modelled(tmp_path, {"torch": 1.0, "jax": 2.0, "tensorflow": 3.0})
    assert outcome.stopped == "decided" and outcome.rounds == 0 and outcome.undecided == []
    assert len(run.executed) == 9


def test_only_undecided_rows_and_their_fastest_get_more_repeats(tmp_path):
    # keras-jax is 10% slower than torch with 3% process noise: 3 repeats cannot decide it, a few more can; jax is
    # decidedly slower from the start and gets no more.
    run, outcome = modelled(tmp_path, {"torch": 1.0, "keras-jax": 1.1, "jax": 3.0})
    assert outcome.stopped == "decided" and outcome.rounds >= 1
    assert repeats_of(run, "jax") == [0, 1, 2]
    assert repeats_of(run, "torch") == repeats_of(run, "keras-jax") == list(range(3 + outcome.rounds))
    runs = run.store.runs()
    assert all(r["settings"]["adaptive"] for r in runs)
    rows = {row.framework: row for row in runner.summaries(run.store, runs)[0]}
    assert rows["keras-jax"].verdict == "slower" and rows["keras-jax"].ratio.method.startswith("anytime-valid")


def test_the_budget_and_max_repeats_stop_an_undecidable_comparison(tmp_path):
    speed = {"torch": 1.0, "keras-jax": 1.01}  # 1% apart with 3% process noise: not decided in 20 repeats
    run, outcome = modelled(tmp_path, speed, budget=95)
    # 6 planned trials took 60 s; a round of 2 (80 s) fits; at 90 s the next 10 s trial would end past 95 s.
    assert outcome.stopped == "budget" and outcome.rounds == 2 and len(run.executed) == 9
    (row,) = outcome.undecided  # the slower of the two by its estimate, against the other
    assert row.framework in speed and row.verdict in ("tie", "inconclusive")
    _, outcome = modelled(tmp_path / "more", speed, max_repeats=5)
    assert outcome.stopped == "max_repeats" and outcome.rounds == 2 and outcome.trials == 10


def test_run_with_a_budget_end_to_end(tmp_path):
    for framework in ("torch", "jax"):
        require_framework(framework)
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--workloads", "mnist_mlp", "--frameworks", "torch,jax", "--data", "small", "--samples",
                     "500", "--epochs", "3", "--repeats", "2", "--budget", "45s", "--max-repeats", "3",
                     "--threads", "1", "--store", store, "--json", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--budget 0.75 min:" in result.stderr
    rows = json.loads(result.stdout)
    assert {row["framework"] for row in rows} == {"torch", "jax"}
    assert all(row["epoch_seconds"]["method"].startswith("anytime-valid") for row in rows)
    runs = Store(store).runs()
    assert 4 <= len(runs) <= 6 and all(r["settings"]["adaptive"] for r in runs)


def test_resume_of_a_budget_suite_looks_up_every_repeat_it_may_have_added():
    from dlbench.runner import resumable
    fixed = suites.build({}, {"workloads": ["mnist_mlp"], "frameworks": ["torch", "jax"], "repeats": 3})
    assert resumable(fixed, suites.plan(fixed)) == suites.plan(fixed)
    adaptive = suites.build({}, {"workloads": ["mnist_mlp"], "frameworks": ["torch", "jax"], "repeats": 3,
                                 "budget": "1m", "max_repeats": 7})
    keys = {json.loads(t.key)["repeat"] for t in resumable(adaptive, suites.plan(adaptive))}
    assert keys == set(range(7)) and len(resumable(adaptive, suites.plan(adaptive))) == 14
