"""dlbench report and dlbench compare on stores with fixture numbers (the report's logic, not a framework's)."""
import json
import re
import xml.etree.ElementTree as ElementTree

import pytest
from conftest import dlbench
from report_helpers import (FAIL_REASON, NODE, SKIP_REASON, add_run, fixture_store, jitter,
                            steady_from_sqlite)

from dlbench import stats
from dlbench.report import data as report_data
from dlbench.report import page, prices
from dlbench.report.markup import md_escape
from dlbench.report.sections import SECTIONS, cost, environment, fastest, inference
from dlbench.store import Store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load(path, **extra):
    store = Store(path)
    runs = store.runs()
    data = report_data.assemble(runs, store.epochs([r["id"] for r in runs]), report_data.suites_of(store, runs),
                                store_path=path, **extra)
    store.close()
    return data


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The real command line on the fixture store: report.html, report.md and charts/."""
    root = tmp_path_factory.mktemp("report")
    store = fixture_store(root / "s.sqlite")
    price_file = root / "prices.toml"
    price_file.write_text('currency = "EUR"\n[prices]\ncpu = 0.36\n"Test CPU 9000" = 0.72\n')
    result = dlbench("report", "--store", store, "--out", root / "out", "--no-features", "--prices", price_file)
    assert result.returncode == 0, result.stderr
    return root, store


def test_report_writes_html_markdown_and_every_chart_as_png_and_svg(written):
    root, _ = written
    out = root / "out"
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    charts = sorted((out / "charts").iterdir())
    stems = {p.stem for p in charts}
    expected = {"matrix", "mnist_mlp-epoch-time", "mnist_mlp-accuracy-per-epoch", "mnist_mlp-time-to-accuracy",
                "toy_cnn-epoch-time", "toy_cnn-accuracy-per-epoch", "toy_cnn-time-to-accuracy",
                "mnist_mlp-cost-per-epoch", "toy_cnn-cost-per-epoch"}
    assert stems == expected
    for stem in stems:
        png = (out / "charts" / f"{stem}.png").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 2000
        root_element = ElementTree.fromstring((out / "charts" / f"{stem}.svg").read_bytes())
        assert root_element.tag.endswith("svg")
        # Every chart is inlined in the page, and the Markdown links its PNG.
        assert f'data-chart="{stem}"' in html
        assert f"(charts/{stem}.png)" in md
    # Self-contained: no script, no stylesheet link, no remote image.
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for heading in ("## Who is fastest where", "## Workload x framework", "## Per workload", "## Cost",
                    "## Environment", "## How these numbers were made", "### mnist_mlp", "### toy_cnn"):
        assert heading in md
    assert "## Framework features" not in md and "## Inference" not in md  # --no-features; no inference results


def test_markdown_says_who_is_fastest_and_why_cells_are_empty(written):
    root, _ = written
    md = (root / "out" / "report.md").read_text()  # brackets escaped: a stored [ never starts a link
    assert re.search(r"- torch is \d+\.\d\dx \\\[\d+\.\d\d, \d+\.\d\d\] faster than jax on mnist_mlp\.", md)
    assert re.search(r"- torch and keras-jax are equal within ±5% on mnist_mlp: torch is 1\.00x \\\[0\.\d\d, 1\.\d\d\] "
                     r"faster, an interval inside the margin\.", md)
    # A shared first place is never headlined as one framework's win.
    assert "On mnist_mlp, torch, keras-jax share first place" in md
    assert re.search(r"- jax is 1\.\d\dx \\\[\d\.\d\d, \d\.\d\d\] faster than torch on toy_cnn\.", md)
    assert "Fastest in 2 comparisons: " in md and "mnist_mlp (shared)" in md
    # The matrix row of mnist_mlp: failed and skipped cells say why, with the stored error.
    matrix_row = next(line for line in md.splitlines() if line.startswith("| mnist_mlp |"))
    assert md_escape(f"failed ({FAIL_REASON})") in matrix_row
    assert md_escape(f"skipped ({SKIP_REASON})") in matrix_row
    assert "1.00 (fastest)" in matrix_row and " equal ±5%;" in matrix_row
    cifar_row = next(line for line in md.splitlines() if line.startswith("| toy_cnn |"))
    assert cifar_row.count("not run") == 3  # keras-jax, tensorflow and keras-tensorflow have no toy_cnn runs
    assert md_escape(f"tensorflow has no result on mnist_mlp: failed ({FAIL_REASON}).") in md


def test_matrix_cells_in_html_carry_status_and_reason(written):
    root, _ = written
    html = (root / "out" / "report.html").read_text()
    failed = re.search(r'<td data-framework="tensorflow" data-group="mnist_mlp" data-status="failed"[^>]*>(.*?)</td>',
                       html)
    skipped = re.search(r'<td data-framework="keras-tensorflow" data-group="mnist_mlp" data-status="skipped"'
                        r'[^>]*>(.*?)</td>', html)
    assert failed and "RuntimeError: tensorflow ran out of patience" in failed.group(1)
    assert skipped and "is not installed" in skipped.group(1)


def test_fastest_claims_use_the_ratio_interval_on_the_stored_epochs(tmp_path):
    path = fixture_store(tmp_path / "s.sqlite")
    data = load(path)
    found = {(c.group.workload, c.faster, c.slower): c for g in data.groups for c in fastest.claims(g)}
    for (workload, faster, slower), claim in found.items():
        if claim.kind == "no_result":
            continue
        ratio = stats.ratio_interval(steady_from_sqlite(path, workload, slower),
                                     steady_from_sqlite(path, workload, faster))
        assert claim.ratio == ratio
        assert claim.kind == {"slower": "faster"}.get(stats.verdict(ratio), stats.verdict(ratio))
    assert found[("mnist_mlp", "torch", "jax")].kind == "faster"
    assert found[("mnist_mlp", "torch", "keras-jax")].kind == "equivalent"
    assert found[("toy_cnn", "jax", "torch")].kind == "faster"
    assert {k[1] for k in found if found[k].kind == "no_result"} == {"tensorflow", "keras-tensorflow"}


def test_a_single_repeat_makes_no_call(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    suite = store.begin_suite("t", {})
    add_run(store, suite, "mnist_mlp", "torch", 0, [3.0, 1.0, 1.1, 0.9])
    add_run(store, suite, "mnist_mlp", "jax", 0, [3.0, 2.0, 2.1, 1.9])
    store.close()
    data = load(tmp_path / "s.sqlite")
    (claim,) = fastest.claims(data.groups[0])
    assert claim.kind == "inconclusive" and "no verdict: one repeat on a side" in claim.text


def test_environment_warnings_where_compared_runs_differ(tmp_path):
    path = fixture_store(tmp_path / "s.sqlite")
    store = Store(path)
    suite = store.begin_suite("later", {}, git_revision="def456")
    add_run(store, suite, "mnist_mlp", "torch", 3, jitter(1.0, 3), node={"host": "otherhost", "device": "cpu: Other"},
            env={"imported": {"torch": "2.12.0"}, "threads": {"intra_op": 1, "inter_op": 1},
                 "cpu_model": "Other"})
    store.close()
    data = load(path)
    found = environment.warnings(data)
    text = "\n".join(found)
    assert "mnist_mlp: the compared runs differ in hosts: benchhost (torch, keras-jax, jax); otherhost (torch)." \
        in found
    assert "differ in CPU models" in text and "differ in dlbench revisions" in text
    assert "torch runs used different versions: torch 2.13.0 (3 runs); torch 2.12.0 (1 runs)" in text
    assert "torch runs read back different thread settings" in text
    assert not any(w.startswith("toy_cnn") for w in found)  # nothing differs there
    html, md, _ = page.build(data)
    assert "environment warnings" in md and 'id="environment-warnings"' in html


def test_price_table_arithmetic(tmp_path):
    path = fixture_store(tmp_path / "s.sqlite")
    table_file = tmp_path / "p.toml"
    table_file.write_text('[prices]\ncpu = 0.36\n"Test CPU" = 1.80\n"NVIDIA H100" = 3.60\n')
    table = prices.load(table_file)
    assert table.per_hour("cpu: Test CPU 9000", "cpu") == ("Test CPU", 1.80)   # the longest matching name
    assert table.per_hour("cpu: Some Other CPU", "cpu") == ("cpu", 0.36)        # the device setting
    assert table.per_hour("NVIDIA H100 80GB HBM3", "gpu") == ("NVIDIA H100", 3.60)
    assert table.per_hour("NVIDIA A100", "gpu") == (None, None)                  # no price, no guess
    assert table.cost(3600.0, 1.80) == pytest.approx(1.80) and table.cost(10.0, 3.60) == pytest.approx(0.01)
    data = load(path, prices=table)
    entries, unpriced = cost.entries(data, "mnist_mlp")
    assert not unpriced and [e["framework"] for e in entries] == ["torch", "keras-jax", "jax"]
    torch_entry, jax_entry = entries[0], entries[2]
    epoch = data.groups_of("mnist_mlp")[0].row("torch").epoch_seconds
    assert torch_entry["cost"].estimate == pytest.approx(epoch.estimate * 1.80 / 3600)
    assert torch_entry["cost"].low == pytest.approx(epoch.low * 1.80 / 3600)
    assert torch_entry["relative"].estimate == pytest.approx(1.0)
    ratio = stats.ratio_interval(steady_from_sqlite(path, "mnist_mlp", "jax"), steady_from_sqlite(path, "mnist_mlp", "torch"))
    assert tuple(jax_entry["relative"])[:3] == pytest.approx(tuple(ratio)[:3])  # same device: cost ratio = time ratio
    # A dearer device scales the relative cost by the price ratio.
    store = Store(path)
    suite = store.begin_suite("gpu", {})
    for repeat in range(2):
        add_run(store, suite, "mnist_mlp", "torch", repeat, jitter(0.1, repeat),
                node={"host": "g", "device": "NVIDIA H100 80GB HBM3"}, settings={"device": "gpu"})
    store.close()
    data = load(path, prices=table)
    entries, _ = cost.entries(data, "mnist_mlp")
    gpu = next(e for e in entries if e["device"] == "NVIDIA H100")
    cheapest = entries[0]
    time_ratio = stats.ratio_interval(gpu["steady"], cheapest["steady"])
    assert gpu["relative"].estimate == pytest.approx(time_ratio.estimate * 3.60 / cheapest["per_hour"])
    with pytest.raises(prices.PriceError, match="non-negative number"):
        bad = tmp_path / "bad.toml"
        bad.write_text('[prices]\ncpu = "cheap"\n')
        prices.load(bad)


def test_sections_are_a_list_and_inference_renders_only_with_results(tmp_path):
    data = load(fixture_store(tmp_path / "s.sqlite"))
    assert inference.build(data) is None
    assert inference.build in SECTIONS and cost.build in SECTIONS
    data.inference = [{"workload": "resnet50", "framework": "onnxruntime", "batch_size": b, "items_per_second": 10.0 * b,
                       "latency_p50": 0.1, "latency_p90": 0.12, "latency_p99": 0.2} for b in (1, 8, 32)]
    section = inference.build(data)
    assert section is not None and "resnet50-inference-throughput" in section.charts
    assert "| onnxruntime | 8 | 80.0 | - | 100 | 120 | 200 | - | - |" in section.markdown
    data.inference[1].update(ci_low=78.0, ci_high=82.5, ratio=1.5, ratio_low=1.25, ratio_high=1.75,
                             first_result_seconds=4.25, check_ok=True, max_relative_error=2.5e-6)
    data.charts = type(data.charts)()  # a fresh page's charts
    section = inference.build(data)
    assert "| onnxruntime | 8 | 80.0 \\[78.0, 82.5] | 1.50 \\[1.25, 1.75] | 100 | 120 | 200 | 4.25 | ok (2.5e-06) |" \
        in section.markdown


def test_svg_charts_are_reproducible(tmp_path):
    path = fixture_store(tmp_path / "s.sqlite")
    first, second = load(path), load(path)
    page.build(first)
    page.build(second)
    for name, chart in first.charts.charts.items():
        assert chart.svg == second.charts.charts[name].svg, name
        assert "<dc:date>" not in chart.svg


def test_report_without_a_store_or_runs_fails_clearly(tmp_path):
    result = dlbench("report", "--store", tmp_path / "none.sqlite", "--out", tmp_path / "o")
    assert result.returncode == 1 and "no store" in result.stderr
    fixture_store(tmp_path / "s.sqlite")
    result = dlbench("report", "--store", tmp_path / "s.sqlite", "--out", tmp_path / "o", "--no-features",
                     "--workloads", "nothing")
    assert result.returncode == 1 and "no runs match" in result.stderr


# -- compare ---------------------------------------------------------------------------------------------------------

def compare_json(*args):
    result = dlbench("compare", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compare_two_stores_says_faster_slower_and_equal(tmp_path):
    old = fixture_store(tmp_path / "old.sqlite")
    # New: torch 2x faster, jax 1.5x slower, keras-jax unchanged (equal within the margin).
    new = fixture_store(tmp_path / "new.sqlite", scale={"torch": 0.5, "jax": 1.5})
    found = compare_json(old, new)
    verdicts = {(r["workload"], r["framework"]): r for r in found["rows"]}
    assert verdicts[("mnist_mlp", "torch")]["verdict"] == "faster"
    assert verdicts[("toy_cnn", "torch")]["verdict"] == "faster"
    assert verdicts[("mnist_mlp", "jax")]["verdict"] == "slower"
    assert verdicts[("mnist_mlp", "keras-jax")]["verdict"] == "equivalent"
    torch_row = verdicts[("mnist_mlp", "torch")]
    ratio = stats.ratio_interval(steady_from_sqlite(new, "mnist_mlp", "torch"), steady_from_sqlite(old, "mnist_mlp", "torch"))
    assert torch_row["ratio"]["estimate"] == pytest.approx(ratio.estimate)
    assert torch_row["ratio"]["high"] < 1 and torch_row["text"].startswith(f"{1 / ratio.estimate:.2f}x [")
    assert found["counts"] == {"faster": 2, "slower": 2, "equivalent": 1, "tie": 0, "inconclusive": 0}
    # Failed and skipped runs are not compared (status ok by default).
    assert ("mnist_mlp", "tensorflow") not in verdicts
    text = dlbench("compare", old, new)
    assert text.returncode == 0 and "B is faster on 2, slower on 2, equal within ±5% on 1, tied on 0" in text.stdout
    # A regression gate for CI: B is decidedly 1.5x slower on jax, in both workloads.
    gate = dlbench("compare", old, new, "--fail-slower", "1.2")
    assert gate.returncode == 1 and "2 row(s) of B are slower than A by more than 1.2x" in gate.stderr
    assert dlbench("compare", old, new, "--fail-slower", "1.6").returncode == 0
    # A side that matches nothing is an error, not an empty comparison.
    empty = dlbench("compare", old, f"{new}@framework=nothing")
    assert empty.returncode == 2 and "side B" in empty.stderr and "matched no runs" in empty.stderr


def test_compare_two_filters_on_one_store(tmp_path):
    path = fixture_store(tmp_path / "s.sqlite")
    store = Store(path)
    suite = store.begin_suite("second", {})
    for repeat in range(3):
        add_run(store, suite, "mnist_mlp", "torch", repeat, jitter(3.0, repeat),
                env={"imported": {"torch": "2.14.0"}})
        add_run(store, suite, "mnist_mlp", "jax", repeat, jitter(1.0, repeat), settings={"threads": 1})
    store.close()
    found = compare_json("suite=1", "suite=2", "--store", path)
    rows = {r["framework"]: r for r in found["rows"]}
    assert set(rows) == {"torch"} and rows["torch"]["verdict"] == "slower"  # jax: threads 1 is another comparison
    assert len(found["only_b"]) == 1
    assert found["only_b"][0]["framework"] == "jax" and found["only_b"][0]["threads"] == 1
    assert "torch: A 2.13.0; B 2.14.0" in found["environment"]
    assert found["differing_settings"] == {"threads": {"a": [2], "b": [1]}}  # what --ignore could leave out
    # Two versions of one framework, and two thread settings (left out of the match because they differ).
    by_version = compare_json(f"{path}@torch=2.13", f"{path}@torch=2.14")
    assert [(r["framework"], r["verdict"]) for r in by_version["rows"]] == [("torch", "slower")]
    by_threads = compare_json("framework=jax,threads=2,workload=mnist_mlp", "framework=jax,threads=1",
                              "--store", path)
    assert "threads" in by_threads["left_out"] and by_threads["rows"][0]["verdict"] == "faster"
    # --ignore leaves a setting out of the match on request; a bad filter is an error that names the keys.
    assert "threads" not in compare_json("suite=1", "suite=2", "--store", path, "--ignore", "threads")["matched_on"]
    bad = dlbench("compare", "suite=1", "colour=blue", "--store", path)
    assert bad.returncode == 2 and "unknown filter 'colour'" in bad.stderr


def test_env_differences_in_report_source_line_is_present(written):
    root, store = written
    md = (root / "out" / "report.md").read_text()
    assert f"Store {store}" in md and "benchhost" in md and NODE["device"] in md


def test_a_busy_machine_is_detected_from_the_recorded_load():
    from dlbench.report.sections.environment import busy_at_start
    assert busy_at_start({"env": {"load_average": [5.2, 3.0, 1.0], "cpu_count": 2}}, [])
    assert not busy_at_start({"env": {"load_average": [2.1, 2.0, 1.0], "cpu_count": 2}}, [])  # the previous trial
    assert not busy_at_start({"env": {"cpu_count": 2}}, []) and not busy_at_start({"env": {}}, [])
    # Where the worker sampled other processes around every epoch, that evidence replaces the load at the start.
    assert not busy_at_start({"env": {"load_average": [5.2, 3.0, 1.0], "cpu_count": 2}}, [{"other_cpus": 0.0}])


def test_other_processes_during_timed_epochs_are_a_warning_in_the_table_and_the_report(tmp_path):
    from dlbench import summary
    store = Store(tmp_path / "s.sqlite")
    suite = store.begin_suite("t", {})
    for repeat in range(3):
        run_id = add_run(store, suite, "mnist_mlp", "torch", repeat, jitter(1.0, repeat),
                         env={"cpu_count": 2, "threads_requested": 2})
        busy = 1.4 if repeat == 1 else 0.05
        store.db.execute("UPDATE epochs SET other_cpus = ?, steal = 0.01 WHERE run_id = ? AND epoch > 2",
                         (busy, run_id))
    store.close()
    data = load(tmp_path / "s.sqlite")
    (row,) = data.rows
    assert ("the machine was busy: other processes used up to 1.4 CPUs during 3 of 12 timed epochs, competing with "
            "the trial") in row.warnings
    assert any("mnist_mlp / torch: the machine was busy" in w for w in environment.warnings(data))
    # Beside the trial's 2 threads on a 16-CPU machine the same 1.4 CPUs compete with nothing.
    assert summary.busy_epochs({"env": {"cpu_count": 16, "threads_requested": 2}}, [{"other_cpus": 1.4}]) == []



def test_what_the_runs_read_back_is_in_the_title_and_a_mismatch_is_a_warning(tmp_path):
    from rich.console import Console
    from dlbench import render
    store = Store(tmp_path / "s.sqlite")
    suite = store.begin_suite("t", {})
    for repeat in range(3):
        add_run(store, suite, "mnist_mlp", "torch", repeat, jitter(1.0, repeat),
                env={"data_placement": "device", "matmul_precision": "fp32"})
        add_run(store, suite, "mnist_mlp", "jax", repeat, jitter(2.0, repeat),
                env={"data_placement": "host", "matmul_precision": "fp32"})
    store.close()
    data = load(tmp_path / "s.sqlite")
    console = Console(width=400, record=True)
    for table in render.summary_tables(data.rows):
        console.print(table)
    text = " ".join(console.export_text().split())  # the caption wraps at the table's width
    assert "default tier, compile none, matmul fp32)" in text  # the one they share, in the title
    assert "warning: the frameworks of this table did different work: data torch device; jax host" in text
    section = next(s for s in (build(data) for build in SECTIONS) if s and s.id == "workloads")
    assert "Warning: the frameworks of this table did different work: data torch device; jax host." in section.markdown
    assert any("differ in data placement" in w for w in environment.warnings(data))
