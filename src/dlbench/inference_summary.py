"""From stored inference runs to the summary people read (the inference counterpart of summary.py): one row per
(workload, compared settings, framework, compile mode, batch size) with images/s and its 95% interval over repeats
(each repeat's figure: the mean of its timed passes), the time ratio to the fastest runtime at that batch size with
its own interval and verdict, latency percentiles, time to first result, peak memory and the feature check. Pure: no
printing, no store writes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from dlbench import stats
from dlbench.summary import Ranked, adaptive, mean_present, rank

# Inference runs are compared (one table) when these agree; compile mode and batch size are rows of the table.
COMPARED_ON = ("device", "samples", "threads", "precision", "tier", "epochs", "batch_sizes")


@dataclass
class InferenceRow(Ranked):
    workload: str
    framework: str
    compile: str                              # the trial's compile setting: none or jit
    settings: dict                            # the compared settings (COMPARED_ON)
    batch_size: int | None                    # None: the runs have no result (skipped, failed)
    runs: int
    statuses: dict
    pass_seconds: stats.Interval | None = None  # a timed pass over the images: geometric mean over repeats
    items_per_second: stats.Interval | None = None  # images over pass_seconds (its interval, inverted)
    ratio: stats.Interval | None = None       # pass seconds / the fastest runtime's at this batch size
    fastest: bool = False
    verdict: str | None = None                # against the fastest runtime (stats.verdict), "fastest" on it
    verdict_reason: str | None = None
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

    TIME, TIME_UNIT, SPLIT_BY = "pass_seconds", "timed passes", ("batch_size",)
    KIND, INTERVALS = "inference", ("pass_seconds", "items_per_second", "ratio")

    def to_json(self):
        row = super().to_json()
        row["settings"] = {**row["settings"], "compile": row.pop("compile")}  # one settings object, as training's
        return row


def summarize(runs, inference_by_run):
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
            statuses=statuses, first_result_seconds=mean_present([r.get("first_result_seconds") for r in results]),
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
            seconds_ci = stats.mean_interval(seconds, anytime=adaptive(ok))
            rows.append(InferenceRow(
                batch_size=size, pass_seconds=seconds_ci,
                items_per_second=stats.scale(stats.invert(seconds_ci), batches[0]["images"]),
                seconds_per_1000=mean_present([b["seconds_per_1000"] for b in batches]),
                latency_p50=mean_present([b["latency_p50"] for b in batches]),
                latency_p90=mean_present([b["latency_p90"] for b in batches]),
                latency_p99=mean_present([b["latency_p99"] for b in batches]), **common))
            passes.append((seconds, adaptive(ok)))
    rank(rows, passes)
    return rows
