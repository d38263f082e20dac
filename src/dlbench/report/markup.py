"""The pieces every section uses to say the same thing in HTML and in Markdown: a Section, tables, charts, and the
number formats (so that a ratio reads the same in the page, the Markdown, the terminal and the tests)."""
from __future__ import annotations

import html as _html
import re
from urllib.parse import quote
from dataclasses import dataclass, field


@dataclass
class Section:
    id: str                 # the HTML anchor
    title: str
    html: str               # the body (the page adds the heading)
    markdown: str           # the body (the page adds the heading)
    charts: list = field(default_factory=list)  # names of the charts it made
    heading: bool = True    # False: shown under the page title without a heading of its own (the overview)


def esc(text):
    return _html.escape(str(text), quote=True)


# Markdown: HTML's special characters become entities (a viewer that renders inline HTML shows them as text), the
# characters that make links, code, emphasis or table cells are backslash-escaped (CommonMark allows it before any
# ASCII punctuation), and line breaks become spaces, so that a stored string stays inside its paragraph or cell.
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_PUNCTUATION = re.compile(r"([\\`*[|])")  # a lone ] links nothing
_MD_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])")  # what would start a heading or a list at a line's start


def md_escape(text):
    """Any text (from the store or not) as literal Markdown inline text: a table cell, a heading, emphasis."""
    text = " ".join(str(text).splitlines())
    text = "".join(_MD_ENTITIES.get(c, c) for c in text)
    return _MD_PUNCTUATION.sub(r"\\\1", text)


def md_block(text):
    """Text that starts a paragraph or a list item: also never a heading or a list of its own."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), md_escape(text))


def md_heading(level, text):
    return f"{'#' * level} {md_escape(text)}"


def md_strong(text):
    return f"**{md_escape(text)}**"


def md_note(text):
    """A note in italics."""
    return f"*{md_escape(text)}*"


@dataclass
class Cell:
    text: str                   # what both renderings say
    style: str = ""             # inline CSS for the HTML cell (e.g. a background colour)
    title: str = ""             # an HTML tooltip (the long form: a full error message)
    cls: str = ""
    html: str | None = None     # richer HTML than the text, if any
    attrs: dict = field(default_factory=dict)  # data-* attributes for machine reading


def cell(value):
    return value if isinstance(value, Cell) else Cell("" if value is None else str(value))


def table(headers, rows, cls="", caption=""):
    """(html, markdown) of one table; rows are lists of str or Cell."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for value in map(cell, row):
            attrs = "".join(f' {k}="{esc(v)}"' for k, v in value.attrs.items())
            attrs += f' style="{esc(value.style)}"' if value.style else ""
            attrs += f' title="{esc(value.title)}"' if value.title else ""
            attrs += f' class="{esc(value.cls)}"' if value.cls else ""
            cells.append(f"<td{attrs}>{value.html if value.html is not None else esc(value.text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    html = (f'<div class="table-wrap"><table class="{esc(cls)}">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")
    md = ["| " + " | ".join(md_escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    md += ["| " + " | ".join(md_escape(cell(v).text) for v in row) + " |" for row in rows]
    if caption:
        md.append("")
        md.append(md_note(caption))
    return html, "\n".join(md)


def figure(chart):
    """(html, markdown) of one chart: the SVG inlined, the Markdown pointing at the PNG beside it."""
    html = (f'<figure class="chart" id="chart-{esc(chart.name)}" data-chart="{esc(chart.name)}" '
            f'data-frameworks="{esc(",".join(chart.frameworks))}">{chart.inline()}'
            f'<figcaption>{esc(chart.title)} &middot; <a href="charts/{esc(chart.name)}.png">PNG</a> '
            f'&middot; <a href="charts/{esc(chart.name)}.svg">SVG</a></figcaption></figure>')
    return html, f"![{md_escape(chart.title)}](charts/{_url_path(chart.name)}.png)"


def _url_path(name):
    return quote(str(name), safe="-_.")


def paragraph(text, cls=""):
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<p{klass}>{esc(text)}</p>", md_block(text)


def bullet_list(items, cls=""):
    """items: str or (text, attrs dict)."""
    html, md = [], []
    for item in items:
        text, attrs = (item, {}) if isinstance(item, str) else item
        extra = "".join(f' {k}="{esc(v)}"' for k, v in attrs.items())
        html.append(f"<li{extra}>{esc(text)}</li>")
        md.append(f"- {md_block(text)}")
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<ul{klass}>{''.join(html)}</ul>", "\n".join(md)


def join(parts):
    """Concatenate (html, markdown) pairs."""
    return "\n".join(p[0] for p in parts), "\n\n".join(p[1] for p in parts if p[1])


# -- numbers ---------------------------------------------------------------------------------------------------------

def seconds(value):
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def interval(iv, fmt=seconds):
    """'[low, high]', or '-' when there is no CI (fewer than two values): never an invented one."""
    if iv is None or iv.low is None:
        return "-"
    return f"[{fmt(iv.low)}, {fmt(iv.high)}]"


def two(value):
    return f"{value:.2f}"


def times(iv):
    """A ratio as a reader says it: '1.68x [1.37, 2.01]'."""
    if iv.low is None:
        return f"{two(iv.estimate)}x (no CI)"
    return f"{two(iv.estimate)}x {interval(iv, two)}"


def percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"
