"""Charts with matplotlib on the Agg canvas: Figure objects with a FigureCanvasAgg, never pyplot, so no GUI backend
and no global state (an application that imports this keeps its own backend). Each chart is kept as SVG text
(inlined in report.html, its text kept as text so that a browser, a search and a test can read the framework
names) and as PNG bytes, and written to DIR/charts/.

SVGs are reproducible: a fixed svg.hashsalt and no date in the metadata; PNGs carry no software stamp.
"""
from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass

import matplotlib
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dlbench import frameworks as framework_registry
from dlbench import render

RC = {"svg.hashsalt": "dlbench", "svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
      "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 100}
PNG_DPI = 150
# The matrix's colours: ratio 1 (the fastest) green, 2x yellow, MAX_RATIO and beyond red, on a log scale.
MAX_RATIO = 4.0


def framework_colors(ids):
    """One colour per framework, the same in every chart (registry order first)."""
    palette = colormaps["tab10"].colors
    order = list(framework_registry.FRAMEWORK_IDS) + sorted(set(ids) - set(framework_registry.FRAMEWORK_IDS))
    return {f: to_hex(palette[i % len(palette)]) for i, f in enumerate(order)}


def ratio_color(ratio):
    """Background colour of a matrix cell for a time ratio to the fastest (>= 1)."""
    if ratio is None:
        return "#e0e0e0"
    position = min(max(math.log(max(ratio, 1.0)) / math.log(MAX_RATIO), 0.0), 1.0)
    red, green, blue, _ = colormaps["RdYlGn_r"](0.1 + 0.8 * position)
    return to_hex(tuple(0.45 + 0.55 * c for c in (red, green, blue)))  # lightened: the text on it stays readable


@dataclass
class Chart:
    name: str          # file stem under charts/
    title: str
    svg: str
    png: bytes
    frameworks: tuple  # the frameworks it shows (for tests and alt text)

    def inline(self):
        """The SVG for embedding in HTML: no XML prolog or metadata, ids prefixed so that charts cannot clash."""
        svg = self.svg
        svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
        svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
        svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
        prefix = f"{self.name}-"
        svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", svg)
        svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}{m.group(1)}"', svg)
        label = html.escape(self.title, quote=True)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
        return svg


