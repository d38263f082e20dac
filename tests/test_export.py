"""dlbench export and dlbench.load on real stores made by real runs (tests/conftest.py: torch training, torch and
ONNX Runtime inference): every table in its declared schema, in Parquet and in CSV, read back with pyarrow and
pandas; every measured column filled; the values those of the SQLite file; the layout documented and versioned."""
import json
import re
import sqlite3

import pandas as pd
import pyarrow.parquet
import pytest
from conftest import ROOT, copy_store, dlbench

import dlbench as dlbench_module
from dlbench import export, tables
from dlbench import suite as suites
from dlbench.store import Store

# Measured columns that may be empty on these stores, and why: call_seconds is Keras fit's setup before its first
# epoch (torch has none); other_cpus and steal are sampled where /proc says; the others belong to GPUs, RNNs,
# attention or the other kind of run.
MAY_BE_EMPTY = {
    "epochs": {"call_seconds"},
    "runs": {"error", "detail", "tf32", "cudnn_autotune", "layout", "adaptive", "rnn_kernel", "attention_kernel",
             "peak_device_bytes", "device_memory_method", "allocator_peak_bytes"},
}
TRAINING_ONLY = {"flops_per_sample", "target"}
INFERENCE_ONLY = {"runtime", "runtime_compile", "load_seconds", "first_result_seconds", "check_images",
                  "check_max_relative_error", "check_tolerance", "check_ok", "check_precision"}


def exported(store_path, folder, fmt):
    result = dlbench("export", "--format", fmt, "--store", store_path, "--out", folder)
    assert result.returncode == 0, result.stderr
    return export.read(folder)


def assert_filled(name, table, also_empty=()):
    empty = [c for c in table.column_names if table.column(c).null_count == table.num_rows]
    assert table.num_rows and not set(empty) - MAY_BE_EMPTY.get(name, set()) - set(also_empty), (name, empty)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_training_store_exports_typed_tables_with_every_measurement(training_store, tmp_path, fmt):
    read = exported(training_store, tmp_path / "out", fmt)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["layout_version"] == tables.LAYOUT_VERSION and set(manifest["tables"]) == set(tables.TABLES)
    for name, table in read.items():
        assert table.schema.equals(tables.SCHEMAS[name]), name  # the declared types, after the round trip
        assert (tmp_path / "out" / f"{name}.{fmt}").exists()
    if fmt == "parquet":  # the layout version travels in each file too
        meta = pyarrow.parquet.read_schema(tmp_path / "out" / "epochs.parquet").metadata
        assert meta[b"dlbench.layout_version"] == str(tables.LAYOUT_VERSION).encode()
    assert_filled("epochs", read["epochs"])
    assert_filled("runs", read["runs"], INFERENCE_ONLY)
    assert read["inference"].num_rows == 0 and read["suites"].num_rows == 1

    # The values are the store's: one tidy row per epoch, warm-up a boolean.
    with sqlite3.connect(training_store) as db:
        stored = db.execute("SELECT run_id, epoch, warmup, train_seconds, val_accuracy FROM epochs "
                            "ORDER BY run_id, epoch").fetchall()
        settings = [json.loads(s) for (s,) in db.execute("SELECT settings FROM runs ORDER BY id")]
    epochs = read["epochs"].to_pylist()
    assert [(e["run_id"], e["epoch"], int(e["warmup"]), e["train_seconds"], e["val_accuracy"]) for e in epochs] \
        == stored
    assert all(isinstance(e["warmup"], bool) for e in epochs)
    runs = read["runs"].to_pylist()
    assert [(r["data"], r["samples"], r["threads"], r["kind"]) for r in runs] == \
        [(s["data"], s["samples"], s["threads"], "training") for s in settings]
    assert all(r["status"] == "ok" and r["finished_at"] > r["started_at"] and r["peak_host_bytes"] > 0 for r in runs)
    versions = read["versions"].to_pylist()
    assert {(v["run_id"], v["package"]) for v in versions} == {(r["run_id"], "torch") for r in runs}
    environment = {(e["run_id"], e["key"]): e["value"] for e in read["environment"].to_pylist()}
    assert environment[runs[0]["run_id"], "threads.intra_op"] == "1"


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_inference_store_exports_every_measurement(inference_store, tmp_path, fmt):
    read = exported(inference_store, tmp_path / "out", fmt)
    for name in ("inference", "inference_passes"):
        assert_filled(name, read[name])
    assert_filled("runs", read["runs"], TRAINING_ONLY)
    assert read["epochs"].num_rows == 0
    runs = read["runs"].to_pylist()
    assert {r["framework"] for r in runs} == {"torch", "onnxruntime"} and all(r["kind"] == "inference" for r in runs)
    assert all(r["check_ok"] is True and r["first_result_seconds"] > 0 for r in runs)
    with sqlite3.connect(inference_store) as db:
        stored = {(run_id, size): (json.loads(seconds), ips) for run_id, size, seconds, ips in
                  db.execute("SELECT run_id, batch_size, pass_seconds, items_per_second FROM inference")}
    rows = read["inference"].to_pylist()
    assert {(r["run_id"], r["batch_size"]): r["items_per_second"] for r in rows} == \
        {key: ips for key, (_, ips) in stored.items()}
    passes = read["inference_passes"].to_pylist()
    assert sorted((p["run_id"], p["batch_size"], p["pass"], p["seconds"]) for p in passes) == sorted(
        (run_id, size, i + 1, s) for (run_id, size), (seconds, _) in stored.items() for i, s in enumerate(seconds))


