"""The report as a user sees it: a real `dlbench run` (torch and jax, briefly) plus a failed and a skipped run,
`dlbench report`, and report.html opened in headless Chromium over the DevTools protocol.

Checks: no console errors and nothing fetched but the page itself; every framework in the store appears in the
charts; the numbers in the "who is fastest" sentences are what this test recomputes from the SQLite file with
stats.ratio_interval; failed and skipped cells say why; the feature matrix is there. The screenshot is kept in the test's
temporary folder (and copied to $DLBENCH_SCREENSHOT_DIR when that is set)."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

import pytest
from cdp import Browser, chromium_path
from conftest import IN_CI, dlbench, require_framework
from report_helpers import FAIL_REASON, add_run, probed_cache, steady_from_sqlite

from dlbench import stats
from dlbench.store import Store

FAST = r"(?P<faster>[\w-]+) is (?P<ratio>\d+\.\d\d)x \[(?P<low>\d+\.\d\d), (?P<high>\d+\.\d\d)\] faster than " \
       r"(?P<slower>[\w-]+) on (?P<workload>\w+)\."
SAME = r"(?P<faster>[\w-]+) and (?P<slower>[\w-]+) are (tied|equal within ±5%) on (?P<workload>\w+): [\w-]+ is " \
       r"(?P<ratio>\d+\.\d\d)x \[(?P<low>\d+\.\d\d), (?P<high>\d+\.\d\d)\] faster, an interval (that contains 1|inside " \
       r"the margin)\."
NO_VERDICT = r"(?P<faster>[\w-]+) looks (?P<ratio>\d+\.\d\d)x.* faster than (?P<slower>[\w-]+) on (?P<workload>\w+), " \
             r"but there is no verdict"

KERAS_JAX_SKIPPED = "keras-jax is not installed (missing keras): pip install 'dlbench[keras,jax]'"

PAGE_FACTS = """JSON.stringify({
  charts: [...document.querySelectorAll('figure.chart')].map(f => ({
    name: f.dataset.chart,
    texts: [...f.querySelectorAll('svg text')].map(t => t.textContent.trim()),
    width: f.querySelector('svg').getBoundingClientRect().width,
    hidden: !!f.closest('details:not([open])')})),
  claims: [...document.querySelectorAll('li.claim')].map(li => ({kind: li.dataset.kind, text: li.innerText})),
  cells: [...document.querySelectorAll('table.matrix td[data-framework]')].map(td => ({
    framework: td.dataset.framework, status: td.dataset.status, text: td.innerText})),
  features: [...document.querySelectorAll('table.features td[data-feature]')].map(td => ({
    feature: td.dataset.feature, framework: td.dataset.framework, value: td.dataset.value})),
  resources: performance.getEntriesByType('resource').map(r => r.name),
  scripts: document.scripts.length,
  title: document.title,
  firstScreen: document.body.innerText.slice(0, 600),
})"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if chromium_path() is None:
        if IN_CI:
            pytest.fail("chromium is not installed and CI=true: .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    for framework_id in ("torch", "jax"):
        require_framework(framework_id)
    root = tmp_path_factory.mktemp("browser")
    store_path = root / "s.sqlite"
    run = dlbench("run", "--workloads", "mnist_mlp", "--frameworks", "torch,jax", "--data", "small", "--samples",
                  "1000", "--epochs", "3", "--repeats", "3", "--threads", "1", "--store", store_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    # A failed and a skipped run in the same comparison (same settings), as the executor records them.
    store = Store(store_path)
    settings = store.runs()[0]["settings"]
    suite = store.begin_suite("extra", {})
    node = {"host": store.runs()[0]["node_host"], "device": store.runs()[0]["node_device"]}
    add_run(store, suite, "mnist_mlp", "tensorflow", 0, [3.0, 1.0], status="failed", error=FAIL_REASON,
            settings=settings, node=node)
    add_run(store, suite, "mnist_mlp", "keras-jax", 0, [], status="skipped", error=KERAS_JAX_SKIPPED,
            settings=settings, node=node)
    store.close()
    cache, _ = probed_cache(tmp_path_factory)  # the probes run once per test run
    env_cache = {**os.environ, "DLBENCH_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-m", "dlbench.cli", "report", "--store", str(store_path), "--out",
                             str(root / "out")], capture_output=True, text=True, env=env_cache, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "probing" not in result.stderr  # everything came from the cache

    (root / "profile").mkdir()
    browser = Browser(root / "profile", width=1280, height=900)
    try:
        browser.open((root / "out" / "report.html").as_uri())
        facts = json.loads(browser.evaluate(PAGE_FACTS))
        browser.screenshot(root / "first-screen.png")
        browser.screenshot(root / "full-page.png", full_page=True)
        errors, requests = browser.console_errors(), browser.requests()
    finally:
        browser.close()
    if os.environ.get("DLBENCH_SCREENSHOT_DIR"):
        for name in ("first-screen.png", "full-page.png"):
            shutil.copy(root / name, os.path.join(os.environ["DLBENCH_SCREENSHOT_DIR"], name))
    return {"root": root, "store": store_path, "facts": facts, "errors": errors, "requests": requests}


def store_frameworks(path):
    db = sqlite3.connect(path)
    found = {row[0] for row in db.execute("SELECT DISTINCT framework FROM runs")}
    db.close()
    return found


def test_no_console_errors_and_nothing_fetched(report):
    assert report["errors"] == []
    page = (report["root"] / "out" / "report.html").as_uri()
    assert report["requests"] == [page]
    assert report["facts"]["resources"] == [] and report["facts"]["scripts"] == 0
    assert report["facts"]["title"] == "dlbench report"


def test_every_framework_in_the_store_appears_in_the_charts(report):
    charts = {c["name"]: c for c in report["facts"]["charts"]}
    frameworks = store_frameworks(report["store"])
    assert frameworks == {"torch", "jax", "tensorflow", "keras-jax"}
    # The epoch-time chart names every framework of the workload, with a bar or the reason there is none.
    bars = charts["mnist_mlp-epoch-time"]["texts"]
    assert frameworks <= set(bars)
    assert "no result: 1 failed" in bars and "no result: 1 skipped" in bars
    # The learning curves have a line (a legend entry) for each framework that finished.
    assert {"torch", "jax"} <= set(charts["mnist_mlp-accuracy-per-epoch"]["texts"])
    assert frameworks <= set(charts["matrix"]["texts"])
    for chart in charts.values():
        assert chart["hidden"] or chart["width"] > 300, chart["name"]  # drawn, at a readable size


def test_fastest_sentences_match_the_store(report):
    path = report["store"]
    claims = report["facts"]["claims"]
    compared = [c for c in claims if c["kind"] != "no_result"]
    assert len(compared) == 1  # torch against jax: the only two with results
    means = {f: stats.mean_interval(steady_from_sqlite(path, "mnist_mlp", f)).estimate for f in ("torch", "jax")}
    for claim in compared:
        pattern = {"faster": FAST, "tie": SAME, "equivalent": SAME, "inconclusive": NO_VERDICT}[claim["kind"]]
        found = re.fullmatch(pattern, claim["text"].strip()) if claim["kind"] != "inconclusive" else \
            re.match(pattern, claim["text"].strip())
        assert found, claim["text"]
        faster, slower = found["faster"], found["slower"]
        assert means[faster] <= means[slower]
        ratio = stats.ratio_interval(steady_from_sqlite(path, "mnist_mlp", slower),
                                     steady_from_sqlite(path, "mnist_mlp", faster))
        assert found["ratio"] == f"{ratio.estimate:.2f}"
        if claim["kind"] != "inconclusive":
            assert (found["low"], found["high"]) == (f"{ratio.low:.2f}", f"{ratio.high:.2f}")
        assert claim["kind"] == {"slower": "faster"}.get(stats.verdict(ratio), stats.verdict(ratio))
    no_result = {c["text"].split(" ")[0]: c["text"] for c in claims if c["kind"] == "no_result"}
    assert FAIL_REASON in no_result["tensorflow"] and KERAS_JAX_SKIPPED in no_result["keras-jax"]


def test_failed_and_skipped_cells_say_why(report):
    cells = {c["framework"]: c for c in report["facts"]["cells"]}
    assert cells["tensorflow"]["status"] == "failed" and FAIL_REASON in cells["tensorflow"]["text"]
    assert cells["keras-jax"]["status"] == "skipped" and "is not installed" in cells["keras-jax"]["text"]
    assert cells["torch"]["status"] == cells["jax"]["status"] == "ok"
    assert "1.00 (fastest)" in (cells["torch"]["text"] + cells["jax"]["text"])


def test_feature_matrix_is_in_the_page(report):
    found = {(f["feature"], f["framework"]): f["value"] for f in report["facts"]["features"]}
    for framework_id in ("torch", "jax", "tensorflow"):
        assert found[("autodiff", framework_id)] == "yes" and found[("jit", framework_id)] == "yes"
    assert found[("keras_backend", "keras-jax")] == "yes"


def test_first_screen(report):
    text = report["facts"]["firstScreen"]
    assert text.startswith("dlbench report")
    assert "runs (6 ok, 1 failed, 1 skipped)" in text and "Who is fastest where" in text
    shot = (report["root"] / "first-screen.png").read_bytes()
    assert shot.startswith(b"\x89PNG") and len(shot) > 20000
