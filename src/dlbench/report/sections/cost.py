"""Cost, with a price table (--prices FILE, see dlbench.report.prices): steady-state epoch time x the device's price
per hour = cost per epoch, and cost relative to the cheapest (framework, device) for the workload, with CIs.

Across devices the relative cost is the epoch-time ratio (stats.ratio_interval) x the price ratio: the price is a
constant, so its interval is the time ratio's, scaled. Within one device it equals the time ratio."""
from __future__ import annotations

from dlbench import render, stats, summary
from dlbench.report import charts, markup
from dlbench.report.markup import Section, esc, interval


def entries(data, workload):
    """One entry per (group, framework) with a steady-state time: its device, price and cost."""
    out, unpriced = [], []
    for group in data.groups_of(workload):
        for row in group.ranked:
            devices = list(dict.fromkeys(r["node_device"] for r in group.runs[row.framework] if r["status"] == "ok"))
            key, per_hour = data.prices.per_hour(devices[0], group.settings.get("device"))
            if per_hour is None:
                unpriced.append(f"{row.framework} on {group.title}: no price for {devices[0]!r}")
                continue
            out.append({"group": group, "row": row, "framework": row.framework, "device": key,
                        "node_device": devices[0], "mixed_devices": len(devices) > 1, "per_hour": per_hour,
                        "cost": stats.scale(row.epoch_seconds, per_hour / 3600.0),
                        "to_target": data.prices.cost(row.time_to_target, per_hour),
                        "steady": group.steady[row.framework], "runs": group.runs[row.framework]})
    out.sort(key=lambda e: e["cost"].estimate)
    if out and out[0]["per_hour"] > 0:
        cheapest = out[0]
        for entry in out:
            anytime = summary.adaptive(entry["runs"]) or summary.adaptive(cheapest["runs"])
            ratio = stats.ratio_interval(entry["steady"], cheapest["steady"], anytime=anytime)
            entry["relative"] = stats.scale(ratio, entry["per_hour"] / cheapest["per_hour"])
    return out, unpriced


def build(data):
    if data.prices is None or not data.groups:
        return None
    prices = data.prices
    html, md, names = [], [], []
    listed = ", ".join(f"{k} {prices.money(v)}/h" for k, v in prices.prices.items())
    intro = markup.paragraph(f"Prices per hour from {prices.source or 'the price table'}: {listed}.")
    html.append(intro[0])
    md.append(intro[1])
    for workload in data.workloads:
        found, unpriced = entries(data, workload)
        html.append(f"<h3>{esc(workload)}</h3>")
        md.append(markup.md_heading(3, workload))
        if found:
            rows = []
            for e in found:
                relative = e.get("relative")
                if relative is None:
                    rel = "-"
                elif e is found[0]:
                    rel = "1.00 (cheapest)"
                else:
                    kind = stats.verdict(relative)
                    word = {"slower": "costlier", "faster": "cheaper"}.get(kind, render.VERDICT_WORDS[kind])
                    rel = f"{relative.estimate:.2f} {interval(relative, lambda v: f'{v:.2f}')} {word}"
                device = e["device"] + (" (mixed devices)" if e["mixed_devices"] else "")
                rows.append([e["framework"], e["group"].label or "-", device, prices.money(e["per_hour"]),
                             f"{markup.seconds(e['row'].epoch_seconds.estimate)} {interval(e['row'].epoch_seconds)}",
                             f"{prices.money(e['cost'].estimate)} {interval(e['cost'], prices.money)}", rel,
                             prices.money(e["to_target"])])
            table = markup.table(["framework", "settings", "device", "price/h", "epoch s [95% CI]",
                                  "cost per epoch [95% CI]", "x cheapest [95% CI]", "cost to target"], rows,
                                 cls="cost")
            chart = data.charts.add(f"{data.groups_of(workload)[0].slug}-cost-per-epoch",
                                    charts.cost_bars(workload, found, prices.currency, data.colors),
                                    f"{workload}: cost per epoch", [e["framework"] for e in found])
            names.append(chart.name)
            figure = markup.figure(chart)
            html += [table[0], f'<div class="charts">{figure[0]}</div>']
            md += [table[1], figure[1]]
        if unpriced:
            note = markup.bullet_list(unpriced, cls="unpriced")
            html.append(note[0])
            md.append(note[1])
    return Section("cost", "Cost", "\n".join(html), "\n\n".join(md), charts=names)
