"""What a reader meets first in the report: "do they learn the same" right after "who is fastest", a flag at the top
when runs used synthetic data, the inference section's own fastest-runtime summary (the training claims' verdicts),
a single batch size drawn as bars, and no Markdown backticks or "hover" in the text. On the small real stores of
tests/conftest.py, and on fixture numbers where a store cannot be made here (verify results)."""
import re
from html.parser import HTMLParser

from conftest import dlbench
from report_helpers import fixture_store

from dlbench.report import charts
from dlbench.report.sections import SECTIONS, fastest, learning, verify
from dlbench.store import Store


class Text(HTMLParser):
    """The visible text of a page (no style, no SVG)."""

    def __init__(self, page):
        super().__init__()
        self.parts, self.skip = [], 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "svg")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "svg")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)

    @property
    def text(self):
        return " ".join(" ".join(self.parts).split())


def report(store, out):
    result = dlbench("report", "--store", store, "--out", out, "--no-features")
    assert result.returncode == 0, result.stderr
    return (out / "report.md").read_text(), Text((out / "report.html").read_text()).text


def test_learning_and_verify_follow_who_is_fastest():
    order = SECTIONS.index(fastest.build)
    assert SECTIONS[order + 1:order + 3] == [learning.build, verify.build]


def test_synthetic_data_is_flagged_at_the_top(training_store, tmp_path):
    md, text = report(training_store, tmp_path / "synthetic")
    assert md.index("Synthetic data: 2 of 2 runs") < md.index("## Who is fastest where")
    assert text.index("Synthetic data: 2 of 2 runs") < text.index("Who is fastest where On")  # after the nav
    # Do they learn the same: each repeat's final accuracy, and its spread.
    section = md[md.index("## Do they learn the same?"):md.index("## Workload x framework")]
    assert re.search(r"\| torch \| 2 \| \d+\.\d% \| \d+\.\d% to \d+\.\d% \| \d+\.\d points \|", section)
    assert "accuracy-per-epoch.png" in section
    plain_md, _ = report(fixture_store(tmp_path / "small.sqlite"), tmp_path / "small")  # data small: real digits
    assert "Synthetic data" not in plain_md


def test_inference_section_says_which_runtime_is_fastest(inference_store, tmp_path):
    md, text = report(inference_store, tmp_path / "inference")
    section = md[md.index("## Inference"):]
    # Two repeats a side: no verdict, so the two runtimes share first place and the claim says why.
    assert re.search(r"\*\*On resnet50_features at batch size 1, (onnxruntime, torch|torch, onnxruntime) share first "
                     r"place: the data cannot tell them apart", section)
    assert re.search(r"- \w+ looks \d\.\d\dx .* faster than \w+ on resnet50_features at batch size 1, but there is "
                     r"no verdict: 2 repeats on a side", section)
    assert "share first place" in text


def test_one_batch_size_is_drawn_as_bars_and_several_as_lines():
    one = {"torch": [(1, 5.0, 4.0, 6.0)], "onnxruntime": [(1, 8.0, 7.0, 90.0)]}
    figure = charts.inference_throughput("w", one, {})
    axes = figure.axes[0]
    assert len(axes.patches) == 2 and "batch size 1" in axes.get_xlabel()
    assert axes.get_xlim()[1] < 90  # an interval far wider than the bars is cut, and said in its label
    assert any("interval to 90" in t.get_text() for t in axes.texts)
    several = {"torch": [(1, 5.0, None, None), (8, 30.0, None, None)]}
    axes = charts.inference_throughput("w", several, {}).axes[0]
    assert len(axes.lines) == 1 and axes.get_xlabel() == "batch size"


def test_no_backticks_or_tooltip_instructions_in_the_text(tmp_path):
    path = fixture_store(tmp_path / "s.sqlite")
    store = Store(path)
    row = {"verified_at": "2026-01-01T00:00:00", "workload": "mnist_mlp", "framework": "jax", "reference": "torch",
           "max_abs": 1e-6, "max_rel": 1e-6, "tolerance": "rtol 1e-05", "divergent": None,
           "note": "Keras clips probabilities"}
    store.record_verify([{**row, "phase": phase, "ok": True} for phase in ("forward", "loss", "update")])
    store.close()
    md, text = report(path, tmp_path / "out")
    assert "## Same model in every framework" in md
    for shown in (md, text):
        assert "`" not in shown and "hover" not in shown.lower()
