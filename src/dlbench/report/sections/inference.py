"""Inference: images per second against batch size, one line per runtime (a framework in one compile mode), and a
table with the CIs, latency percentiles, time to first result and the feature check.

Renders when data.inference has rows (data.inference_results: the inference_summary rows `dlbench results` prints).
A row needs workload, framework (the runtime label, e.g. "torch (jit)"), batch_size and items_per_second; the other
columns (ci_low/ci_high, ratio, latency_p50/p90/p99 in seconds, first_result_seconds, check_ok,
max_relative_error, settings) are shown where present.
"""
from __future__ import annotations

from types import SimpleNamespace

from dlbench import render, stats
from dlbench.report import charts, markup
from dlbench.report import data as report_data
from dlbench.report.markup import Section, esc
from dlbench.report.sections import fastest

LATENCIES = ("latency_p50", "latency_p90", "latency_p99")


def _throughput(r):
    text = f"{r['items_per_second']:,.1f}"
    if r.get("ci_low") is not None and r.get("ci_high") is not None:
        text += f" [{r['ci_low']:,.1f}, {r['ci_high']:,.1f}]"
    return text


def _ratio(r):
    if r.get("ratio") is None:
        return "-"
    if r.get("fastest"):
        return "1.00 (fastest)"
    text = f"{r['ratio']:.2f}"
    if r.get("ratio_low") is not None:
        text += f" [{r['ratio_low']:.2f}, {r['ratio_high']:.2f}]"
    return f"{text} {render.VERDICT_WORDS.get(r.get('verdict'), '')}".rstrip()


def _check(r):
    if r.get("check_ok") is None:
        return "-"
    error = f" ({r['max_relative_error']:.1e})" if r.get("max_relative_error") is not None else ""
    return ("ok" if r["check_ok"] else "FAILED") + error


def _ranked_row(r):
    """An inference row as the training claims read one: its time ratio to the fastest runtime and its verdict."""
    ratio = None if r.get("ratio") is None else stats.Interval(r["ratio"], r.get("ratio_low"), r.get("ratio_high"),
                                                              "", 0, 0)
    return SimpleNamespace(framework=r["framework"], ratio=ratio, verdict=r.get("verdict"),
                           verdict_reason=r.get("verdict_reason") or "too few repeats")


def summary(workload, settings, members):
    """Per batch size: the fastest runtime in a headline, and every other one against it with the same verdict
    machinery as the training claims (sections.fastest.claim: only a decided verdict is said as faster)."""
    headlines, items = [], []
    for size in sorted({r["batch_size"] for r in members}):
        at = sorted((r for r in members if r["batch_size"] == size), key=lambda r: -r["items_per_second"])
        where = f"{workload} at batch size {size}" + (f" ({settings})" if settings else "")
        group = SimpleNamespace(title=where, workload=workload, slug=report_data.slug(f"{workload}-{size}"))
        best = next((r for r in at if r.get("fastest")), at[0])
        rate = f"{best['items_per_second']:,.1f} images/s"
        others = [r for r in at if r is not best]
        level = [r["framework"] for r in others if r.get("verdict") in ("tie", "equivalent", "inconclusive")]
        if not others:
            headlines.append(f"On {where}, {best['framework']} is the only runtime with a result: {rate}.")
        elif level:
            headlines.append(f"On {where}, {', '.join([best['framework']] + level)} share first place: the data "
                             f"cannot tell them apart ({best['framework']} {rate}).")
        else:
            headlines.append(f"On {where}, {best['framework']} is fastest: {rate}, decidedly faster than every "
                             f"other runtime.")
        items += [(c.text, c.attrs) for c in (fastest.claim(group, best["framework"], _ranked_row(r))
                                                for r in others if r.get("ratio") is not None)]
    return headlines, items


def build(data):
    if not data.inference:
        return None
    html, md, names = [], [], []
    for workload in sorted({r["workload"] for r in data.inference}):
        rows = [r for r in data.inference if r["workload"] == workload]
        settings_list = sorted({r.get("settings") or "" for r in rows})
        for index, settings in enumerate(settings_list):
            members = [r for r in rows if (r.get("settings") or "") == settings]
            series = {}
            for r in members:
                series.setdefault(r["framework"], []).append((r["batch_size"], r["items_per_second"],
                                                              r.get("ci_low"), r.get("ci_high")))
            colors = {**charts.framework_colors(list(series)), **data.colors}
            slug = report_data.slug(workload) + (f"-{index + 1}" if len(settings_list) > 1 else "")
            chart = data.charts.add(f"{slug}-inference-throughput",
                                    charts.inference_throughput(workload, series, colors),
                                    f"{workload}: inference throughput", list(series))
            names.append(chart.name)
            table_rows = [[r["framework"], str(r["batch_size"]), _throughput(r), _ratio(r)] +
                          [markup.seconds(r.get(k) * 1000) if r.get(k) is not None else "-" for k in LATENCIES] +
                          [markup.seconds(r.get("first_result_seconds")), _check(r)]
                          for r in sorted(members, key=lambda r: (r["batch_size"], -r["items_per_second"]))]
            table = markup.table(["runtime", "batch size", "images/s [95% CI]", "x fastest [95% CI]", "p50 ms",
                                  "p90 ms", "p99 ms", "1st result s", "check"], table_rows, cls="inference")
            figure = markup.figure(chart)
            title = f"{workload} ({settings})" if settings else workload
            headlines, items = summary(workload, "", members)
            html += [f"<h3>{esc(title)}</h3>"] + [f'<p class="headline">{esc(h)}</p>' for h in headlines]
            md += [markup.md_heading(3, title)] + [markup.md_strong(h) for h in headlines]
            if items:
                claims = markup.bullet_list(items)
                html.append(claims[0])
                md.append(claims[1])
            html += [table[0], f'<div class="charts">{figure[0]}</div>']
            md += [table[1], figure[1]]
    return Section("inference", "Inference", "\n".join(html), "\n\n".join(md), charts=names)
