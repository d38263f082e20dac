"""Inference: items per second against batch size, one line per runtime, and latency percentiles.

A documented stub until the store holds inference results: it renders only when data.inference has rows (loaded
by data.inference_results, which reads an `inference` table once the inference work adds one). A row needs
workload, framework (the runtime), batch_size and items_per_second; latency_p50, latency_p90 and latency_p99
(seconds) are shown where present.
"""
from __future__ import annotations

from dlbench.report import charts, markup
from dlbench.report.markup import Section, esc

LATENCIES = ("latency_p50", "latency_p90", "latency_p99")


def build(data):
    if not data.inference:
        return None
    html, md, names = [], [], []
    for workload in sorted({r["workload"] for r in data.inference}):
        rows = [r for r in data.inference if r["workload"] == workload]
        series = {}
        for r in rows:
            series.setdefault(r["framework"], []).append((r["batch_size"], r["items_per_second"]))
        colors = {**charts.framework_colors(list(series)), **data.colors}
        chart = data.charts.add(f"{workload}-inference-throughput",
                                charts.inference_throughput(workload, series, colors),
                                f"{workload}: inference throughput", list(series))
        names.append(chart.name)
        table_rows = [[r["framework"], str(r["batch_size"]), f"{r['items_per_second']:,.1f}"] +
                      [markup.seconds(r.get(k) * 1000) if r.get(k) is not None else "-" for k in LATENCIES]
                      for r in sorted(rows, key=lambda r: (r["framework"], r["batch_size"]))]
        table = markup.table(["runtime", "batch size", "items/s", "p50 ms", "p90 ms", "p99 ms"], table_rows,
                             cls="inference")
        figure = markup.figure(chart)
        html += [f"<h3>{esc(workload)}</h3>", table[0], f'<div class="charts">{figure[0]}</div>']
        md += [f"### {workload}", table[1], figure[1]]
    return Section("inference", "Inference", "\n".join(html), "\n\n".join(md), charts=names)
