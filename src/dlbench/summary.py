"""From stored runs to the summary people read: per (workload, settings, framework), the steady-state epoch time
with its interval over repeats, and the ratio to the fastest framework with its own interval and verdict (stats).
Pure: no printing, no store writes."""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field

from dlbench import peaks, stats, workloads
from dlbench.workloads import flops, user_file

# Runs are compared only when these settings agree: a different data set or thread count is another benchmark.
COMPARED_ON = ("device", "data", "samples", "batch_size", "threads", "precision", "compile", "tier", "tf32",
               "cudnn_autotune", "layout")


# The rows of `dlbench results --json` / `run --json` (docs/export.md): 2 added schema_version and kind to every row
# and moved an inference row's compile mode into its settings, where a training row has it.
JSON_SCHEMA_VERSION = 2


class Ranked:
    """What rank(), undecided() and the tables need of a summary row (training and inference alike): the interval
    it is ranked on (TIME, an interval of seconds: lower is better; a repeat's figure averages its TIME_UNIT), and
    the comparison it belongs to (workload, compared settings and SPLIT_BY: one table, ranked together)."""

    @property
    def time(self):
        return getattr(self, self.TIME)

    @property
    def time_unit(self):
        return self.TIME_UNIT

    @property
    def comparison(self):
        return (self.workload, json.dumps(self.settings, sort_keys=True), *(getattr(self, f) for f in self.SPLIT_BY))

    KIND, INTERVALS = None, ()  # to_json: the row's kind (training, inference), its fields that hold intervals

    def to_json(self):
        row = {"schema_version": JSON_SCHEMA_VERSION, "kind": self.KIND, **asdict(self)}
        for key in self.INTERVALS:
            value = getattr(self, key)
            row[key] = value._asdict() if value is not None else None
        return row


@dataclass
class Row(Ranked):
    workload: str
    framework: str
    settings: dict
    runs: int
    statuses: dict                        # status -> count
    epoch_seconds: stats.Interval | None  # steady-state epoch time: geometric mean over repeats, with its interval
    ratio: stats.Interval | None = None   # epoch time / the fastest framework's, with its interval
    fastest: bool = False
    verdict: str | None = None            # against the fastest row: slower, equivalent, tie, inconclusive (stats);
                                          # "fastest" on the fastest row itself
    verdict_reason: str | None = None     # why a verdict is inconclusive
    spread: stats.Spread | None = None    # between- and within-process relative SDs
    first_epoch_seconds: float | None = None  # time to first epoch: compilation and autotuning show here
    samples_per_second: float | None = None   # training samples over the epoch_seconds estimate
    step_ms: float | None = None          # steady-state time per training step: epoch time / batches per epoch
    val_accuracy: float | None = None
    val_loss: float | None = None
    input_share: float | None = None      # the share of steady-state training time spent in the input pipeline
    target: float | None = None
    time_to_target: float | None = None   # mean training seconds until validation first reached the target
    reached_target: int = 0               # how many of the ok runs reached it
    params: int | None = None
    rnn_kernel: str | None = None         # the recurrent kernel(s) the ok runs' frameworks ran, read from their ops
    attention_kernel: str | None = None   # the attention kernel(s) they ran (models with attention), read the same way
    data_placement: str | None = None     # where the ok runs' training data lived (host / device), read back
    matmul_precision: str | None = None   # the float32 matmul precision the ok runs used (fp32 / tf32), read back
    text_bigram_share: float | None = None  # generated text: the share of its character bigrams found in the corpus
    tflops: float | None = None           # achieved: FLOPs per training sample (workloads.flops) x samples/s
    mfu: float | None = None              # model FLOPs/s over the GPU's dense peak for what ran; None on a CPU
    peak_host_bytes: int | None = None    # the largest peak among the ok runs: resident memory of the worker
    peak_device_bytes: int | None = None  # ... and GPU memory as NVML saw it (None on a CPU)
    nodes: list = field(default_factory=list)     # "host (device)" of the ok runs: one table from several nodes
                                                  # compares machines, not only frameworks (the render warns)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # what makes an ok result suspect: garbage text, an outlying
                                                  # repeat, a warm-up that did not settle, a busy machine

    TIME, TIME_UNIT, SPLIT_BY = "epoch_seconds", "timed epochs (the warm-up left out)", ()
    KIND, INTERVALS = "training", ("epoch_seconds", "ratio", "spread")


