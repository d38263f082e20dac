"""A run of a suite: the suite and its plan from a suite file and flags, the data checked, an executor chosen (local:
one at a time on this machine; ray: spread over a cluster), the planned trials through it, then, when the suite has
a budget, more rounds of repeats for the rows whose verdict is undecided. `dlbench run` (cli.py) parses, calls
these and prints.

An executor has one interface, which executor.LocalExecutor and ray_executor.RayExecutor implement: `run(trials,
store, suite_id, watcher)` runs a batch of trials to their end, recording them; `close()` releases what it holds;
`concurrent` says whether a batch runs at once.

Adaptive repeats decide each ranking in the least time: after the planned rounds, every row whose verdict against
its comparison's fastest is not decided (dlbench.stats: faster, slower or equal within the margin), and that
fastest row, get one more repeat, in a seeded random order, until every verdict is decided, the budget is spent or
the rows reach the suite's max_repeats. The intervals of such a suite are anytime-valid confidence sequences, so
stopping when the data decide keeps their error rate (tests/test_stats.py simulates it).
"""
from __future__ import annotations

import datetime
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from dlbench import data, executor, inference_summary, machine, summary, workloads
from dlbench import suite as suites

FINE = ("ok", "skipped")  # the statuses of a suite that succeeded


def prepare(suite_file, flags):
    """(suite, planned trials, the device asked for) from a suite file (or a bundled suite's name; None: none) and
    the flags over it; raises suite.SuiteError for bad input. The suite holds the device resolved: "auto" asked
    becomes gpu or cpu."""
    file_values = suites.load_file(suite_file) if suite_file else {}
    suite = suites.build(file_values, flags)
    return suite, suites.plan(suite), flags.get("device") or file_values.get("device")


def check_data(suite):
    """Every training workload's data is there (or downloadable) and holds the samples asked for; raises
    data.DataError. More samples than the data set has would fail every trial: refused now."""
    for workload_id in (w for w in suite.workloads if not workloads.is_inference(w)):  # inference: generated input
        if workloads.get(workload_id).SPEC.dataset is None:  # a user's model file: its data() runs in the worker
            continue
        dataset = data.dataset_module(workloads.get(workload_id).SPEC.dataset)
        dataset.ensure(suite.data)
        if suite.samples:
            dataset.load(suite.data, suite.samples, suite.seed)


def node_of(suite):
    """This machine as a run records it: host and the device the suite runs on."""
    if suite.device == "gpu":
        gpu = machine.gpus()
        return {"host": machine.hostname(), "device": gpu[0]["name"] if gpu else "gpu"}
    return {"host": machine.hostname(), "device": f"cpu: {machine.cpu_model()}"}


def connect(suite, trials):
    """The suite's executor, ready before anything is recorded: a wrong cluster address, or a cluster no node of
    which can run the trials, costs nothing (ray_executor.RayError)."""
    if suite.executor != "ray":
        return executor.LocalExecutor(node_of(suite))
    from dlbench import ray_executor
    cluster = ray_executor.connect(suite.ray_address or "auto")
    try:
        ray_executor.check_fits(cluster, trials)
    except ray_executor.RayError:
        cluster.shutdown()
        raise
    return ray_executor.RayExecutor(cluster)


def resumable(suite, trials):
    """The trials --resume looks up: the planned ones, and with a budget every repeat it may have added."""
    if suite.budget is None:
        return trials
    firsts = {identity(t): t for t in trials}.values()
    return [t.again(repeat) for t in firsts for repeat in range(suite.max_repeats)]


def failed(runs):
    """The runs whose trial did not end ok or skipped, each trial counted by its last run (Ray: a trial lost with
    its node is run again)."""
    latest = {r["trial_key"]: r for r in runs}
    return [r for r in latest.values() if r["status"] not in FINE]


