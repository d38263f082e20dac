"""From stored inference runs to the summary people read (the inference counterpart of summary.py): one row per
(workload, compared settings, framework, compile mode, batch size) with images/s and its bootstrap 95% CI over the
timed passes (hierarchical over repeats), the time ratio to the fastest runtime at that batch size with its own CI,
latency percentiles, time to first result, peak memory and the feature check. Pure: no printing, no store writes."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from dlbench import stats
from dlbench.summary import _mean

# Inference runs are compared (one table) when these agree; compile mode and batch size are rows of the table.
COMPARED_ON = ("device", "samples", "threads", "precision", "tier", "epochs", "batch_sizes")


@dataclass
class InferenceRow:
    workload: str
    framework: str
    compile: str                              # the trial's compile setting: none or jit
    settings: dict                            # the compared settings (COMPARED_ON)
    batch_size: int | None                    # None: the runs have no result (skipped, failed)
    runs: int
    statuses: dict
    items_per_second: stats.Interval | None = None  # images / mean pass seconds, CI from the passes' bootstrap CI
    ratio: stats.Interval | None = None       # mean pass seconds / the fastest runtime's at this batch size
    fastest: bool = False
    tie_with_fastest: bool = False
    seconds_per_1000: float | None = None
    latency_p50: float | None = None          # seconds per batch (mean over runs)
    latency_p90: float | None = None
    latency_p99: float | None = None
    first_result_seconds: float | None = None  # load + compile + first batch
    peak_host_bytes: int | None = None
    allocator_peak_bytes: int | None = None
    max_relative_error: float | None = None   # the feature check, worst run
    check_ok: bool | None = None              # every ok run's check passed
    runtime: str | None = None                # what actually ran (e.g. torch.compile (Inductor))
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # ok runs whose result is suspect (a failed feature check)

    @property
    def label(self):
        return self.framework if self.compile == "none" else f"{self.framework} ({self.compile})"

    def to_json(self):
        row = asdict(self)
        row["kind"] = "inference"
        for key in ("items_per_second", "ratio"):
            interval = getattr(self, key)
            row[key] = interval._asdict() if interval is not None else None
        return row


def throughput(images, seconds_ci):
    """images/s from a CI of the mean pass seconds: the bounds swap (a longer pass is a lower throughput)."""
    flip = (lambda s: images / s if s else None)
    return stats.Interval(flip(seconds_ci.estimate), flip(seconds_ci.high) if seconds_ci.high is not None else None,
                          flip(seconds_ci.low) if seconds_ci.low is not None else None, seconds_ci.method,
                          seconds_ci.n, seconds_ci.groups)


def summarize(runs, inference_by_run, n_resamples=1000, seed=0):
    """Rows for every inference run among `runs` (Store.inference gives `inference_by_run`), in the order first
    seen, batch sizes ascending within each framework and mode."""
    groups = {}
    for run in runs:
        compared = {k: run["settings"].get(k) for k in COMPARED_ON}
        key = (run["workload"], json.dumps(compared, sort_keys=True), run["framework"],
               run["settings"].get("compile"))
        groups.setdefault(key, (compared, []))[1].append(run)

    rows, passes = [], []
    for (workload, _, framework, mode), (compared, group) in groups.items():
        statuses = {}
        for run in group:
            statuses[run["status"]] = statuses.get(run["status"], 0) + 1
        ok = [run for run in group if run["status"] == "ok" and run["id"] in inference_by_run]
        results = [inference_by_run[run["id"]] for run in ok]
        common = dict(
            workload=workload, framework=framework, compile=mode, settings=compared, runs=len(group),
            statuses=statuses, first_result_seconds=_mean([r.get("first_result_seconds") for r in results]),
            peak_host_bytes=max([r["peak_host_bytes"] for r in ok if r.get("peak_host_bytes")], default=None),
            allocator_peak_bytes=max([r["allocator_peak_bytes"] for r in ok if r.get("allocator_peak_bytes")],
                                     default=None),
            max_relative_error=max([r["max_relative_error"] for r in results
                                    if r.get("max_relative_error") is not None], default=None),
            check_ok=all(r.get("check_ok") == 1 for r in results) if results else None,
            runtime="; ".join(sorted({r["compile"] for r in results if r.get("compile")})) or None,
            errors=sorted({run["error"] for run in group if run["status"] != "ok" and run["error"]}),
            warnings=[f"feature check failed: relative error {r['max_relative_error']:.2e} > {r['tolerance']:g}"
                      for r in results if r.get("check_ok") == 0],
        )
        sizes = sorted({b["batch_size"] for r in results for b in r["batches"]})
        if not sizes:
            rows.append(InferenceRow(batch_size=None, **common))
            passes.append(None)
            continue
        for size in sizes:
            batches = [b for r in results for b in r["batches"] if b["batch_size"] == size]
            seconds = [b["pass_seconds"] for b in batches if b["pass_seconds"]]
            images = batches[0]["images"]
            seconds_ci = stats.hierarchical_ci(seconds, n_resamples=n_resamples, seed=seed)
            rows.append(InferenceRow(
                batch_size=size, items_per_second=throughput(images, seconds_ci),
                seconds_per_1000=_mean([b["seconds_per_1000"] for b in batches]),
                latency_p50=_mean([b["latency_p50"] for b in batches]),
                latency_p90=_mean([b["latency_p90"] for b in batches]),
                latency_p99=_mean([b["latency_p99"] for b in batches]), **common))
            passes.append(seconds)
    _add_ratios(rows, passes, n_resamples, seed)
    return rows


def _add_ratios(rows, passes, n_resamples, seed):
    """Each runtime's mean pass time relative to the fastest one at the same batch size and compared settings."""
    by_group = {}
    for row, seconds in zip(rows, passes):
        if row.items_per_second is not None:
            key = (row.workload, json.dumps(row.settings, sort_keys=True), row.batch_size)
            by_group.setdefault(key, []).append((row, seconds))
    for members in by_group.values():
        fastest, fastest_seconds = max(members, key=lambda member: member[0].items_per_second.estimate)
        for row, seconds in members:
            row.fastest = row is fastest
            row.ratio = stats.ratio_ci(seconds, fastest_seconds, n_resamples=n_resamples, seed=seed)
            row.tie_with_fastest = not row.fastest and stats.is_tie(row.ratio)