def mean_present(values):
    """The mean of the values that are there (None: missing), or None where none is."""
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def efficiency(ok, samples_per_second):
    """Achieved TFLOP/s (the FLOPs a training sample executes, dlbench.workloads.flops, at the row's samples/s) and,
    on a known GPU, MFU: the model FLOPs (3x forward, the standard convention) at that rate over the dense peak that
    matches what the runs computed in (their precision and the float32 matmul precision they read back: TF32 or
    strict FP32)."""
    executed = next((r["flops_per_sample"] for r in ok if r.get("flops_per_sample")), None)
    if not executed or not samples_per_second:
        return {}
    run = ok[0]
    out = {"tflops": executed * samples_per_second / 1e12, "mfu": None}
    if run["settings"].get("device") == "gpu" and run["workload"] in workloads.WORKLOAD_IDS:
        model = flops.model_flops_per_sample(run["workload"], run["env"].get("hyperparameters"))
        out["mfu"] = peaks.mfu(model * samples_per_second, (run["env"].get("device") or {}).get("name"),
                               run["settings"].get("precision", "fp32"), run["env"].get("matmul_precision"))
    return out


def step_ms(epoch_seconds, ok):
    """Milliseconds per training step: the steady-state epoch over its batches (the last partial one counts)."""
    n_train = (ok[0].get("env") or {}).get("n_train") if ok else None
    batch_size = ok[0]["settings"].get("batch_size") if ok else None
    if epoch_seconds is None or not n_train or not batch_size:
        return None
    return 1000 * epoch_seconds.estimate / math.ceil(n_train / batch_size)


