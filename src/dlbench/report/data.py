"""What every report section reads: the selected runs, their summary rows (dlbench.summary) grouped by workload and
compared settings, the steady-state epoch times behind each row, learning curves, suites, and the optional extras
(feature matrix, price table, inference results). Built once; sections only read it."""
from __future__ import annotations

import datetime
import json
import re
import statistics
from dataclasses import dataclass, field

from dlbench import frameworks as framework_registry
from dlbench import render, summary, workloads
from dlbench.report import charts as charts_module


@dataclass
class Group:
    """One comparison: a workload under one set of compared settings (summary.COMPARED_ON)."""
    workload: str
    settings: dict
    label: str                      # the settings that tell this group from the workload's other groups ("" if none)
    slug: str                       # a file-name-safe id: charts/<slug>-epoch-time.svg
    metric: str                     # "accuracy" or "loss": what the learning curves show
    rows: list                      # summary.Row, fastest first, rows without a result last
    runs: dict                      # framework -> its runs in this group (every status)
    steady: dict                    # framework -> steady-state epoch times, one list per ok run (the intervals' input)
    curves: dict = field(default_factory=dict)  # framework -> [{"epoch", "value", "elapsed", "n"}]

    @property
    def title(self):
        return f"{self.workload} ({self.label})" if self.label else self.workload

    @property
    def frameworks(self):
        return [row.framework for row in self.rows]

    def row(self, framework):
        return next((row for row in self.rows if row.framework == framework), None)

    @property
    def ranked(self):
        """Rows with a steady-state time, fastest first."""
        return [row for row in self.rows if row.epoch_seconds is not None]

    @property
    def metric_label(self):
        return "validation loss" if self.metric == "loss" else "validation accuracy"


@dataclass
class ReportData:
    store_path: str
    runs: list
    epochs_by_run: dict
    rows: list
    groups: list
    suites: list                    # the suites rows the runs belong to
    frameworks: list                # every framework among the runs, registry order first
    features: list | None = None    # dlbench.report.features.matrix(...) or None (not asked for)
    prices: object | None = None    # dlbench.report.prices.PriceTable or None
    inference: list = field(default_factory=list)  # inference results, once a store holds them (see sections.inference)
    verify: list = field(default_factory=list)  # `dlbench verify` rows (Store.verify_results(); see sections.verify)
    generated_at: str = ""
    filters: dict = field(default_factory=dict)
    charts: object = None           # dlbench.report.charts.ChartSet: sections add the charts they draw
    colors: dict = field(default_factory=dict)  # framework -> colour, the same in every chart

    def groups_of(self, workload):
        return [g for g in self.groups if g.workload == workload]

    @property
    def workloads(self):
        return list(dict.fromkeys(g.workload for g in self.groups))

    @property
    def hosts(self):
        return sorted({r["node_host"] for r in self.runs})

    @property
    def devices(self):
        return sorted({r["node_device"] for r in self.runs})


def metric_of(workload):
    if workload in workloads.WORKLOAD_IDS:
        return workloads.get(workload).SPEC.metric
    return "accuracy"


def compared(run):
    return {k: run["settings"].get(k) for k in summary.COMPARED_ON}


def group_key(workload, settings):
    return (workload, json.dumps(settings, sort_keys=True))


def steady_times(runs, epochs_by_run):
    """One list of steady-state epoch times per ok run with any (summary.summarize's input to the intervals)."""
    return [times for _, times, _, _ in summary.steady_runs([r for r in runs if r["status"] == "ok"], epochs_by_run)]


def learning_curve(runs, epochs_by_run, metric):
    """Per epoch: the mean validation metric over ok runs and the mean training time elapsed by its end."""
    column = "val_loss" if metric == "loss" else "val_accuracy"
    by_epoch = {}
    for run in runs:
        if run["status"] != "ok":
            continue
        elapsed = 0.0
        for e in epochs_by_run.get(run["id"]) or []:
            elapsed += e["train_seconds"]
            if e[column] is not None:
                by_epoch.setdefault(e["epoch"], []).append((e[column], elapsed))
    return [{"epoch": epoch, "value": statistics.fmean(v for v, _ in points),
             "elapsed": statistics.fmean(t for _, t in points), "n": len(points)}
            for epoch, points in sorted(by_epoch.items())]


def framework_order(ids):
    known = [f for f in framework_registry.FRAMEWORK_IDS if f in ids]
    return known + sorted(set(ids) - set(known))