def git_revision():
    """dlbench's own revision when it runs from a git checkout, so results can be traced to the code."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                                text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).parent,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


class Watcher:
    """What the command line shows while trials run; this one shows nothing."""

    def trial(self, trial):
        """A trial starts: returns the callback for its events (or None)."""
        return None

    def done(self, trial):
        pass

    def planned(self, count):
        """`count` more trials were added (a round of adaptive repeats)."""


@dataclass
class Outcome:
    rounds: int = 0                  # adaptive rounds added after the planned ones
    trials: int = 0                  # trials run in all (this invocation)
    seconds: float = 0.0
    stopped: str = "planned"         # planned (no budget), decided, budget or max_repeats
    undecided: list = field(default_factory=list)  # rows still undecided at the end (summary rows)


def summaries(store, runs):
    """(training rows, inference rows) of these runs: what the table shows and what the budget decides on."""
    ids = [r["id"] for r in runs]
    training = [r for r in runs if not workloads.is_inference(r["workload"])]
    inference = [r for r in runs if workloads.is_inference(r["workload"])]
    rows = summary.summarize(training, store.epochs([r["id"] for r in training]), store.samples(ids))
    rows_inference = inference_summary.summarize(inference, store.inference([r["id"] for r in inference])) \
        if inference else []
    return rows, rows_inference


def identity(trial):
    """What makes the repeats of one trial the same trial: its key without the repeat."""
    return trial.again(0).key


def row_trials(row, first_trials):
    """The planned trials whose runs make up a summary row."""
    return [t for t in first_trials
            if t.workload == row.workload and t.framework == row.framework
            and all(t.settings.get(k) == v for k, v in row.settings.items())
            and getattr(row, "compile", t.settings.get("compile")) == t.settings.get("compile")]


class SuiteRun:
    """One invocation of `dlbench run`: its store and suite row, and the executor that runs its trials."""

    def __init__(self, suite, store, suite_id, executor, watcher=None, clock=time.monotonic):
        self.suite, self.store, self.suite_id, self.executor = suite, store, suite_id, executor
        self.watcher, self.clock = watcher or Watcher(), clock

    def execute(self, trials):
        """Run one batch of trials to their end through the suite's executor."""
        self.executor.run(trials, self.store, self.suite_id, self.watcher)

    def run(self, planned, done=None):
        """The planned trials (those without a result in `done`, {key: run}, for --resume), then the adaptive
        rounds when the suite has a budget."""
        started = self.clock()
        done = done or {}
        pending = suites.pending(planned, done)
        self.execute(pending)
        outcome = Outcome(trials=len(pending))
        if self.suite.budget is not None:
            self.adapt(planned, done, outcome, started)
        outcome.seconds = self.clock() - started
        return outcome

    def adapt(self, planned, done, outcome, started):
        """Rounds of one more repeat for every undecided row (and its comparison's fastest), each trial started only
        while its expected time fits the budget."""
        firsts = [t.again(0) for t in {identity(t): t for t in planned}.values()]
        while True:
            runs = list(done.values()) + self.store.runs(suite_id=self.suite_id)
            open_rows = summary.undecided([row for rows in summaries(self.store, runs) for row in rows])
            outcome.undecided = [row for row in open_rows if not row.fastest]
            if not outcome.undecided:
                outcome.stopped = "decided"
                return
            by_trial = {}
            for run in runs:
                by_trial.setdefault(identity(suites.Trial(run["workload"], run["framework"], run["settings"],
                                                          run["repeat"])), []).append(run)
            wanted = {identity(t): t for row in open_rows for t in row_trials(row, firsts)}
            more = [t.again(next_repeat(by_trial.get(key, []))) for key, t in wanted.items()]
            more = [t for t in more if t.repeat < self.suite.max_repeats]
            if not more:
                outcome.stopped = "max_repeats"
                return
            order = suites.shuffled(more, self.suite.seed, f"adaptive {outcome.rounds + 1}")

            def fits(trials):
                return self.clock() - started + max(expected_seconds(by_trial.get(identity(t)), runs)
                                                    for t in trials) <= self.suite.budget
            # a cluster runs a round at once; here the trials go one at a time, each while it fits
            batches = [order] if self.executor.concurrent else [[t] for t in order]
            for batch in batches:
                if not fits(batch):
                    outcome.stopped = "budget"
                    return
                if batch is batches[0]:
                    outcome.rounds += 1
                    self.watcher.planned(len(order))
                self.execute(batch)
                outcome.trials += len(batch)


def next_repeat(runs):
    """The repeat index after the last one these runs of a trial used (a failed repeat used its index too)."""
    return max((run["repeat"] for run in runs), default=-1) + 1


def run_seconds(run):
    if not run.get("finished_at"):
        return None
    return (datetime.datetime.fromisoformat(run["finished_at"]) -
            datetime.datetime.fromisoformat(run["started_at"])).total_seconds()


def expected_seconds(own, every):
    """How long the next repeat of a trial will take: the mean of its earlier repeats (else of every run)."""
    for runs in (own or [], every):
        seconds = [s for s in map(run_seconds, runs) if s is not None]
        if seconds:
            return statistics.fmean(seconds)
    return 0.0