class ChartSet:
    """The charts of one report, in the order they were made."""

    def __init__(self):
        self.charts = {}

    def add(self, name, figure, title, frameworks=()):
        if name in self.charts:
            raise ValueError(f"two charts named {name!r}")
        with matplotlib.rc_context(RC):
            svg = io.BytesIO()
            figure.savefig(svg, format="svg", metadata={"Date": None}, bbox_inches="tight")
            png = io.BytesIO()
            figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None}, bbox_inches="tight")
        chart = Chart(name, title, svg.getvalue().decode(), png.getvalue(), tuple(frameworks))
        self.charts[name] = chart
        return chart

    def write(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for chart in self.charts.values():
            for suffix, content in (("svg", chart.svg.encode()), ("png", chart.png)):
                path = folder / f"{chart.name}.{suffix}"
                path.write_bytes(content)
                written.append(path)
        return written


def _figure(width, height):
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots()
    return figure, axes


def epoch_time_bars(group, colors):
    """Steady-state epoch time per framework, 95% CI as error bars; frameworks without a result are named with
    their status instead of a bar."""
    rows = group.rows
    with matplotlib.rc_context(RC):
        figure, axes = _figure(6.4, 0.45 * len(rows) + 1.3)
        names = [row.framework for row in rows][::-1]
        largest = max([row.epoch_seconds.high or row.epoch_seconds.estimate for row in rows if row.epoch_seconds]
                      or [1.0])
        for y, row in enumerate(rows[::-1]):
            iv = row.epoch_seconds
            if iv is None:
                why = ", ".join(f"{n} {s}" for s, n in sorted(row.statuses.items()) if s != "ok") or "no steady epochs"
                axes.annotate(f"no result: {why}", (0, y), xytext=(5, 0), textcoords="offset points", va="center",
                              fontsize=8, color="#555555")
                continue
            error = None
            if iv.low is not None:
                error = [[iv.estimate - iv.low], [iv.high - iv.estimate]]
            axes.barh(y, iv.estimate, color=colors[row.framework], xerr=error, capsize=4,
                      error_kw={"ecolor": "#333333", "elinewidth": 1})
            axes.annotate(f"{iv.estimate:#.3g} s", (iv.estimate if iv.low is None else iv.high, y),
                          xytext=(5, 0), textcoords="offset points", va="center", fontsize=8)
        axes.set_yticks(range(len(names)), names)
        axes.set_ylim(-0.6, len(names) - 0.4)
        axes.set_xlim(0, largest * 1.3)
        axes.set_xlabel("steady-state seconds per epoch (geometric mean over repeats, 95% interval)")
        axes.set_title(f"{group.title}: epoch time", loc="left", fontsize=10)
        axes.grid(axis="y", visible=False)
    return figure


def learning_curves(group, colors, against="epoch"):
    """Validation accuracy (or loss) per epoch, one line per framework (mean over ok repeats); against="time" puts
    the mean training time elapsed on the x axis with the target as a line: the time-to-accuracy view."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(6.4, 3.6)
        shown = []
        for framework in group.frameworks:
            curve = group.curves.get(framework) or []
            if not curve:
                continue
            xs = [p["epoch"] if against == "epoch" else p["elapsed"] for p in curve]
            ys = [p["value"] for p in curve]
            axes.plot(xs, ys, marker="o", markersize=3, label=framework, color=colors[framework])
            shown.append(framework)
        targets = sorted({row.target for row in group.rows if row.target is not None})
        if against == "time":
            for target in targets:
                axes.axhline(target, color="#888888", linestyle="--", linewidth=1)
                axes.annotate(f"target {target:g}", (0, target), xycoords=("axes fraction", "data"),
                              xytext=(3, 3), textcoords="offset points", fontsize=8, color="#555555")
        axes.set_xlabel("epoch" if against == "epoch" else "training seconds (mean over repeats, warm-up included)")
        axes.set_ylabel(group.metric_label)
        what = "per epoch" if against == "epoch" else "against training time"
        axes.set_title(f"{group.title}: {group.metric_label} {what}", loc="left", fontsize=10)
        if against == "epoch" and shown:
            axes.xaxis.get_major_locator().set_params(integer=True)
        if shown:
            axes.legend(fontsize=8, frameon=False)
        else:
            axes.text(0.5, 0.5, "no finished runs", transform=axes.transAxes, ha="center")
    return figure, shown


def ratio_matrix(groups, framework_ids):
    """Workload x framework, coloured by epoch time relative to the workload's fastest framework."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(1.3 * len(framework_ids) + 2.2, 0.55 * len(groups) + 1.4)
        axes.grid(False)
        for y, group in enumerate(groups):
            for x, framework in enumerate(framework_ids):
                row = group.row(framework)
                ratio = row.ratio.estimate if row is not None and row.ratio is not None else None
                axes.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, color=ratio_color(ratio),
                                                            linewidth=0))
                if row is None:
                    text = "not run"
                elif ratio is None:
                    text = ", ".join(s for s in sorted(row.statuses) if s != "ok") or "no result"
                else:
                    text = f"{ratio:.2f}" + ("" if row.fastest else f" {render.VERDICT_WORDS[row.verdict]}")
                axes.text(x, y, text, ha="center", va="center", fontsize=8)
        axes.set_xlim(-0.5, len(framework_ids) - 0.5)
        axes.set_ylim(len(groups) - 0.5, -0.5)
        axes.set_xticks(range(len(framework_ids)), framework_ids, rotation=20, ha="right")
        axes.set_yticks(range(len(groups)), [g.title for g in groups])
        axes.set_title("epoch time relative to the fastest framework (1.00 = fastest)", loc="left", fontsize=10)
        for side in ("left", "bottom"):
            axes.spines[side].set_visible(False)
    return figure


