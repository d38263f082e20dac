"""Terminal rendering of summaries and listings (rich). Formatting only: the numbers come from summary.py."""
from __future__ import annotations

import re

from rich import box
from rich.markup import escape
from rich.table import Table

from dlbench import stats


def seconds(value):
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 100 else f"{value:.0f}"


def interval(iv, fmt=seconds):
    """'low-high' or '-' when there is no CI (fewer than two values): never an invented one."""
    if iv is None or iv.low is None:
        return "-"
    return f"[{fmt(iv.low)}, {fmt(iv.high)}]"


# The verdict of a row against the fastest, in a word (stats.verdict: the method note under each table says what
# each means).
VERDICT_WORDS = {"faster": "faster", "slower": "slower", "equivalent": f"equal ±{stats.MARGIN:.0%}", "tie": "tie",
                 "inconclusive": "?"}


def two(value):
    return f"{value:.2f}"


def ratio(row):
    """The ratio to the fastest with its interval and verdict, as text: '1.27 [1.23, 1.30] slower'."""
    if row.ratio is None:
        return "-"
    if row.fastest:
        return "1.00 (fastest)"
    bounds = interval(row.ratio, two)
    return f"{row.ratio.estimate:.2f}{'' if bounds == '-' else ' ' + bounds} {VERDICT_WORDS[row.verdict]}"


def noise(row):
    """Between- and within-process relative SDs in percent, 'between/within'."""
    if row.spread is None:
        return "-"
    between, within = (f"{100 * v:.1f}" if v is not None else "-" for v in row.spread)
    return f"{between}/{within}"


def counted_methods(methods):
    """Interval methods in words, the counts in them as ranges: 't over 4-10 repeats', not one entry per count."""
    counts = {}
    for method in methods:
        found = re.search(r"\d+", method)
        key = method if found is None else method[:found.start()] + "{}" + method[found.end():]
        counts.setdefault(key, set()).update([int(found[0])] if found else [])
    return "; ".join(key.format(f"{min(n)}" if len(n) == 1 else f"{min(n)}-{max(n)}") if n else key
                     for key, n in sorted(counts.items()))


def method_note(rows):
    """What the intervals and verdicts of a table are, in two sentences a reader can check."""
    methods = counted_methods(r.time.method for r in rows if r.time)
    if not methods:
        return None
    note = (f"95% intervals: {methods} (each repeat a fresh process, its figure the mean of its "
            f"{rows[0].time_unit}; geometric means). Verdicts against the "
            f"fastest: slower when the ratio's interval excludes 1, 'equal ±{stats.MARGIN:.0%}' when it lies within "
            f"±{stats.MARGIN:.0%}, tie when it contains 1 but is wider, '?' with fewer than {stats.MIN_REPEATS} "
            "repeats a side.")
    few = sorted({r.framework for r in rows if r.verdict == "inconclusive"})
    if few:
        note += f" No verdict yet for {', '.join(few)}: more repeats (--repeats) or a --budget decide."
    return note


def milliseconds(value):
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


def percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def status(row):
    return ", ".join(f"{count} {name}" for name, count in sorted(row.statuses.items()))


def threads_label(threads):
    return "1 thread" if threads == 1 else f"{threads} threads"


def settings_label(settings):
    samples = f", {settings['samples']} samples" if settings.get("samples") else ""
    # Asked-for settings only: a compile mode other than the tier's own, and the GPU and layout settings a suite set.
    asked = [f"compile {settings['compile']}"] if settings.get("compile") not in (None, "auto") else []
    asked += [f"{key} {settings[key]}" for key in ("tf32", "cudnn_autotune", "layout") if settings.get(key) is not None]
    batch = settings["batch_size"] or "the script's"  # None: a user's script sets its own
    return (f"{settings['device']}, data {settings['data']}{samples}, batch {batch}, "
            f"{threads_label(settings['threads'])}, {settings['precision']}, {settings['tier']} tier"
            + "".join(f", {a}" for a in asked))


READ_BACK = (("data", "data_placement"), ("matmul", "matmul_precision"))


