"""The report as files: report.html (one self-contained page: CSS and SVG charts inlined, no script, nothing
fetched), report.md (the same sections in Markdown, charts linked as charts/*.png), and charts/*.png|svg."""
from __future__ import annotations

from pathlib import Path

from dlbench.report.markup import esc, md_heading
from dlbench.report.sections import SECTIONS

TITLE = "dlbench report"

CSS = """
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #dadce0; --bg: #ffffff; --soft: #f6f7f9; --warn: #fff4e5; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 28px 60px; }
h1 { font-size: 26px; margin: 4px 0 6px; }
h2 { font-size: 20px; margin: 34px 0 10px; padding-top: 10px; border-top: 1px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
h4 { font-size: 15px; margin: 16px 0 6px; }
nav.toc { font-size: 13px; color: var(--muted); margin: 0 0 12px; }
nav.toc a { color: #1a5fb4; text-decoration: none; margin-right: 12px; white-space: nowrap; }
p.lead { font-size: 15px; margin: 6px 0; }
p.source, p.note, p.settings, p.suite-facts { color: var(--muted); font-size: 13px; margin: 6px 0; }
p.tally { font-weight: 600; }
p.headline { margin: 10px 0 2px; font-weight: 600; }
ul { margin: 4px 0 8px; padding-left: 22px; }
li.claim-tie, li.claim-no_ci { color: #6b4e00; }
li.claim-no_result { color: var(--muted); }
.warn-line a { color: #8a4b00; font-weight: 600; }
.warn-box { background: var(--warn); border: 1px solid #f0c36d; border-radius: 6px; padding: 8px 14px; margin: 8px 0; }
.ok-note { color: #1e6b34; }
.table-wrap { overflow-x: auto; margin: 8px 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
table.matrix td { min-width: 120px; max-width: 240px; }
table.matrix td .ratio { font-weight: 600; }
table.matrix td .sub { color: #333; font-size: 12px; }
table.matrix td .why { font-size: 12px; color: #333; }
td.rowhead { font-weight: 600; background: var(--soft); }
table.summary td:nth-child(n+3) { text-align: right; white-space: nowrap; }
table.env td { font-size: 12px; }
td.feature { font-size: 12px; max-width: 230px; }
td.feature.yes { background: #e3f4e8; }
td.feature.no { background: #fde7e7; }
td.feature.partly, td.feature.unknown { background: #fff4d6; }
td.feature.documented { font-style: italic; }
td.source { color: var(--muted); font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 8px 0; flex: 1 1 480px; max-width: 620px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: var(--muted); }
td.verdict-faster { background: #e3f4e8; }
td.verdict-equivalent { background: #eef5fb; }
td.verdict-slower { background: #fde7e7; }
td.verdict-tie, td.verdict-inconclusive { background: #fff4d6; }
.flag { background: #fde7e7; border: 1px solid #e0a0a0; border-radius: 6px; padding: 8px 14px; margin: 8px 0;
        font-weight: 600; }
details summary { cursor: pointer; color: #1a5fb4; font-size: 13px; margin: 6px 0; }
"""


def document(title, body):
    """A self-contained page (CSS inlined, no script) around body, already HTML; title is text."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="dlbench">\n<title>{esc(title)}</title>\n<style>{CSS}</style>\n'
            f'</head>\n<body>\n<main>\n<h1>{esc(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n')


def build(data):
    """(html, markdown, sections) of the whole report."""
    sections = [section for section in (build_section(data) for build_section in SECTIONS) if section is not None]
    nav = " ".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections if s.heading)
    body = []
    for s in sections:
        heading = f"<h2>{esc(s.title)}</h2>" if s.heading else ""
        body.append(f'<section id="{esc(s.id)}">{heading}{s.html}</section>')
    html = document(TITLE, f'<nav class="toc">{nav}</nav>\n' + "\n".join(body))
    md = [md_heading(1, TITLE)]
    for s in sections:
        md.append(f"{md_heading(2, s.title)}\n\n{s.markdown}" if s.heading else s.markdown)
    return html, "\n\n".join(md) + "\n", sections


def write(data, out_dir):
    """Write report.html, report.md and charts/ under out_dir; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html, md, _ = build(data)
    paths = [out_dir / "report.html", out_dir / "report.md"]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(md, encoding="utf-8")
    charts = data.charts.write(out_dir / "charts")
    for stale in (out_dir / "charts").glob("*"):  # charts of an earlier report into the same folder
        if stale.suffix in (".png", ".svg") and stale not in charts:
            stale.unlink()
    return paths + charts
