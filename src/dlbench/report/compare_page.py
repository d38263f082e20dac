"""`dlbench compare A B --html FILE`: the comparison (dlbench.report.compare.compare's result) as one self-contained
page, made with the report's own pieces (markup.table, page.document: every text escaped), so that it reads like the
report and can be attached to a pull request or a CI run."""
from __future__ import annotations

from pathlib import Path

from dlbench import stats
from dlbench.report import markup, page
from dlbench.report.markup import Cell

TITLE = "dlbench compare"
SHOWN_SETTINGS = ("data", "samples", "batch_size", "threads", "device", "precision", "compile", "tier")


def _seconds(iv):
    return "-" if iv is None else f"{iv['estimate']:.3g}" + (
        f" [{iv['low']:.3g}, {iv['high']:.3g}]" if iv["low"] is not None else "")


def _ratio(iv):
    return "-" if iv is None else f"{iv['estimate']:.2f}" + (
        f" [{iv['low']:.2f}, {iv['high']:.2f}]" if iv["low"] is not None else "")


def _side(name, side):
    filters = ", ".join(f"{k}={v}" for k, v in side["filters"].items()) or "all ok runs"
    return (f"{name}: {side['store']} ({filters}): {side['runs']} runs, suites "
            f"{', '.join(map(str, side['suites'])) or '-'}, {', '.join(side['hosts']) or '-'}")


def _ident(row, key):
    return row.get(key) or " vs ".join(["/".join(row[f"{key}_a"]), "/".join(row[f"{key}_b"])])


def build(result):
    """The page's HTML."""
    rows = result["rows"]
    settings = [", ".join(f"{k} {row[k]}" for k in SHOWN_SETTINGS if row.get(k) is not None) for row in rows]
    shared = len(set(settings)) == 1  # said once above the table instead of in every row
    table_rows = []
    for row, said in zip(rows, settings):
        verdict = row["verdict"]
        table_rows.append([Cell(_ident(row, "workload"), cls="rowhead"), _ident(row, "framework"),
                           *([] if shared else [said]),
                           f"{row.get('runs_a', '-')} / {row.get('runs_b', '-')}", _seconds(row["a"]),
                           _seconds(row["b"]), _ratio(row["ratio"]),
                           Cell(row["text"], cls=f"verdict-{verdict}".replace(" ", "-"),
                                attrs={"data-verdict": verdict})])
    parts = [markup.paragraph(_side("A", result["a"]), cls="source"),
             markup.paragraph(_side("B", result["b"]), cls="source")]
    counts = result["counts"]
    parts.append(markup.paragraph(
        f"B is faster on {counts['faster']}, slower on {counts['slower']}, equal within ±{stats.MARGIN:.0%} on "
        f"{counts['equivalent']}, tied on {counts['tie']}, no verdict on {counts['inconclusive']}; only in A: "
        f"{len(result['only_a'])}, only in B: {len(result['only_b'])}.", cls="tally"))
    if rows and shared and settings[0]:
        parts.append(markup.paragraph(f"Settings of every row: {settings[0]}.", cls="settings"))
    if rows:
        parts.append(markup.table(["workload", "framework", *([] if shared else ["settings"]), "runs A / B", "A s/epoch [95% CI]",
                                   "B s/epoch [95% CI]", "B / A [95% CI]", "B is"], table_rows, cls="compare"))
    notes = []
    if result["left_out"]:
        notes.append("Not matched on: " + ", ".join(f"{k} ({why})" for k, why in result["left_out"].items()) + ".")
    for label, only in (("Only in A", result["only_a"]), ("Only in B", result["only_b"])):
        notes += [f"{label}: " + ", ".join(f"{k} {v}" for k, v in ident.items() if v is not None) for ident in only]
    for key, values in result["differing_settings"].items():
        notes.append(f"Unmatched rows differ in {key}: A {', '.join(map(str, values['a']))}, "
                     f"B {', '.join(map(str, values['b']))} (--ignore {key} leaves it out of the match).")
    notes += [f"Environment differs: {line}." for line in result["environment"]]
    if notes:
        parts.append(markup.bullet_list(notes, cls="compare-notes"))
    parts.append(markup.paragraph(
        "B / A: steady-state epoch time of B over A's, with its 95% interval over repeats; faster or slower only when "
        "the interval excludes 1, equal when it lies within the margin, a tie when it contains 1 but is wider, no "
        f"verdict with fewer than {stats.MIN_REPEATS} repeats a side.", cls="note"))
    return page.document(TITLE, markup.join(parts)[0])


def write(result, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build(result), encoding="utf-8")
    return path
