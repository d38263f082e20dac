"""Hostile strings from the store never become markup: real stores made by real runs (tests/conftest.py), their text
fields (error, host, suite name, command, verify note, framework, workload) overwritten with HTML and Markdown that
would run a script, load an image, add a link or break a table; then report.md is rendered by a real Markdown
renderer (markdown-it-py, inline HTML allowed as on a code forge) and report.html parsed: no element or attribute
from the store, and each string still shown whole, as text."""
import sqlite3
from html.parser import HTMLParser

import pytest
from conftest import copy_store, dlbench
from report_helpers import fixture_store
from markdown_it import MarkdownIt

from dlbench.store import Store

HOSTILE = ("<script>alert(1)</script><img src=x onerror=alert(2)> a|b\nc [link](javascript:alert(3)) `tick` "
           "*em* &amp; # not a heading")
SHOWN = " ".join(HOSTILE.split("\n"))  # how it reads once rendered: one line


class Elements(HTMLParser):
    """Every element with its attributes, and the text of each block (cell, paragraph, item, heading, caption)."""
    BLOCKS = {"td", "th", "p", "li", "h1", "h2", "h3", "h4", "caption", "em", "strong", "figcaption"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.blocks, self.open = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.BLOCKS:
            self.open.append([])

    def handle_endtag(self, tag):
        if tag in self.BLOCKS and self.open:
            self.blocks.append(" ".join("".join(self.open.pop()).split()))

    def handle_data(self, data):
        for block in self.open:
            block.append(data)


def assert_inert(rendered):
    found = Elements(rendered)
    tags = {tag for tag, _ in found.tags}
    assert not tags & {"script", "iframe", "object"}, sorted(tags)
    # The only images: the report's own charts
    assert all(attrs.get("src", "").startswith("charts/") for tag, attrs in found.tags if tag == "img")
    assert not [attrs for _, attrs in found.tags if any(k.startswith("on") for k in attrs)]
    assert not [attrs for _, attrs in found.tags if "javascript:" in attrs.get("href", "")]
    return found


def hostile_copy(path, folder):
    """A copy of a real store with every text field a user could meet in a report replaced by HOSTILE."""
    path = copy_store(path, folder)
    db = sqlite3.connect(path)
    db.execute("UPDATE suites SET name = ?, host = ?, command = ?", (HOSTILE,) * 3)
    db.execute("UPDATE runs SET node_host = ?", (HOSTILE,))
    # A failed run of a hostile framework on a hostile workload, beside the real ones.
    db.execute("INSERT INTO runs (suite_id, trial_key, workload, framework, repeat, settings, status, error, detail, "
               "node_host, node_device, started_at, finished_at) SELECT suite_id, 'hostile', ?, ?, 0, settings, "
               "'failed', ?, ?, ?, ?, started_at, finished_at FROM runs ORDER BY id LIMIT 1", (HOSTILE,) * 6)
    db.commit()
    db.close()
    store = Store(path)
    row = {"verified_at": "2026-01-01T00:00:00", "workload": HOSTILE, "framework": HOSTILE, "reference": "torch",
           "max_abs": 1e-6, "max_rel": 1e-6, "tolerance": HOSTILE, "divergent": None, "note": HOSTILE}
    store.record_verify([{**row, "phase": phase, "ok": True} for phase in ("forward", "loss", "update")])
    store.close()
    return path


@pytest.mark.parametrize("kind", ["training_store", "inference_store"])
def test_hostile_store_text_is_inert_in_markdown_and_html(kind, request, tmp_path):
    path = hostile_copy(request.getfixturevalue(kind), tmp_path)
    result = dlbench("report", "--store", path, "--out", tmp_path / "out", "--no-features")
    assert result.returncode == 0, result.stderr[-3000:]

    markdown = (tmp_path / "out" / "report.md").read_text()
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    found = assert_inert(rendered)
    shown = [b for b in found.blocks if SHOWN in b]
    # Whole, in one block (a table cell it did not break, a paragraph, an item): the error, the host, the suite.
    assert len(shown) >= 3, [b for b in found.blocks if "alert" in b][:10]

    page = assert_inert((tmp_path / "out" / "report.html").read_text())
    assert [b for b in page.blocks if SHOWN in b]


def test_compare_page_escapes_hostile_store_text(tmp_path):
    """dlbench compare --html on two stores whose framework, workload, host, suite and error texts are hostile."""
    sides = []
    for name, scale in (("old", {}), ("new", {"torch": 0.5})):
        path = fixture_store(tmp_path / f"{name}.sqlite", suite_name=HOSTILE, scale=scale)
        db = sqlite3.connect(path)
        db.execute("UPDATE runs SET node_host = ?", (HOSTILE,))
        db.execute("UPDATE runs SET framework = ? WHERE framework = 'jax'", (HOSTILE,))
        db.execute("UPDATE runs SET workload = ? WHERE workload = 'toy_cnn'", (HOSTILE + name,))
        db.commit()
        db.close()
        sides.append(path)
    result = dlbench("compare", *sides, "--html", tmp_path / "compare.html")
    assert result.returncode == 0, result.stderr
    found = assert_inert((tmp_path / "compare.html").read_text())
    assert not [tag for tag, _ in found.tags if tag == "img"]
    rows = [b for b in found.blocks if b == SHOWN]  # the hostile framework's cell, whole
    assert rows and any("faster" in b for b in found.blocks)
    assert [b for b in found.blocks if b.startswith("Only in A") and SHOWN + "old" in b]
