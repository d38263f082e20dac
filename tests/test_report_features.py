"""The framework feature matrix: probes give real answers for the installed frameworks (each probe a tiny real
computation in a subprocess), the documented rows say they are documented, and a hanging probe times out."""
import json
import shutil
import sys

import pytest
from conftest import require_framework
from report_helpers import PROBED_FRAMEWORKS, probed_cache

from dlbench.report import features

CORE = ("torch", "jax", "tensorflow")
PROBED = PROBED_FRAMEWORKS  # the same set as the browser test's, so the session probes once


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    for framework_id in PROBED:
        require_framework(framework_id)
    _, found = probed_cache(tmp_path_factory, PROBED)
    return {row["key"]: row for row in found["rows"]}


@pytest.mark.parametrize("framework_id", CORE)
def test_probes_give_real_answers(matrix, framework_id):
    cells = {key: row["cells"][framework_id] for key, row in matrix.items()}
    assert cells["autodiff"]["value"] == "yes" and cells["autodiff"]["source"] == "probed", cells["autodiff"]
    assert cells["jit"]["value"] == "yes", cells["jit"]
    assert cells["bf16"]["value"] == "yes", cells["bf16"]
    assert cells["gpus"]["value"] == 0  # this machine has none (a number, not a guess)
    onnx = cells["onnx"]
    # Either the exporter is installed and works, or the honest answer names the package it needs.
    assert onnx["value"] == "yes" or (onnx["value"] == "no" and onnx["detail"].startswith("needs ")), onnx
    assert cells["language"]["source"] == "documented" and cells["language"]["value"].startswith("Python")
    assert cells["keras_backend"]["source"] == "documented"
    assert cells["version"]["source"] == "installed" and framework_id.split("-")[0] in cells["version"]["value"]


def test_rows_say_how_they_are_known(matrix):
    assert {key for key, row in matrix.items() if row["source"] == "probed"} == {
        "autodiff", "jit", "bf16", "onnx", "gpus"}
    assert matrix["keras_backend"]["source"].startswith("probed for keras-*")
    assert {"language", "platforms", "interfaces", "pretrained", "multi_gpu", "multi_machine",
            "mixed_precision"} <= {key for key, row in matrix.items() if row["source"] == "documented"}


def test_the_cache_is_used_and_keyed_by_versions(tmp_path_factory, tmp_path, monkeypatch):
    cache, _ = probed_cache(tmp_path_factory, PROBED)
    copy = tmp_path / "features.json"
    shutil.copy(cache / "features.json", copy)  # the shared cache stays as it is for the browser test
    calls = []
    monkeypatch.setattr(features, "run_probe", lambda *a, **k: calls.append(a) or {})
    found = features.probe_all(["torch"], cache=copy)
    assert not calls and found["torch"]["autodiff"]["value"] == "yes"
    monkeypatch.setattr(features, "fingerprint", lambda framework: "another version")
    features.probe_all(["torch"], cache=copy)
    assert calls == [("torch",)]


def test_keras_runs_on_the_backend_it_names(matrix):
    cells = {key: row["cells"]["keras-jax"] for key, row in matrix.items()}
    assert cells["keras_backend"]["value"] == "yes" and cells["keras_backend"]["source"] == "probed"
    assert cells["autodiff"]["value"] == "yes" and cells["jit"]["value"] == "yes", cells


def test_a_probe_that_hangs_times_out(tmp_path, monkeypatch):
    # A stand-in interpreter that never answers: the parent kills it and says why, for every probed feature.
    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    fake.chmod(0o755)
    answers = features.run_probe("jax", timeout=1.0, python=str(fake))
    assert answers["_seconds"] < 30
    assert {answers[f]["value"] for f in ("autodiff", "jit", "bf16", "onnx", "gpus")} == {"unknown"}
    assert "timeout" in answers["jit"]["detail"]


def test_a_framework_that_is_not_installed_is_not_probed(monkeypatch):
    from dlbench import frameworks
    monkeypatch.setattr(frameworks.FRAMEWORKS["torch"], "missing", lambda: ["torch"])
    found = features.probe_all(["torch"], cache="/nonexistent/features.json")
    assert found["torch"]["jit"]["value"] == "unknown" and "not installed" in found["torch"]["jit"]["detail"]


def test_the_parent_process_never_imports_a_framework(tmp_path_factory, tmp_path):
    """`dlbench frameworks` and `dlbench report` in one process: the probes ran elsewhere, nothing was imported."""
    import os
    import subprocess

    from report_helpers import fixture_store
    cache, _ = probed_cache(tmp_path_factory, PROBED)
    store = fixture_store(tmp_path / "s.sqlite")
    script = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from dlbench.cli import app\n"
        "runner = CliRunner()\n"
        f"a = runner.invoke(app, ['frameworks', '--json', '--frameworks', '{','.join(PROBED)}'])\n"
        f"b = runner.invoke(app, ['report', '--store', {str(store)!r}, '--out', {str(tmp_path / 'out')!r}, "
        f"'--frameworks', '{','.join(PROBED)}'])\n"  # only cached frameworks: no probe runs here
        "print(json.dumps([a.exit_code, b.exit_code, sorted(m for m in ('torch', 'jax', 'tensorflow', 'keras', "
        "'flax') if m in sys.modules)]))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "DLBENCH_CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, 0, []]


def test_legacy_frameworks_are_documented_never_probed(tmp_path):
    probed = []
    answers = features.probe_all(["cntk", "keras2-theano"], cache=tmp_path / "features.json", on_probe=probed.append)
    assert probed == [] and answers == {"cntk": {}, "keras2-theano": {}}
    table = features.matrix(["cntk", "keras2-theano"], answers)
    for row in table[1:]:  # every row but the installed version
        for framework_id in ("cntk", "keras2-theano"):
            cell = row["cells"][framework_id]
            assert cell["source"] == "documented" and cell["value"] != "unknown", (row["key"], framework_id)
            assert cell["detail"] == "documented (as of its last releases)"


def test_torch_onnx_export_is_probed_the_way_dlbench_exports():
    """dlbench's ONNX Runtime and OpenVINO runs export from torch with the TorchScript exporter: the matrix's torch
    cell says whether that path works here, not whether torch's default (dynamo, needing onnxscript) does."""
    require_framework("torch")
    require_framework("onnxruntime")
    onnx = features.run_probe("torch")["onnx"]
    assert onnx["value"] == "yes" and onnx["detail"].startswith("dlbench's export path"), onnx