def test_failures_settings_and_verify_results_are_exported(training_store, tmp_path):
    path = copy_store(training_store, tmp_path)
    store = Store(path)
    first = store.runs()[0]["id"]
    store.finish_run(first, "failed", "RuntimeError: out of patience", "Traceback ...", exit_code=3)
    store.db.execute("UPDATE runs SET settings = json_set(settings, '$.tf32', json('false'), '$.layout', "
                     "'channels_last', '$.cudnn_autotune', json('true')) WHERE id = ?", (first,))
    store.record_verify([{"verified_at": "2026-01-02T03:04:05", "workload": "mnist_mlp", "framework": "jax",
                          "reference": "torch", "phase": "forward", "max_abs": 1e-7, "max_rel": 2e-7,
                          "tolerance": "rtol 1e-05", "ok": True, "divergent": None, "note": None}],
                        {"torch": {"torch": "2.13.0"}, "jax": {"jax": "0.10.2"}})
    store.close()
    read = exported(path, tmp_path / "out", "csv")
    run = next(r for r in read["runs"].to_pylist() if r["run_id"] == first)
    assert (run["status"], run["error"], run["exit_code"]) == ("failed", "RuntimeError: out of patience", 3)
    assert (run["tf32"], run["layout"], run["cudnn_autotune"]) == (False, "channels_last", True)
    verify = read["verify"].to_pylist()
    assert len(verify) == 1 and verify[0]["ok"] is True and verify[0]["reference_versions"] == "torch 2.13.0"
    assert verify[0]["verified_at"].year == 2026


def test_every_setting_a_suite_plans_is_a_runs_column():
    planned = suites.plan(suites.build({}, {"workloads": ["mnist_mlp"], "frameworks": ["torch"], "repeats": 1,
                                             "tf32": False, "cudnn_autotune": True, "layout": "channels_last",
                                             "budget": 60.0}))
    inference = suites.plan(suites.build({}, {"workloads": ["resnet50_features"], "frameworks": ["torch"],
                                              "repeats": 1, "device": "cpu"}))
    keys = {k for trial in planned + inference for k in trial.settings}
    # batch_sizes: the inference table has one row per batch size that ran
    assert keys - {"batch_sizes"} <= set(tables.SCHEMAS["runs"].names)


def test_load_gives_pandas_frames_from_a_store_or_an_export(training_store, inference_store, tmp_path):
    results = dlbench_module.load(training_store)
    assert results.layout_version == tables.LAYOUT_VERSION
    assert set(results.tables) == set(tables.TABLES)
    assert str(results.epochs["warmup"].dtype) == "boolean" and str(results.epochs["epoch"].dtype) == "Int64"
    assert str(results.runs["tf32"].dtype) == "boolean" and str(results.runs["samples"].dtype) == "Int64"
    assert str(results.runs["started_at"].dtype) == "datetime64[ms, UTC]"
    assert results.epochs["train_seconds"].notna().all()
    steady = results.epochs[~results.epochs["warmup"]].merge(results.runs[["run_id", "device"]], on="run_id")
    assert len(steady) == 2 and (steady["device"] == "cpu").all()
    served = dlbench_module.load(inference_store)
    assert (served.inference["items_per_second"] > 0).all() and served.inference["latency_p50"].notna().all()
    # An export folder loads to the same frames as its store.
    exported(inference_store, tmp_path / "csv", "csv")
    again = dlbench_module.load(tmp_path / "csv")
    for name in ("runs", "inference", "inference_passes", "versions"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(served, name), check_exact=False, rtol=1e-12)
    with pytest.raises(FileNotFoundError):
        dlbench_module.load(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_results_json_has_a_schema_version_and_one_settings_object(training_store, inference_store):
    rows = []
    for path in (training_store, inference_store):
        result = dlbench("results", "--store", path, "--json")
        assert result.returncode == 0, result.stderr
        rows += json.loads(result.stdout)
    assert {row["kind"] for row in rows} == {"training", "inference"}
    for row in rows:
        assert row["schema_version"] == 2 and "compile" not in row
        assert {"device", "precision", "threads", "compile"} <= set(row["settings"])


def test_the_layout_is_documented_column_by_column():
    doc = (ROOT / "docs" / "export.md").read_text()
    assert f"Layout version: {tables.LAYOUT_VERSION}" in doc
    for name, schema in tables.SCHEMAS.items():
        section = re.search(rf"^### {name}\n(.*?)(?=^### |\Z)", doc, re.S | re.M)
        assert section, f"docs/export.md has no section for {name}"
        for field in schema:
            assert re.search(rf"^\| `{field.name}` \| {re.escape(str(field.type))} \|", section.group(1), re.M), \
                (name, field.name)
