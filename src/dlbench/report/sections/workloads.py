"""Per workload (and compared settings): the summary table, steady-state epoch time as bars with 95% CI error bars,
and time to accuracy (validation accuracy or loss against training time, one line per framework)."""
from __future__ import annotations

from dlbench import render
from dlbench.render import milliseconds
from dlbench.report import charts, markup
from dlbench.report.data import settings_text
from dlbench.report.markup import Section, esc, interval


def row_cells(group, row):
    epoch = row.epoch_seconds
    ok = row.statuses.get("ok", 0)
    metric = row.val_loss if group.metric == "loss" else row.val_accuracy
    cells = [row.framework, ", ".join(f"{n} {s}" for s, n in sorted(row.statuses.items())),
             f"{markup.seconds(epoch.estimate)} {interval(epoch)}" if epoch else "-", render.ratio(row),
             render.noise(row),
             markup.seconds(row.first_epoch_seconds),
             f"{row.samples_per_second:,.0f}" if row.samples_per_second else "-", milliseconds(row.step_ms),
             "-" if metric is None else (f"{metric:.4f}" if group.metric == "loss" else markup.percent(metric))]
    if row.target is not None:
        cells.append(f"{markup.seconds(row.time_to_target)} ({row.reached_target}/{ok})" if ok else "-")
    cells.append(markup.percent(row.input_share))
    if any(r.text_bigram_share is not None for r in group.rows):
        cells.append(markup.percent(row.text_bigram_share))
    if any(r.rnn_kernel for r in group.rows):
        cells.append(row.rnn_kernel or "-")
    if any(r.attention_kernel for r in group.rows):
        cells.append(row.attention_kernel or "-")
    if any(r.tflops for r in group.rows):
        cells.append(f"{row.tflops:.3g}" if row.tflops else "-")
    if any(r.mfu is not None for r in group.rows):
        cells.append(f"{row.mfu:.2%}" if row.mfu is not None else "-")
    peak = row.peak_device_bytes if on_gpu(group) else row.peak_host_bytes
    cells.append(f"{peak / 1e6:,.0f}" if peak is not None else "-")
    return cells


def on_gpu(group):
    return any(r.peak_device_bytes is not None for r in group.rows)


def build_group(data, group):
    did, differ = render.read_back_label(group.rows)
    parts = [markup.paragraph(f"Settings: {settings_text(group.settings)}{did}." + "".join(
        f" Warning: {d}." for d in differ), cls="settings")]
    targets = sorted({r.target for r in group.rows if r.target is not None})
    metric = "val loss" if group.metric == "loss" else "val acc"
    headers = ["framework", "runs", "epoch s [95% CI]", "x fastest [95% CI]",
               "noise % (between / within processes)", "1st epoch s", "samples/s",
               "ms per step (steady)", f"{metric} (last epoch)"]
    if targets:
        headers.append(f"s to {metric} {'/'.join(f'{t:g}' for t in targets)} (runs that did / ok)")
    headers.append("input pipeline %")
    if any(r.text_bigram_share is not None for r in group.rows):
        headers.append("generated text: bigrams found in the corpus %")
    if any(r.rnn_kernel for r in group.rows):
        headers.append("RNN kernel (from the framework's ops)")
    if any(r.attention_kernel for r in group.rows):
        headers.append("attention kernel (from the framework's ops)")
    if any(r.tflops for r in group.rows):
        headers.append("achieved TFLOP/s")
    if any(r.mfu is not None for r in group.rows):
        headers.append("MFU (of the GPU's dense peak)")
    headers.append("peak GPU MB (NVML)" if on_gpu(group) else "peak RSS MB")
    parts.append(markup.table(headers, [row_cells(group, row) for row in group.rows], cls="summary"))

    made = []
    bars = data.charts.add(f"{group.slug}-epoch-time", charts.epoch_time_bars(group, data.colors),
                           f"{group.title}: steady-state epoch time (95% CI)", group.frameworks)
    made.append(bars)
    # the curves per epoch are in "Do they learn the same?" (sections.learning)
    figure, shown = charts.learning_curves(group, data.colors, against="time")
    made.append(data.charts.add(f"{group.slug}-time-to-{group.metric}", figure,
                                f"{group.title}: {group.metric_label} against training time", shown))
    html = [parts[0][0], parts[1][0], '<div class="charts">'] + [markup.figure(c)[0] for c in made] + ["</div>"]
    md = [parts[0][1], parts[1][1]] + [markup.figure(c)[1] for c in made]

    if targets:
        lines = []
        for row in group.rows:
            ok = row.statuses.get("ok", 0)
            if not ok:
                continue
            if row.time_to_target is None:
                lines.append(f"{row.framework} did not reach {metric} {row.target:g} in any of its {ok} ok runs.")
            else:
                lines.append(f"{row.framework} reached {metric} {row.target:g} after "
                             f"{markup.seconds(row.time_to_target)} s of training on average "
                             f"({row.reached_target} of {ok} ok runs reached it).")
        note = ("Time to accuracy counts training time from the first epoch (warm-up included: it is part of "
                "the wait) until validation first reached the target; validation passes are not counted.")
        list_html, list_md = markup.bullet_list(lines, cls="time-to-target")
        html += [f"<h4>Time to {esc(metric)} {esc('/'.join(f'{t:g}' for t in targets))}</h4>", list_html,
                 f'<p class="note">{esc(note)}</p>']
        md += [markup.md_strong(f"Time to {metric} {'/'.join(f'{t:g}' for t in targets)}"), list_md,
               markup.md_note(note)]
    return "\n".join(html), "\n\n".join(md), [c.name for c in made]


def build(data):
    if not data.groups:
        return None
    html, md, names = [], [], []
    for group in data.groups:
        body_html, body_md, made = build_group(data, group)
        html.append(f'<section class="workload" id="workload-{esc(group.slug)}"><h3>{esc(group.title)}</h3>'
                    f"{body_html}</section>")
        md.append(f"{markup.md_heading(3, group.title)}\n\n{body_md}")
        names += made
    return Section("workloads", "Per workload", "\n".join(html), "\n\n".join(md), charts=names)