def read_back_label(rows):
    """What the runs of one table did, as they read it back: ', data host, matmul fp32' when every row agrees, and
    the disagreements (which make the table compare different work) as warnings."""
    label, differ = "", []
    for name, attr in READ_BACK:
        values = {getattr(r, attr): r.framework for r in rows if getattr(r, attr)}
        if len(values) == 1:
            label += f", {name} {next(iter(values))}"
        elif values:
            differ.append(f"{name} " + "; ".join(f"{r.framework} {getattr(r, attr)}" for r in rows
                                                  if getattr(r, attr)))
    return label, [f"the frameworks of this table did different work: {d}" for d in differ]


def summary_columns(members, wide):
    """(header, justify, cell) of the columns a table shows: the verdict's figures (and the RNN kernel that ran,
    where there is one) by default, in about 100 characters; noise, step time, input share, FLOP/s and memory with
    `wide`."""
    targets = sorted({r.target for r in members if r.target is not None})
    on_gpu = any(r.peak_device_bytes is not None for r in members)

    def to_target(row):
        ok_runs = row.statuses.get("ok", 0)
        return f"{seconds(row.time_to_target)} ({row.reached_target}/{ok_runs})" if ok_runs else "-"

    def peak(row):
        value = row.peak_device_bytes if on_gpu else row.peak_host_bytes
        return f"{value / 1e6:,.0f}" if value is not None else "-"

    columns = [
        ("framework", "left", lambda r: r.framework, True),
        ("runs", "left", status, True),
        ("epoch s\n[95% CI]", "right", lambda r: f"{seconds(r.epoch_seconds.estimate)} {interval(r.epoch_seconds)}"
         if r.epoch_seconds else "-", True),
        ("x fastest\n[95% CI]", "right", ratio, True),
        ("1st\nepoch s", "right", lambda r: seconds(r.first_epoch_seconds), True),
        ("samples/s", "right", lambda r: f"{r.samples_per_second:,.0f}" if r.samples_per_second else "-", True),
        ("val acc", "right", lambda r: percent(r.val_accuracy), True),
        # an unreachable target (no run reached it) only in the wide table
        (f"s to {'/'.join(f'{t:g}' for t in targets)}", "right", to_target,
         targets and (wide or any(r.reached_target for r in members))),
        ("text\nbigrams %", "right", lambda r: percent(r.text_bigram_share),  # broken text is a result too
         any(r.text_bigram_share is not None for r in members)),
        ("MFU", "right", lambda r: f"{r.mfu:.2%}" if r.mfu is not None else "-",
         any(r.mfu is not None for r in members)),
        ("noise %", "right", noise, wide),
        ("ms/step", "right", lambda r: milliseconds(r.step_ms), wide),
        ("input %", "right", lambda r: percent(r.input_share), wide and any(r.input_share is not None
                                                                            for r in members)),
        ("RNN kernel", "left", lambda r: r.rnn_kernel or "-", any(r.rnn_kernel for r in members)),  # what ran
        ("attention", "left", lambda r: r.attention_kernel or "-", any(r.attention_kernel for r in members)),
        ("TFLOP/s", "right", lambda r: f"{r.tflops:.3g}" if r.tflops else "-", wide and any(r.tflops
                                                                                            for r in members)),
        ("peak GPU MB" if on_gpu else "peak RSS MB", "right", peak, wide),
    ]
    return [(header, justify, cell) for header, justify, cell, shown in columns if shown]