def _max(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def time_to_target(epochs, target, metric, target_on="validation"):
    """Training seconds (warm-up included: it is part of the real wait) until the workload's target quantity first
    reached the target: accuracy at or above it, or loss at or below it, on validation or (target_on "train", as
    the text-generation originals measured it) on the training epoch's own figures. None if it never did."""
    if target is None:
        return None
    column = ("" if target_on == "train" else "val_") + ("loss" if metric == "loss" else "accuracy")
    elapsed = 0.0
    for e in epochs:
        elapsed += e["train_seconds"]
        value = e[column]
        if value is not None and (value <= target if metric == "loss" else value >= target):
            return elapsed
    return None


def input_share(epochs):
    steady = [e for e in epochs if not e["warmup"] and e.get("input_seconds") is not None]
    if not steady:
        return None
    return sum(e["input_seconds"] for e in steady) / sum(e["train_seconds"] for e in steady)


def steady_runs(ok, epochs_by_run):
    """Per ok run with steady-state epochs: (run, its steady epoch times, warm-up epochs used, steady or not)."""
    out = []
    for run in ok:
        epochs = epochs_by_run[run["id"]]
        times, used, steady = stats.steady_epochs([e["train_seconds"] for e in epochs], [e["warmup"] for e in epochs])
        if times:
            out.append((run, times, used, steady))
    return out


BUSY_CPUS = 0.25  # other processes' CPUs beyond the ones the trial left free: more than this, and it competed


def busy_epochs(run, epochs):
    """The epochs during which other processes wanted more CPU than the machine had left beside the trial (the
    worker samples /proc/stat around each epoch; None where it could not)."""
    env = run.get("env") or {}
    spare = (env.get("cpu_count") or 0) - (env.get("threads_requested") or 0)
    return [e for e in epochs if e.get("other_cpus") is not None and e["other_cpus"] - max(spare, 0) > BUSY_CPUS]


def noise_warnings(steady, epochs_by_run):
    """What makes a row's figures suspect: a repeat far from the others, a warm-up longer than declared, epochs that
    never settled, a machine busy with other work or a hypervisor stealing time. Flagged, never dropped."""
    out = []
    if not steady:
        return out
    timed = {run["id"]: [e for i, e in enumerate(epochs_by_run[run["id"]]) if i >= used and not e["warmup"]]
             for run, _, used, _ in steady}
    busy = [e for run, _, _, _ in steady for e in busy_epochs(run, timed[run["id"]])]
    if busy:
        out.append(f"the machine was busy: other processes used up to {max(e['other_cpus'] for e in busy):.1f} CPUs "
                   f"during {len(busy)} of {sum(len(t) for t in timed.values())} timed epochs, competing with the "
                   "trial")
    steal = [e["steal"] for epochs in timed.values() for e in epochs if e.get("steal")]
    if steal and max(steal) > 0.05:
        out.append(f"the hypervisor stole up to {max(steal):.0%} of the CPU time during timed epochs")
    groups = [times for _, times, _, _ in steady]
    means = [statistics.fmean(times) for times in groups]
    median = statistics.median(means)
    for i in stats.outlying_repeats(groups):
        run = steady[i][0]
        out.append(f"repeat {run['repeat'] + 1} is an outlier: {means[i]:.3g} s per epoch against the others' "
                   f"median {median:.3g} s (kept in the figures)")
    extended = [f"#{run['repeat'] + 1}: {used} epochs" for run, _, used, _ in steady if used > 1]
    if extended:
        out.append(f"warm-up extended past the first epoch in {len(extended)} of {len(steady)} runs "
                   f"({', '.join(extended)}): those epochs were still slower than the later ones")
    unsteady = [f"#{run['repeat'] + 1}" for run, _, _, settled in steady if not settled]
    if unsteady:
        out.append(f"not steady after the warm-up in {len(unsteady)} run(s) ({', '.join(unsteady)}): "
                   "run more epochs")
    return out


def summarize(runs, epochs_by_run, samples_by_run=None):
    """Rows for every (workload, compared settings, framework) among `runs`, in the order first seen.
    `samples_by_run`: the generated texts of text workloads (Store.samples)."""
    samples_by_run = samples_by_run or {}
    groups = {}
    for run in runs:
        compared = {k: run["settings"].get(k) for k in COMPARED_ON}
        key = (run["workload"], json.dumps(compared, sort_keys=True), run["framework"])
        groups.setdefault(key, (compared, []))[1].append(run)

    rows, steady_times = [], []
    for (workload, _, framework), (compared, group) in groups.items():
        statuses = {}
        for run in group:
            statuses[run["status"]] = statuses.get(run["status"], 0) + 1
        ok = [run for run in group if run["status"] == "ok"]
        steady = steady_runs(ok, epochs_by_run)
        times = [t for _, t, _, _ in steady]
        last = [epochs_by_run[r["id"]][-1] for r in ok if epochs_by_run[r["id"]]]
        target = group[0]["settings"].get("target")
        spec = workloads.get(workload).SPEC if workload in workloads.WORKLOAD_IDS else None
        metric, target_on = (spec.metric, spec.target_on) if spec else ("accuracy", "validation")
        reached = [t for t in (time_to_target(epochs_by_run[r["id"]], target, metric, target_on) for r in ok)
                   if t is not None]
        samples = [samples_by_run[r["id"]] for r in ok if r["id"] in samples_by_run]
        kernels = sorted({r["rnn_kernel"] for r in ok if r.get("rnn_kernel")})
        attention = sorted({r.get("attention_kernel") for r in ok} - {None})
        epoch_seconds = stats.mean_interval(times, anytime=adaptive(ok)) if times else None
        n_train = (ok[0].get("env") or {}).get("n_train") if ok else None
        per_second = n_train / epoch_seconds.estimate if epoch_seconds and n_train else None
        rows.append(Row(
            workload=workload, framework=framework, settings=compared, runs=len(group), statuses=statuses,
            epoch_seconds=epoch_seconds, step_ms=step_ms(epoch_seconds, ok),
            spread=stats.spread(times) if times else None,
            first_epoch_seconds=mean_present([epochs_by_run[r["id"]][0]["train_seconds"] for r in ok
                                       if epochs_by_run[r["id"]] and epochs_by_run[r["id"]][0]["warmup"]]),
            samples_per_second=per_second,
            val_accuracy=mean_present([e["val_accuracy"] for e in last]),
            val_loss=mean_present([e["val_loss"] for e in last]),
            input_share=mean_present([input_share(epochs_by_run[r["id"]]) for r in ok]),
            target=target, time_to_target=mean_present(reached), reached_target=len(reached),
            params=ok[0]["params_total"] if ok else None,
            rnn_kernel="; ".join(kernels) or None, attention_kernel="; ".join(attention) or None,
            data_placement=read_back(ok, "data_placement"), matmul_precision=read_back(ok, "matmul_precision"),
            text_bigram_share=mean_present([sample["bigram_share"] for sample in samples]),
            **efficiency(ok, per_second),
            peak_host_bytes=_max([r.get("peak_host_bytes") for r in ok]),
            peak_device_bytes=_max([r.get("peak_device_bytes") for r in ok]),
            nodes=sorted({f"{r['node_host']} ({r['node_device']})" for r in ok if r.get("node_host")}),
            errors=sorted({run["error"] for run in group if run["status"] != "ok" and run["error"]}),
            warnings=sorted({f"generated text looks broken: {sample['reason']}" for sample in samples
                             if not sample["ok"]}) + noise_warnings(steady, epochs_by_run),
        ))
        steady_times.append((times, adaptive(ok)))
    rank(rows, steady_times)
    parameter_mismatches(rows)
    return rows


def parameter_mismatches(rows):
    """A user's model file has no declared parameter count to check each framework against (dlbench verify does
    that for the bundled workloads): its frameworks are checked against each other, and a row whose count differs
    from another's gets a warning that names both."""
    by_workload = {}
    for row in rows:
        if user_file.is_user_model(row.workload) and row.params is not None:
            by_workload.setdefault(row.workload, []).append(row)
    for members in by_workload.values():
        counts = {}
        for row in members:
            counts.setdefault(row.params, []).append(row.framework)
        if len(counts) < 2:
            continue
        usual = max(counts, key=lambda count: len(counts[count]))  # the count most frameworks agree on
        for row in members:
            if row.params != usual:
                names = list(dict.fromkeys(counts[usual]))
                others, verb = ", ".join(names), "counts" if len(names) == 1 else "count"
                row.warnings.append(f"{row.params:,} parameters, where {others} {verb} {usual:,}: the model "
                                    "differs between the frameworks")


def read_back(runs, key):
    """What the runs' environments say for `key`, their distinct values joined (None where none says)."""
    return "; ".join(sorted({str(r["env"][key]) for r in runs if r.get("env") and r["env"].get(key)})) or None


def adaptive(runs):
    """Whether any of these runs came from a suite whose repeats a budget decided: then every interval and ratio
    involving them is the anytime-valid one (stats), which stopping on the data leaves valid."""
    return any(run["settings"].get("adaptive") for run in runs)


def rank(rows, samples):
    """Within each comparison, the fastest row by its `time` (an interval of seconds) and every row's ratio to it,
    with its verdict. `samples`: per row, (its time values per repeat, adaptive)."""
    by_group = {}
    for row, sample in zip(rows, samples):
        if row.time is not None:
            by_group.setdefault(row.comparison, []).append((row, sample))
    for members in by_group.values():
        fastest, (fastest_times, fastest_adaptive) = min(members, key=lambda member: member[0].time.estimate)
        for row, (times, row_adaptive) in members:
            row.fastest = row is fastest
            if row.fastest:
                row.ratio = stats.Interval(1.0, 1.0, 1.0, "reference", row.time.n, row.time.groups)
                row.verdict = "fastest"
                continue
            row.ratio = stats.ratio_interval(times, fastest_times, anytime=row_adaptive or fastest_adaptive)
            row.verdict = stats.verdict(row.ratio)
            if row.verdict == "inconclusive":
                row.verdict_reason = stats.why_inconclusive(row.ratio)


def undecided(rows):
    """The rows that need more repeats for a decided verdict: in each comparison with a row whose verdict against
    the fastest is not decided (stats.DECIDED), those rows and the fastest. Rows without a result are left alone."""
    by_group = {}
    for row in rows:
        if row.time is not None:
            by_group.setdefault(row.comparison, []).append(row)
    out = []
    for members in by_group.values():
        open_rows = [row for row in members if not row.fastest and row.verdict not in stats.DECIDED]
        if open_rows:
            out += [row for row in members if row.fastest] + open_rows
    return out
