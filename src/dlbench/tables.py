"""The store as the tidy tables people load (docs/export.md): one typed pyarrow schema per table, declared here once,
and the rows of a store's runs in them. `dlbench export` writes these tables as Parquet or CSV, and `dlbench.load`
gives them as pandas DataFrames.

LAYOUT_VERSION numbers the tables' layout: it is written into every file's metadata and the export's manifest, and
goes up whenever a column is removed, renamed or changes meaning or type (adding a column keeps it).
"""
from __future__ import annotations

import datetime
import json

import pyarrow as pa

from dlbench import workloads

LAYOUT_VERSION = 1

_TIME = pa.timestamp("ms", tz="UTC")
_ID = [("run_id", pa.int64()), ("workload", pa.string()), ("framework", pa.string()), ("repeat", pa.int64())]


def _schema(name, fields):
    return pa.schema(fields, metadata={"dlbench.table": name, "dlbench.layout_version": str(LAYOUT_VERSION)})


# A run's settings as the suite planned them (suite.plan); absent from a run: null (tf32, cudnn_autotune and layout
# are absent where the suite left them at the frameworks' defaults).
SETTINGS = [("device", pa.string()), ("data", pa.string()), ("samples", pa.int64()), ("batch_size", pa.int64()),
            ("epochs", pa.int64()), ("threads", pa.int64()), ("precision", pa.string()), ("compile", pa.string()),
            ("tier", pa.string()), ("tf32", pa.bool_()), ("cudnn_autotune", pa.bool_()), ("layout", pa.string()),
            ("seed", pa.int64()), ("target", pa.float64()), ("adaptive", pa.bool_())]

SCHEMAS = {
    "suites": _schema("suites", [
        ("suite_id", pa.int64()), ("name", pa.string()), ("command", pa.string()),
        ("dlbench_version", pa.string()), ("git_revision", pa.string()), ("host", pa.string()),
        ("started_at", _TIME), ("finished_at", _TIME)]),
    "runs": _schema("runs", [
        ("run_id", pa.int64()), ("suite_id", pa.int64()), ("kind", pa.string()), ("workload", pa.string()),
        ("framework", pa.string()), ("repeat", pa.int64()), ("status", pa.string()), ("error", pa.string()),
        ("detail", pa.string()), ("exit_code", pa.int64()), ("started_at", _TIME), ("finished_at", _TIME),
        *SETTINGS,
        ("node_host", pa.string()), ("node_device", pa.string()), ("params_total", pa.int64()),
        ("params_trainable", pa.int64()), ("flops_per_sample", pa.float64()), ("rnn_kernel", pa.string()),
        ("attention_kernel", pa.string()), ("peak_host_bytes", pa.int64()), ("peak_device_bytes", pa.int64()), ("device_memory_method", pa.string()),
        ("allocator_peak_bytes", pa.int64()),
        # inference runs: what ran, the time to first result and the feature check
        ("runtime", pa.string()), ("runtime_compile", pa.string()), ("load_seconds", pa.float64()),
        ("first_result_seconds", pa.float64()), ("check_images", pa.int64()),
        ("check_max_relative_error", pa.float64()), ("check_tolerance", pa.float64()), ("check_ok", pa.bool_()),
        ("check_precision", pa.string())]),
    "epochs": _schema("epochs", _ID + [
        ("epoch", pa.int64()), ("warmup", pa.bool_()), ("train_seconds", pa.float64()),
        ("input_seconds", pa.float64()), ("call_seconds", pa.float64()), ("eval_seconds", pa.float64()),
        ("samples_per_second", pa.float64()), ("loss", pa.float64()), ("accuracy", pa.float64()),
        ("val_loss", pa.float64()), ("val_accuracy", pa.float64()), ("other_cpus", pa.float64()),
        ("steal", pa.float64())]),
    "inference": _schema("inference", _ID + [
        ("batch_size", pa.int64()), ("images", pa.int64()), ("passes", pa.int64()), ("batches", pa.int64()),
        ("items_per_second", pa.float64()), ("seconds_per_1000", pa.float64()), ("warmup_seconds", pa.float64()),
        ("first_batch_seconds", pa.float64()), ("latency_p50", pa.float64()), ("latency_p90", pa.float64()),
        ("latency_p99", pa.float64()), ("other_cpus", pa.float64()), ("steal", pa.float64())]),
    "inference_passes": _schema("inference_passes", _ID + [
        ("batch_size", pa.int64()), ("pass", pa.int64()), ("seconds", pa.float64()),
        ("items_per_second", pa.float64())]),
    "texts": _schema("texts", _ID + [
        ("text", pa.string()), ("seconds", pa.float64()), ("bigram_share", pa.float64()), ("ok", pa.bool_()),
        ("reason", pa.string())]),
    "verify": _schema("verify", [
        ("verify_id", pa.int64()), ("verified_at", _TIME), ("workload", pa.string()), ("framework", pa.string()),
        ("reference", pa.string()), ("phase", pa.string()), ("max_abs", pa.float64()), ("max_rel", pa.float64()),
        ("tolerance", pa.string()), ("ok", pa.bool_()), ("divergent", pa.string()), ("note", pa.string()),
        ("framework_versions", pa.string()), ("reference_versions", pa.string())]),
    "environment": _schema("environment", [("run_id", pa.int64()), ("key", pa.string()), ("value", pa.string())]),
    "versions": _schema("versions", [("run_id", pa.int64()), ("framework", pa.string()), ("package", pa.string()),
                                     ("version", pa.string())]),
}
TABLES = tuple(SCHEMAS)