def fitted_table(title, columns, rows, wrap=(), sections=()):
    """A table whose figures are never cut or wrapped: each column (header, justify) at least as wide as its widest
    cell, headers on two lines where they have a newline, no vertical rules; only the `wrap` columns and the caption
    give way to a narrow terminal. `sections`: the indices of the rows that start a new section (a rule above)."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False,
                  caption_justify="left")
    for i, (header, justify) in enumerate(columns):
        widest = max(len(line) for line in [*header.split("\n"), *(row[i] for row in rows)])
        table.add_column(header, justify=justify, min_width=None if header in wrap else widest)
    for i, row in enumerate(rows):
        if i in sections:
            table.add_section()
        table.add_row(*row)
    return table


def summary_tables(rows, wide=False):
    """One table per (workload, compared settings) group."""
    tables, groups = [], {}
    for row in rows:
        groups.setdefault((row.workload, settings_label(row.settings)), []).append(row)
    for (workload, label), members in groups.items():
        did, differ = read_back_label(members)
        ordered = sorted(members, key=lambda r: (r.epoch_seconds is None, r.ratio.estimate if r.ratio else 0))
        columns = summary_columns(members, wide)
        table = fitted_table(f"{workload}  ({label}{did})", [(header, justify) for header, justify, _ in columns],
                             [[cell(row) for _, _, cell in columns] for row in ordered], wrap=("RNN kernel",))
        note = method_note(members)
        notes = [note + (" noise %: between-process / within-process relative SD." if wide else
                         " --wide adds noise, step time, input share, FLOP/s and memory.")] if note else []
        if any(header.startswith("s to ") for header, _, _ in columns):
            notes.append("s to: the training time until validation (the training loss where the workload's original "
                         "measured that) first reached the target (runs that did / ok runs).")
        notes += [f"[yellow]warning: {escape(d)}[/yellow]" for d in differ]
        nodes = sorted({node for r in members for node in r.nodes})
        if len(nodes) > 1:  # a suite spread over a cluster (--executor ray) or results of several machines
            notes.append(f"[yellow]warning: these runs come from {len(nodes)} nodes ({escape('; '.join(nodes))}): "
                         "timings from different machines are not comparable[/yellow]")
        table.caption = "\n".join(notes) or None
        tables.append(table)
    return tables


def problems(rows):
    """One line per framework that did not run cleanly, with the reason the store holds."""
    return [f"{row.workload} / {row.framework}: {error}" for row in rows for error in row.errors + row.warnings]


def inference_label(settings):
    sizes = ", ".join(str(b) for b in settings.get("batch_sizes") or [])
    return (f"{settings['device']}, {settings['samples']} images, batch sizes {sizes}, "
            f"{threads_label(settings['threads'])}, "
            f"{settings['epochs']} timed passes, {settings['precision']}")


def inference_tables(rows, wide=False):
    """One table per (inference workload, compared settings): a row per framework, compile mode and batch size
    (dlbench.inference_summary.InferenceRow), a section per batch size; latency percentiles and peak memory with
    `wide`."""
    def check(row):  # the largest relative error with --wide
        if row.check_ok is None:
            return "-"
        verdict = "ok" if row.check_ok else "FAILED"
        return f"{verdict} {row.max_relative_error:.1e}" if wide and row.max_relative_error is not None else verdict

    def rate(value):  # three significant figures at least, no decimals where they mean nothing
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"

    def peak(row):
        return (f"{row.peak_host_bytes / 2**20:,.0f}" if row.peak_host_bytes else "-") + \
            (f" / {row.allocator_peak_bytes / 2**20:,.0f} dev" if row.allocator_peak_bytes else "")

    columns = [c[:3] for c in [
        ("framework", "left", lambda r: r.label, True),
        ("runs", "left", status, True),
        ("batch", "right", lambda r: str(r.batch_size) if r.batch_size else "-", True),
        ("images/s\n[95% CI]", "right", lambda r: f"{rate(r.items_per_second.estimate)} "
         f"{interval(r.items_per_second, rate)}" if r.items_per_second else "-", True),
        ("x fastest\n[95% CI]", "right", ratio, True),
        ("p50 ms", "right", lambda r: f"{1000 * r.latency_p50:,.1f}" if r.latency_p50 is not None else "-", wide),
        ("p99 ms", "right", lambda r: f"{1000 * r.latency_p99:,.1f}" if r.latency_p99 is not None else "-", wide),
        ("1st\nresult s", "right", lambda r: seconds(r.first_result_seconds), True),
        ("peak MB", "right", peak, wide),
        ("check", "left", check, True),
    ] if c[3]]
    tables, groups = [], {}
    for row in rows:
        groups.setdefault((row.workload, inference_label(row.settings)), []).append(row)
    for (workload, label), members in groups.items():
        ordered = sorted(members, key=lambda r: (r.batch_size is None, r.batch_size or 0,
                                                 -(r.items_per_second.estimate if r.items_per_second else 0)))
        sections = {i for i in range(1, len(ordered)) if ordered[i].batch_size != ordered[i - 1].batch_size}
        table = fitted_table(f"{workload}  ({label})", [(header, justify) for header, justify, _ in columns],
                             [[cell(row) for _, _, cell in columns] for row in ordered], sections=sections)
        note = method_note(members)
        table.caption = note and note + (" p50/p99: per-batch latency; check: the largest relative error." if wide
                                         else " --wide adds the latency percentiles, the check's error and peak "
                                         "memory.")
        tables.append(table)
    return tables
