"""The workload x framework matrix, each cell coloured by epoch time relative to the workload's fastest framework,
with the ratio and its CI; a cell without a result says why (the stored error)."""
from __future__ import annotations

from dlbench import render
from dlbench.report import charts, markup
from dlbench.report.markup import Cell, Section, esc
from dlbench.report.sections.fastest import why_not


def matrix_cell(group, framework):
    row = group.row(framework)
    if row is None:
        return Cell("not run", style=f"background:{charts.ratio_color(None)}", cls="cell-none",
                    attrs={"data-framework": framework, "data-group": group.slug, "data-status": "not run"})
    attrs = {"data-framework": framework, "data-group": group.slug}
    if row.ratio is None:
        why = why_not(group, framework)
        attrs["data-status"] = ",".join(sorted(s for s in row.statuses if s != "ok")) or "no result"
        short = why if len(why) <= 160 else why[:157] + "..."
        return Cell(why, style=f"background:{charts.ratio_color(None)}", title=why, cls="cell-failed",
                    html=f'<span class="why">{esc(short)}</span>', attrs=attrs)
    ratio = row.ratio
    head = render.ratio(row)
    epoch = f"{markup.seconds(row.epoch_seconds.estimate)} s/epoch"
    text = f"{head}; {epoch}"
    html = f'<span class="ratio">{esc(head)}</span><br><span class="sub">{esc(epoch)}</span>'
    if any(s != "ok" for s in row.statuses):
        also = why_not(group, framework)
        text += f"; {also}"
        html += f'<br><span class="why">{esc(also)}</span>'
    attrs.update({"data-status": "ok", "data-ratio": repr(ratio.estimate)})
    return Cell(text, style=f"background:{charts.ratio_color(ratio.estimate)}", cls="cell-ok", html=html,
                attrs=attrs)


def build(data):
    if not data.groups:
        return None
    columns = data.frameworks
    rows = [[Cell(group.title, cls="rowhead")] + [matrix_cell(group, f) for f in columns] for group in data.groups]
    table_html, table_md = markup.table(["workload"] + columns, rows, cls="matrix")
    chart = data.charts.add("matrix", charts.ratio_matrix(data.groups, columns),
                            "Epoch time relative to the fastest framework, per workload", columns)
    figure_html, figure_md = markup.figure(chart)
    legend = (f"Each cell: steady-state epoch time / the workload's fastest framework's, with its 95% interval and "
              f"verdict (see 'How these numbers were made'). Green is the fastest, red {charts.MAX_RATIO:g}x or "
              f"slower; grey cells have no result and say why.")
    html = (f"{table_html}<p class=\"note\">{esc(legend)}</p>"
            f"<details><summary>The matrix as a chart</summary>{figure_html}</details>")
    md = f"{table_md}\n\n{markup.md_note(legend)}\n\n{figure_md}"
    return Section("matrix", "Workload x framework", html, md, charts=[chart.name])
