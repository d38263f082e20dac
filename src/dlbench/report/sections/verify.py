"""Same model in every framework (`dlbench verify`): per workload a pairwise matrix of frameworks, each cell the
pair's verdict and its largest differences (forward output, one training step's weight updates), a failing pair
naming the first tensor out of tolerance. Renders when the store holds verify results (data.verify: the rows of
Store.verify_results())."""
from __future__ import annotations

from dlbench.report import markup
from dlbench.report.markup import Cell, Section


def _cell(rows):
    by_phase = {r["phase"]: r for r in rows}
    if not rows:
        return Cell("-")
    if "run" in by_phase:
        return Cell("did not run", cls="bad", title=by_phase["run"]["note"] or "")
    bad = [r for r in rows if not r["ok"]]
    if bad:
        r = bad[0]
        return Cell(f"FAIL {r['phase']}: {r['divergent']} ({r['max_abs']:.1e})", cls="bad",
                    title=f"tolerance {r['tolerance']}")
    notes = "; ".join(r["note"] for r in rows if r.get("note"))
    text = f"ok{'*' if notes else ''} {by_phase['forward']['max_abs']:.0e} / {by_phase['update']['max_abs']:.0e}"
    return Cell(text, cls="good", title=notes or "; ".join(f"{r['phase']}: {r['tolerance']}" for r in rows))


def build(data):
    rows = getattr(data, "verify", None) or []
    if not rows:
        return None
    html, md = [], []
    intro = ("The same weights in every framework (dlbench verify): each cell compares two frameworks on one batch: "
             "the output in inference mode, the training loss, and the weight updates of one optimizer step "
             "(dropout off). A cell shows ok or FAIL (with the first tensor out of tolerance), then the largest "
             "|difference| of the outputs / of the updates; * marks a stated exception, explained in the notes below.")
    part = markup.paragraph(intro)
    html.append(part[0])
    md.append(part[1])
    notes = []
    for workload in dict.fromkeys(r["workload"] for r in rows):
        mine = [r for r in rows if r["workload"] == workload]
        frameworks = list(dict.fromkeys([r["reference"] for r in mine] + [r["framework"] for r in mine]))
        pairs = {}
        for r in mine:
            pairs.setdefault(frozenset((r["reference"], r["framework"])), []).append(r)
            if r.get("note") and r["phase"] != "run" and r["note"] not in notes:
                notes.append(r["note"])
        table_rows = [[a] + [Cell("-") if a == b else _cell(pairs.get(frozenset((a, b)), [])) for b in frameworks]
                      for a in frameworks]
        when = max(r["verified_at"] for r in mine)
        part = markup.table([""] + frameworks, table_rows, cls="verify",
                            caption=f"{workload}: verified {when} UTC; tolerances: "
                                    + "; ".join(sorted({f"{r['phase']} {r['tolerance']}" for r in mine
                                                        if r.get("tolerance")})))
        html.append(part[0])
        md.append(part[1])
    if notes:
        part = markup.bullet_list(["* " + n for n in notes])
        html.append(part[0])
        md.append(part[1])
    return Section("verify", "Same model in every framework", "\n".join(html), "\n\n".join(md))
