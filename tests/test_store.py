import json
import sqlite3

import pytest

from dlbench import store as store_module
from dlbench.store import SCHEMA_VERSION, Store, StoreError
from dlbench.suite import Trial

NODE = {"host": "testhost", "device": "cpu: test"}


def trial(framework="torch", repeat=0, **settings):
    base = {"device": "cpu", "precision": "fp32", "compile": "none", "tier": "default", "batch_size": 128,
            "data": "small", "samples": None, "epochs": 3, "threads": 2, "seed": repeat}
    base.update(settings)
    return Trial("mnist_mlp", framework, base, repeat)


def epoch(n, seconds, warmup=False):
    return {"event": "epoch", "epoch": n, "warmup": warmup, "train_seconds": seconds, "eval_seconds": 0.1,
            "samples_per_second": 1000 / seconds, "loss": 1.0 / n, "accuracy": 0.5, "val_loss": 1.1 / n,
            "val_accuracy": 0.6}


def test_new_store_has_schema_version_and_wal(tmp_path):
    path = tmp_path / "sub" / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"suites", "runs", "epochs"} <= tables


def test_store_from_a_newer_dlbench_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer dlbench"):
        Store(path)


def test_foreign_sqlite_file_and_garbage_are_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a dlbench store"):
        Store(other)
    assert other.read_bytes() == before  # nothing written on a refusal (not even the journal mode)
    assert not (tmp_path / "other.sqlite-wal").exists()
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable dlbench store"):
        Store(garbage)