def slug(text):
    """A file-name-safe form (chart files are named after workloads, which come from the store)."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")


def _labels(workload_groups):
    """Short labels for a workload's groups: only the settings in which they differ."""
    if len(workload_groups) < 2:
        return [""] * len(workload_groups)
    differing = [k for k in summary.COMPARED_ON if len({json.dumps(s.get(k)) for s in workload_groups}) > 1]
    return [", ".join(f"{k} {s.get(k)}" for k in differing) for s in workload_groups]


def assemble(runs, epochs_by_run, suites=(), store_path="", features=None, prices=None, inference=None,
             filters=None, now=None, samples=None):
    training = [run for run in runs if not workloads.is_inference(run["workload"])]  # inference: data.inference
    rows = summary.summarize(training, epochs_by_run, samples)
    runs_by_key = {}
    for run in runs:
        runs_by_key.setdefault(group_key(run["workload"], compared(run)), {}).setdefault(
            run["framework"], []).append(run)
    rows_by_key = {}
    for row in rows:
        rows_by_key.setdefault(group_key(row.workload, row.settings), []).append(row)

    groups = []
    for workload in sorted({row.workload for row in rows}):
        keys = [key for key in rows_by_key if key[0] == workload]
        settings_list = [rows_by_key[key][0].settings for key in keys]
        for key, settings, label in zip(keys, settings_list, _labels(settings_list)):
            members = sorted(rows_by_key[key], key=lambda r: (r.epoch_seconds is None,
                                                                r.epoch_seconds.estimate if r.epoch_seconds else 0,
                                                                r.framework))
            by_framework = runs_by_key[key]
            metric = metric_of(workload)
            group = Group(workload=workload, settings=settings, label=label,
                          slug=slug(workload + ("-" + label if label else "")), metric=metric, rows=members,
                          runs=by_framework,
                          steady={f: steady_times(rs, epochs_by_run) for f, rs in by_framework.items()})
            group.curves = {f: learning_curve(rs, epochs_by_run, metric) for f, rs in by_framework.items()}
            groups.append(group)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    ids = framework_order({r["framework"] for r in runs})
    return ReportData(store_path=str(store_path), runs=runs, epochs_by_run=epochs_by_run, rows=rows, groups=groups,
                      suites=list(suites), frameworks=ids, charts=charts_module.ChartSet(),
                      colors=charts_module.framework_colors(ids),
                      features=features, prices=prices, inference=list(inference or []),
                      generated_at=now.strftime("%Y-%m-%d %H:%M UTC"), filters=dict(filters or {}))


def suites_of(store, runs):
    ids = sorted({r["suite_id"] for r in runs})
    if not ids:
        return []
    rows = store.db.execute(f"SELECT * FROM suites WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id",
                            ids).fetchall()
    out = []
    for row in rows:
        suite = dict(row)
        try:
            suite["config"] = json.loads(suite["config"])
        except (TypeError, ValueError):
            suite["config"] = {}
        out.append(suite)
    return out


def inference_results(store, runs):
    """Inference results of these runs (dlbench.inference_summary rows, the ones `dlbench results` prints), as dicts:
    workload, framework (the framework and its compile mode, e.g. "torch (jit)"), settings (in words), batch_size,
    items_per_second with ci_low / ci_high, ratio (x fastest) with its interval and verdict, latency_p50/p90/p99 (s),
    first_result_seconds, peak_host_bytes, check_ok, max_relative_error. Runs without a result are left out."""
    from dlbench import inference_summary
    inference = [r for r in runs if workloads.is_inference(r["workload"])]
    if not inference:
        return []
    out = []
    for row in inference_summary.summarize(inference, store.inference([r["id"] for r in inference])):
        if row.items_per_second is None:
            continue
        ips, ratio = row.items_per_second, row.ratio
        out.append({"workload": row.workload, "framework": row.label, "settings": render.inference_label(row.settings),
                    "batch_size": row.batch_size, "items_per_second": ips.estimate, "ci_low": ips.low,
                    "ci_high": ips.high, "ratio": ratio.estimate if ratio else None,
                    "ratio_low": ratio.low if ratio else None, "ratio_high": ratio.high if ratio else None,
                    "fastest": row.fastest, "verdict": row.verdict,
                    "verdict_reason": row.verdict_reason, "latency_p50": row.latency_p50,
                    "latency_p90": row.latency_p90, "latency_p99": row.latency_p99,
                    "first_result_seconds": row.first_result_seconds, "peak_host_bytes": row.peak_host_bytes,
                    "check_ok": row.check_ok, "max_relative_error": row.max_relative_error})
    return out


def settings_text(settings):
    return render.settings_label({k: settings.get(k) for k in summary.COMPARED_ON})