def _time(text):
    return datetime.datetime.fromisoformat(text) if text else None


def _bool(value):
    return None if value is None else bool(value)


def _identity(run):
    return {"run_id": run["id"], "workload": run["workload"], "framework": run["framework"], "repeat": run["repeat"]}


def _flatten(value, prefix=""):
    """{"a": {"b": 1}, "c": [0, 1]} -> [("a.b", "1"), ("c", "[0, 1]")]: every leaf as text (JSON for lists)."""
    if isinstance(value, dict):
        return [pair for key in sorted(value) for pair in _flatten(value[key], f"{prefix}{key}.")]
    if value is None:
        return [(prefix[:-1], None)]
    text = value if isinstance(value, str) else json.dumps(value)
    return [(prefix[:-1], text)]


def _versions_text(versions):
    return ", ".join(f"{k} {v}" for k, v in sorted((versions or {}).items())) if isinstance(versions, dict) \
        else (None if versions is None else str(versions))


def records(store, runs, verify=()):
    """{table name: list of row dicts} for these runs (Store.runs rows) and verify rows (Store.verify_results)."""
    ids = [run["id"] for run in runs]
    epochs, inference, texts = store.epochs(ids), store.inference(ids), store.samples(ids)
    suites = store.suites(run["suite_id"] for run in runs)
    out = {name: [] for name in SCHEMAS}
    out["suites"] = [{**s, "suite_id": s["id"], "started_at": _time(s["started_at"]),
                      "finished_at": _time(s["finished_at"])} for s in suites]
    for run in runs:
        ident = _identity(run)
        settings = run["settings"]
        served = inference.get(run["id"], {})
        out["runs"].append({
            **{k: run[k] for k in ("suite_id", "workload", "framework", "repeat", "status", "error", "detail",
                                   "exit_code", "node_host", "node_device", "params_total", "params_trainable",
                                   "flops_per_sample", "rnn_kernel", "peak_host_bytes", "peak_device_bytes",
                                   "device_memory_method", "allocator_peak_bytes")},
            **{name: settings.get(name) for name, _ in SETTINGS},
            "run_id": run["id"], "kind": "inference" if workloads.is_inference(run["workload"]) else "training",
            "started_at": _time(run["started_at"]), "finished_at": _time(run["finished_at"]),
            "runtime": served.get("runtime"), "runtime_compile": served.get("compile"),
            "load_seconds": served.get("load_seconds"), "first_result_seconds": served.get("first_result_seconds"),
            "check_images": served.get("check_images"), "check_max_relative_error": served.get("max_relative_error"),
            "check_tolerance": served.get("tolerance"), "check_ok": _bool(served.get("check_ok")),
            "check_precision": served.get("check_precision")})
        for epoch in epochs.get(run["id"], []):
            out["epochs"].append({**epoch, **ident, "warmup": bool(epoch["warmup"])})
        for batch in served.get("batches", []):
            out["inference"].append({**batch, **ident})
            for number, seconds in enumerate(batch["pass_seconds"], 1):
                out["inference_passes"].append({**ident, "batch_size": batch["batch_size"], "pass": number,
                                                "seconds": seconds,
                                                "items_per_second": batch["images"] / seconds if seconds else None})
        if run["id"] in texts:
            text = texts[run["id"]]
            out["texts"].append({**text, **ident, "ok": bool(text["ok"])})
        env = {k: v for k, v in run["env"].items() if k != "imported"}
        out["environment"] += [{"run_id": run["id"], "key": k, "value": v} for k, v in _flatten(env)]
        out["versions"] += [{"run_id": run["id"], "framework": run["framework"], "package": package,
                             "version": str(version)}
                            for package, version in sorted((run["env"].get("imported") or {}).items())]
    for row in verify:
        versions = json.loads(row["versions"]) if row.get("versions") else {}
        out["verify"].append({**row, "verify_id": row["id"], "verified_at": _time(row["verified_at"]),
                              "ok": bool(row["ok"]), "framework_versions": _versions_text(versions.get(row["framework"])),
                              "reference_versions": _versions_text(versions.get(row["reference"]))})
    return out


def build(store, runs, verify=()):
    """{table name: pyarrow.Table in its schema}."""
    return {name: pa.Table.from_pylist(rows, schema=SCHEMAS[name])
            for name, rows in records(store, runs, verify).items()}