def test_run_lifecycle_records_events_node_and_status(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    suite_id = store.begin_suite("t", {"a": 1}, command="dlbench run")
    run_id = store.start_run(suite_id, trial(), NODE)
    assert store.runs()[0]["status"] == store_module.RUNNING
    store.apply_events(run_id, [
        {"event": "env", "time": 0, "threads": {"intra_op": 2}},
        {"event": "model", "params_total": 669706, "params_trainable": 669706},
        epoch(1, 2.0, warmup=True), epoch(2, 1.0),
        {"event": "end", "status": "ok", "error": None, "detail": None},
    ])
    (run,) = store.runs()
    assert run["status"] == "ok" and run["finished_at"]
    assert run["node_host"] == "testhost" and run["node_device"] == "cpu: test"
    assert run["env"] == {"threads": {"intra_op": 2}}
    assert run["params_total"] == 669706
    assert run["trial_key"] == trial().key
    assert run["settings"]["batch_size"] == 128
    epochs = store.epochs([run_id])[run_id]
    assert [(e["epoch"], e["warmup"], e["train_seconds"]) for e in epochs] == [(1, 1, 2.0), (2, 0, 1.0)]


def test_a_failing_batch_writes_nothing(tmp_path):
    """One transaction per batch: an invalid event rolls back the epochs written before it in the same batch."""
    store = Store(tmp_path / "s.sqlite")
    run_id = store.start_run(store.begin_suite("t", {}), trial(), NODE)
    with pytest.raises(ValueError):
        store.apply_events(run_id, [epoch(1, 1.0), {"event": "end", "status": "no-such-status"}])
    assert store.epochs([run_id])[run_id] == []
    assert store.runs()[0]["status"] == store_module.RUNNING


def test_every_protocol_event_has_one_handler_and_others_are_passed_over(tmp_path):
    """The worker's declared events (dlbench.worker.protocol) and the store's handlers are the same set; an event
    the store has no handler for (the parent's own) writes nothing and fails nothing."""
    from dlbench.worker import protocol
    assert set(store_module.EVENT_HANDLERS) == set(protocol.EVENTS) and len(protocol.EVENTS) == 11
    store = Store(tmp_path / "s.sqlite")
    run_id = store.start_run(store.begin_suite("t", {}), trial(), NODE)
    store.apply_events(run_id, [{"event": "start", "pid": 1}, {"event": "node", "host": "elsewhere"}])
    assert store.runs()[0]["status"] == store_module.RUNNING and store.runs()[0]["env"] == {}


def test_the_worker_emits_declared_events_only():
    import os
    from dlbench.worker.protocol import EventWriter
    r, w = os.pipe()
    writer = EventWriter(w)
    with pytest.raises(ValueError, match="undeclared event 'epochs'"):
        writer.emit("epochs", epoch=1)
    os.close(r)


def test_skipped_runs_and_filters(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    suite_a = store.begin_suite("a", {})
    store.record_skipped(suite_a, trial("jax"), NODE, "jax is not installed: pip install 'dlbench[jax]'")
    run_id = store.start_run(suite_a, trial("torch"), NODE)
    store.finish_run(run_id, "failed", error="RuntimeError: boom", exit_code=1)
    suite_b = store.begin_suite("b", {})
    store.start_run(suite_b, trial("torch", repeat=1), NODE)
    assert [r["status"] for r in store.runs(frameworks=["jax"])] == ["skipped"]
    assert store.runs(statuses=["failed"])[0]["error"] == "RuntimeError: boom"
    assert store.runs(statuses=["failed"])[0]["exit_code"] == 1
    assert len(store.runs(suite_id=suite_b)) == 1
    assert store.last_suite_id() == suite_b
    with pytest.raises(ValueError):
        store.finish_run(run_id, "bogus")


def test_a_version_1_store_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    # The version 1 schema: the current one without epochs.input_seconds, suites.host and suites.pid (added in v2),
    # runs.rnn_kernel, runs.rnn_evidence and the samples table (added in v3), the memory and FLOP columns (v4),
    # the inference and inference_runs tables (v5), the verify table (v6), runs.device_memory_method (v7),
    # epochs.call_seconds (v8), epochs.other_cpus and epochs.steal (v9), runs.worker_pid and worker_started (v10),
    # runs.attention_kernel and attention_evidence (v11).
    added = ("input_seconds REAL", "call_seconds REAL", "host TEXT,", "pid INTEGER,", "rnn_kernel TEXT",
             "rnn_evidence TEXT", "peak_host_bytes", "peak_device_bytes", "allocator_peak_bytes", "flops_per_sample",
             "device_memory_method", "other_cpus REAL", "steal REAL", "worker_pid", "worker_started",
             "attention_kernel", "attention_evidence")
    current = store_module.SCHEMA.split("CREATE TABLE samples")[0]
    v1 = "\n".join(line for line in current.splitlines() if not any(a in line for a in added))
    db.executescript(v1)
    db.execute("INSERT INTO suites (id, name, config, started_at) VALUES (1, 'old', '{}', 'then')")
    db.execute("INSERT INTO runs (id, suite_id, trial_key, workload, framework, repeat, settings, status, node_host, "
               "node_device, started_at) VALUES (1, 1, 'k', 'mnist_mlp', 'torch', 0, '{}', 'ok', 'h', 'cpu', 'then')")
    db.execute("INSERT INTO epochs (run_id, epoch, warmup, train_seconds) VALUES (1, 1, 1, 2.5)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    (epoch_row,) = store.epochs([1])[1]
    assert epoch_row["train_seconds"] == 2.5 and epoch_row["input_seconds"] is None and epoch_row["call_seconds"] is None
    assert epoch_row["other_cpus"] is None and epoch_row["steal"] is None
    (run,) = store.runs()
    assert run["rnn_kernel"] is None and run["rnn_evidence"] == [] and store.samples([1]) == {}
    assert run["attention_kernel"] is None and run["attention_evidence"] == []
    assert run["peak_host_bytes"] is None and run["flops_per_sample"] is None and run["device_memory_method"] is None
    assert store.inference([1]) == {}
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"inference", "inference_runs", "verify"} <= tables


def schema_before(table):
    """The schema of an older store: the tables before `table`, without the columns v7 to v11 added."""
    text = store_module.SCHEMA.split(table)[0]
    return "\n".join(line for line in text.splitlines()
                     if not any(column in line for column in ("device_memory_method", "call_seconds", "other_cpus",
                                                              "steal REAL", "worker_pid", "worker_started",
                                                              "attention_kernel", "attention_evidence")))


def test_a_version_4_store_gains_the_inference_tables(tmp_path):
    path = tmp_path / "v4.sqlite"
    db = sqlite3.connect(path)
    db.executescript(schema_before("CREATE TABLE inference"))
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 11
    run_id = store.start_run(store.begin_suite("s", {}), trial(), NODE)
    store.apply_events(run_id, [{"event": "inference", "batch_size": 1, "images": 4, "passes": 2,
                                 "pass_seconds": [0.5, 0.4], "items_per_second": 8 / 0.9}])
    assert store.inference([run_id])[run_id]["batches"][0]["pass_seconds"] == [0.5, 0.4]


def verify_row(verified_at, ok=True, **fields):
    row = dict(verified_at=verified_at, workload="mnist_mlp", framework="torch", reference="keras-jax",
               phase="forward", max_abs=1e-7, max_rel=1e-6, tolerance="rtol 0.0001, atol 1e-05", ok=ok,
               divergent=None if ok else "dense1/kernel", note=None)
    row.update(fields)
    return row


def test_a_version_5_store_gains_the_verify_table_and_keeps_the_latest_verify_per_pair(tmp_path):
    path = tmp_path / "v5.sqlite"
    db = sqlite3.connect(path)
    db.executescript(schema_before("CREATE TABLE verify"))
    db.execute("PRAGMA user_version = 5")
    db.commit()
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 11
    store.record_verify([verify_row("2026-01-01T00:00:00", ok=False, phase="update"),
                         verify_row("2026-01-01T00:00:00", framework="jax")], {"torch": {"torch": "2.13"}})
    store.record_verify([verify_row("2026-01-02T00:00:00")])  # torch again: it replaces torch's older rows
    found = store.verify_results()
    assert [(r["framework"], r["verified_at"], r["ok"]) for r in found] == [
        ("jax", "2026-01-01T00:00:00", 1), ("torch", "2026-01-02T00:00:00", 1)]
    assert json.loads(store.db.execute("SELECT versions FROM verify WHERE id = 1").fetchone()[0]) == {
        "keras-jax": None, "torch": {"torch": "2.13"}}
    assert found[1]["divergent"] is None and found[1]["tolerance"].startswith("rtol")


def test_inference_events_are_stored_per_batch_size_with_the_check(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = store.start_run(store.begin_suite("s", {}), trial(), NODE)
    other = store.start_run(store.begin_suite("s", {}), trial(repeat=1), NODE)
    store.apply_events(run_id, [
        {"event": "first_result", "runtime": "torch-compile", "compile": "torch.compile (Inductor)",
         "load_seconds": 3.0, "first_result_seconds": 40.0},
        {"event": "inference", "batch_size": 8, "images": 16, "passes": 3, "pass_seconds": [1.0, 1.1, 0.9],
         "warmup_seconds": 30.0, "first_batch_seconds": 29.0, "batches": 6, "items_per_second": 16.0,
         "seconds_per_1000": 62.5, "latency_p50": 0.5, "latency_p90": 0.55, "latency_p99": 0.6},
        {"event": "inference", "batch_size": 1, "images": 16, "passes": 3, "pass_seconds": [2.0, 2.0, 2.0],
         "items_per_second": 8.0, "latency_p50": 0.125, "latency_p90": 0.125, "latency_p99": 0.125},
        {"event": "check", "images": 2, "max_relative_error": 2.5e-6, "tolerance": 1e-4, "ok": True,
         "precision": "float32"},
        {"event": "memory", "peak_host_bytes": 2 ** 30},
        {"event": "end", "status": "ok"},
    ])
    found = store.inference([run_id, other])
    assert list(found) == [run_id]  # the run without inference results is absent
    result = found[run_id]
    assert result["runtime"] == "torch-compile" and result["first_result_seconds"] == 40.0
    assert result["check_ok"] == 1 and result["max_relative_error"] == 2.5e-6 and result["check_images"] == 2
    assert [b["batch_size"] for b in result["batches"]] == [1, 8]
    assert result["batches"][1]["pass_seconds"] == [1.0, 1.1, 0.9] and result["batches"][1]["latency_p99"] == 0.6
    assert store.runs()[0]["peak_host_bytes"] == 2 ** 30


def test_generated_text_and_rnn_kernel_are_stored_with_the_run(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = store.start_run(store.begin_suite("s", {}), trial(), NODE)
    store.apply_events(run_id, [
        epoch(1, 2.0, warmup=True),
        {"event": "sample", "text": "the will to power", "seconds": 0.5, "bigram_share": 0.98, "ok": True,
         "reason": "98% of its bigrams occur in the corpus"},
        {"event": "kernel", "rnn_kernel": "oneDNN fused RNN (CPU)", "evidence": ["aten::mkldnn_rnn_layer"]},
        {"event": "end", "status": "ok"},
    ])
    (run,) = store.runs()
    assert run["rnn_kernel"] == "oneDNN fused RNN (CPU)" and run["rnn_evidence"] == ["aten::mkldnn_rnn_layer"]
    sample = store.samples([run_id])[run_id]
    assert sample["text"] == "the will to power" and sample["ok"] == 1 and sample["bigram_share"] == 0.98


def test_memory_and_flops_are_stored_with_the_run(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = store.start_run(store.begin_suite("s", {}), trial(), NODE)
    store.apply_events(run_id, [
        {"event": "model", "params_total": 10, "params_trainable": 8, "flops_per_sample": 2.5e6},
        {"event": "memory", "peak_host_bytes": 3 * 2 ** 30, "peak_device_bytes": 2 ** 30,
         "device_method": "nvml per process", "allocator_peak_bytes": 2 ** 29},
        {"event": "end", "status": "ok"},
    ])
    (run,) = store.runs()
    assert (run["peak_host_bytes"], run["peak_device_bytes"], run["allocator_peak_bytes"]) == (
        3 * 2 ** 30, 2 ** 30, 2 ** 29)
    assert run["flops_per_sample"] == 2.5e6


def test_memory_event_keeps_how_device_memory_was_measured(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = store.start_run(store.begin_suite("s", {}), trial(), NODE)
    store.apply_events(run_id, [{"event": "memory", "peak_host_bytes": 2 ** 30, "peak_device_bytes": 3 * 2 ** 30,
                                 "device_method": "NVML per process (sampled every 0.2 s)",
                                 "allocator_peak_bytes": 2 ** 31}])
    (run,) = store.runs()
    assert (run["peak_device_bytes"], run["allocator_peak_bytes"]) == (3 * 2 ** 30, 2 ** 31)
    assert run["device_memory_method"] == "NVML per process (sampled every 0.2 s)"
