"""The framework feature matrix (dlbench.report.features): one row per feature, one column per framework; each row
says whether it was probed here, read from the installed metadata, or documented."""
from __future__ import annotations

from dlbench.report import features, markup
from dlbench.report.markup import Cell, Section, esc

VALUE_CLASSES = {"yes": "yes", "no": "no", "partly": "partly", "unknown": "unknown"}


def table_parts(matrix, framework_ids):
    rows = []
    for row in matrix:
        cells = [Cell(row["label"], cls="rowhead"), Cell(row["source"], cls="source")]
        for framework_id in framework_ids:
            c = row["cells"][framework_id]
            text = features.cell_text(c)
            value = str(c["value"])
            cls = f"feature {VALUE_CLASSES.get(value.split(':')[0], '')} {c['source']}".strip()
            tooltip = c.get("detail", "") + (f" ({c['error']})" if c.get("error") else "")
            cells.append(Cell(text, cls=cls, title=tooltip,
                              attrs={"data-feature": row["key"], "data-framework": framework_id,
                                     "data-value": value, "data-source": c["source"]}))
        rows.append(cells)
    return ["feature", "how known"] + list(framework_ids), rows


def build(data):
    if not data.features:
        return None
    framework_ids = list(data.features[0]["cells"])
    headers, rows = table_parts(data.features, framework_ids)
    table_html, table_md = markup.table(headers, rows, cls="features")
    note = (f"Probed: a tiny real computation in a fresh process per framework on this machine (the one that made "
            f"the report, which may not be the one that ran the benchmarks). Documented: from the frameworks' "
            f"documentation as of {features.DOCUMENTED_AS_OF}. dlbench frameworks --json lists what each probe ran.")
    return Section("features", "Framework features", f"{table_html}<p class=\"note\">{esc(note)}</p>",
                   f"{table_md}\n\n{markup.md_note(note)}")
