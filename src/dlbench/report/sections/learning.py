"""Do they learn the same? Per comparison: the final validation accuracy (or loss) of every repeat, its mean and its
spread across repeats, and the learning curves per epoch, one line per framework. Shown near the top: a speed-up of a
framework that learns less is no speed-up. (The same-model check, dlbench verify, follows as its own section.)"""
from __future__ import annotations

import statistics

from dlbench.report import charts, markup
from dlbench.report.markup import Section, esc
from dlbench.report.sections.overview import synthetic_flag


def final_values(group, framework, epochs_by_run):
    """The last epoch's validation metric of each ok run of a framework in a group, in run order."""
    column = "val_loss" if group.metric == "loss" else "val_accuracy"
    out = []
    for run in group.runs.get(framework, []):
        epochs = [e for e in epochs_by_run.get(run["id"]) or [] if e[column] is not None]
        if run["status"] == "ok" and epochs:
            out.append(epochs[-1][column])
    return out


def _fmt(group, value):
    return f"{value:.4f}" if group.metric == "loss" else markup.percent(value)


def build(data):
    if not data.groups:
        return None
    html, md, names = [], [], []
    flag = synthetic_flag(data.runs)
    if flag:
        html.append(f'<p class="flag">{esc(flag)}</p>')
        md.append(markup.md_strong(flag))
    for group in data.groups:
        metric = "final val loss" if group.metric == "loss" else "final val accuracy"
        rows = []
        for framework in group.frameworks:
            values = final_values(group, framework, data.epochs_by_run)
            if not values:
                rows.append([framework, "0", "-", "-", "-"])
                continue
            spread = max(values) - min(values)
            rows.append([framework, str(len(values)), _fmt(group, statistics.fmean(values)),
                         f"{_fmt(group, min(values))} to {_fmt(group, max(values))}",
                         f"{spread:.4f}" if group.metric == "loss" else f"{100 * spread:.1f} points"])
        table = markup.table(["framework", "ok runs", f"{metric}: mean", "across repeats: lowest to highest",
                              "spread"], rows, cls="learning")
        figure, shown = charts.learning_curves(group, data.colors, against="epoch")
        chart = data.charts.add(f"{group.slug}-{group.metric}-per-epoch", figure,
                                f"{group.title}: {group.metric_label} per epoch", shown)
        names.append(chart.name)
        fig = markup.figure(chart)
        html += [f"<h3>{esc(group.title)}</h3>", table[0], f'<div class="charts">{fig[0]}</div>']
        md += [markup.md_heading(3, group.title), table[1], fig[1]]
    return Section("learning", "Do they learn the same?", "\n".join(html), "\n\n".join(md), charts=names)