def cost_bars(workload, entries, currency, colors):
    """Cost per epoch, one bar per (framework, device), with the CI of the epoch time carried over."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(6.4, 0.45 * len(entries) + 1.3)
        labels = []
        for y, entry in enumerate(entries[::-1]):
            cost = entry["cost"]
            error = None
            if cost.low is not None:
                error = [[cost.estimate - cost.low], [cost.high - cost.estimate]]
            axes.barh(y, cost.estimate, color=colors[entry["framework"]], xerr=error, capsize=4,
                      error_kw={"ecolor": "#333333", "elinewidth": 1})
            axes.annotate(f"{cost.estimate:#.3g}", (cost.estimate if cost.high is None else cost.high, y),
                          xytext=(5, 0), textcoords="offset points", va="center", fontsize=8)
            labels.append(f"{entry['framework']} ({entry['device']})")
        axes.set_yticks(range(len(labels)), labels)
        largest = max(e["cost"].high or e["cost"].estimate for e in entries)
        axes.set_xlim(0, largest * 1.35)
        axes.set_xlabel(f"{currency} per steady-state epoch (95% CI)")
        axes.set_title(f"{workload}: cost per epoch", loc="left", fontsize=10)
        axes.grid(axis="y", visible=False)
    return figure


def inference_throughput(workload, series, colors):
    """Items per second against batch size, one line per runtime; with a single batch size, one bar per runtime
    (a line through one point is a dot). series: runtime -> [(batch size, items/s, CI low or None, CI high)]."""
    sizes = {p[0] for points in series.values() for p in points}
    if len(sizes) == 1:
        return _inference_bars(workload, series, colors, sizes.pop())
    with matplotlib.rc_context(RC):
        figure, axes = _figure(6.4, 3.6)
        for runtime, points in series.items():
            points = sorted(points)
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=runtime,
                      color=colors.get(runtime))
        axes.set_xscale("log", base=2)
        axes.set_xlabel("batch size")
        axes.set_ylabel("items per second")
        axes.set_title(f"{workload}: inference throughput", loc="left", fontsize=10)
        axes.legend(fontsize=8, frameon=False)
    return figure


def _inference_bars(workload, series, colors, batch_size):
    ranked = sorted(((runtime, points[0]) for runtime, points in series.items()), key=lambda kv: kv[1][1])
    with matplotlib.rc_context(RC):
        figure, axes = _figure(6.4, 0.45 * len(ranked) + 1.3)
        # An interval far wider than the bars (two noisy repeats) is cut at 3x the largest bar, and says so.
        limit = 3 * max(p[1] for _, p in ranked)
        largest = min(max(p[3] if p[3] is not None else p[1] for _, p in ranked), limit)
        for y, (runtime, (_, ips, low, high)) in enumerate(ranked):
            error = None if low is None else [[ips - low], [min(high, limit) - ips]]
            axes.barh(y, ips, color=colors.get(runtime), xerr=error, capsize=4,
                      error_kw={"ecolor": "#333333", "elinewidth": 1})
            cut = high is not None and high > limit
            axes.annotate(f"{ips:#.3g}" + (f" (interval to {high:#.3g})" if cut else ""),
                          (ips if high is None else min(high, limit), y), xytext=(5, 0),
                          textcoords="offset points", va="center", fontsize=8)
        axes.set_yticks(range(len(ranked)), [runtime for runtime, _ in ranked])
        axes.set_ylim(-0.6, len(ranked) - 0.4)
        axes.set_xlim(0, largest * 1.45)
        axes.set_xlabel(f"items per second at batch size {batch_size} (95% interval over repeats)")
        axes.set_title(f"{workload}: inference throughput", loc="left", fontsize=10)
        axes.grid(axis="y", visible=False)
    return figure
