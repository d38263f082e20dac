"""The results store: one SQLite file (default results/dlbench.sqlite), written only by the parent process.

WAL mode and a busy timeout let several dlbench processes share a store; every batch of events is one transaction,
so a crash at any moment leaves every finished trial intact. The schema version lives in PRAGMA user_version:
a store from an older dlbench is migrated, one from a newer dlbench is refused.
"""
from __future__ import annotations

import datetime
import json
import os
import socket
import sqlite3

from dlbench import paths, processes
from dlbench.worker import protocol
from dlbench.worker.protocol import STATUSES

SCHEMA_VERSION = 11
RUNNING = "running"  # the state of a trial in flight; every trial ends in one of STATUSES

# Inference workloads (schema v5): one row per run and batch size, and one per run for what is measured once.
INFERENCE_TABLE = """
CREATE TABLE inference (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    batch_size INTEGER NOT NULL,
    images INTEGER NOT NULL,          -- images per pass
    passes INTEGER NOT NULL,          -- timed passes, after one untimed warm-up pass
    pass_seconds TEXT NOT NULL,       -- JSON list: the seconds of each timed pass (the CI's unit)
    warmup_seconds REAL,              -- the warm-up pass (a new batch shape compiles here)
    first_batch_seconds REAL,         -- the warm-up pass's first batch
    batches INTEGER,                  -- timed batches in all (the latency percentiles' sample)
    items_per_second REAL,            -- images over every timed pass / their seconds
    seconds_per_1000 REAL,
    latency_p50 REAL,                 -- per-batch latency percentiles over the timed passes (seconds)
    latency_p90 REAL,
    latency_p99 REAL,
    other_cpus REAL,                  -- CPUs other processes kept busy during the timed passes, on average
    steal REAL,                       -- the share of CPU time the hypervisor stole meanwhile
    PRIMARY KEY (run_id, batch_size)
)"""
INFERENCE_RUNS_TABLE = """
CREATE TABLE inference_runs (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    runtime TEXT,                     -- what ran: torch, torch-compile, tensorflow-xla, ...
    compile TEXT,                     -- what actually ran, in words
    load_seconds REAL,                -- weights loaded, model built (and exported, for ONNX Runtime / OpenVINO)
    first_result_seconds REAL,        -- load + compile + the first batch: time to first result
    check_images INTEGER,             -- the feature check: its images,
    max_relative_error REAL,          -- max |features - reference| / max |reference| (NumPy float64 reference)
    tolerance REAL,
    check_ok INTEGER,                 -- 1: within the tolerance
    check_precision TEXT              -- the precision the check ran in (TF32 off on a GPU)
)"""
# The inference table as schema v5 made it: v9 added the noise columns.
INFERENCE_TABLE_V5 = "\n".join(line for line in INFERENCE_TABLE.splitlines()
                               if not line.lstrip().startswith(("other_cpus", "steal")))
# dlbench verify (schema v6): one row per pair of frameworks, workload and phase; the rows of one invocation share
# verified_at. reference is the pair's earlier framework, the one compared against.
VERIFY_TABLE = """
CREATE TABLE verify (
    id INTEGER PRIMARY KEY,
    verified_at TEXT NOT NULL,        -- the invocation (UTC), shared by its rows
    workload TEXT NOT NULL,
    framework TEXT NOT NULL,
    reference TEXT NOT NULL,
    phase TEXT NOT NULL,              -- forward (inference outputs), loss, update (one optimizer step), run (a failure)
    max_abs REAL,
    max_rel REAL,
    tolerance TEXT,                   -- in words, e.g. "rtol 0.0001, atol 1e-05"
    ok INTEGER NOT NULL,
    divergent TEXT,                   -- the first tensor (canonical weight name, "output", "loss") out of tolerance
    note TEXT,                        -- why a pair cannot match exactly, or why it failed to run
    versions TEXT                     -- JSON: the two frameworks' package versions
)"""

SCHEMA = f"""
CREATE TABLE suites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    config TEXT NOT NULL,             -- the resolved suite, JSON
    command TEXT,
    dlbench_version TEXT,
    git_revision TEXT,
    host TEXT,                        -- where the dlbench process that ran the suite lives
    pid INTEGER,                      -- its process id: a trial left 'running' by a dead process was abandoned
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    suite_id INTEGER NOT NULL REFERENCES suites(id),
    trial_key TEXT NOT NULL,          -- workload, framework, settings and repeat as canonical JSON
    workload TEXT NOT NULL,
    framework TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    settings TEXT NOT NULL,           -- JSON: device, precision, compile, tier, batch_size, data, samples, ...
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in (RUNNING,) + STATUSES)})),
    error TEXT,                       -- one line: why a trial did not end ok
    detail TEXT,                      -- traceback or the tail of the worker's stderr
    exit_code INTEGER,
    node_host TEXT NOT NULL,
    node_device TEXT NOT NULL,
    env TEXT,                         -- JSON: what the worker read back from its framework and machine
    params_total INTEGER,
    params_trainable INTEGER,
    rnn_kernel TEXT,                  -- the recurrent kernel the framework ran, read from its ops (NULL: no RNN)
    rnn_evidence TEXT,                -- JSON: the op names that show it
    attention_kernel TEXT,            -- the attention kernel it ran, read from its ops (NULL: no attention)
    attention_evidence TEXT,          -- JSON: the op names that show it
    peak_host_bytes INTEGER,          -- the worker's peak resident memory (VmHWM)
    peak_device_bytes INTEGER,        -- the worker's peak GPU memory as NVML sees it (NULL: no GPU)
    device_memory_method TEXT,        -- how peak_device_bytes was measured (NVML per process, or why not)
    allocator_peak_bytes INTEGER,     -- the framework allocator's own peak on the device (NULL: none or CPU)
    flops_per_sample REAL,            -- floating-point operations of one training sample, forward and backward
    worker_pid INTEGER,               -- the local worker process (and its process group), and when it started
    worker_started INTEGER,           -- (ticks since boot): the sweep of abandoned trials ends that one only
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX runs_by_key ON runs (trial_key);
CREATE INDEX runs_by_workload ON runs (workload, framework);
CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    epoch INTEGER NOT NULL,
    warmup INTEGER NOT NULL,          -- 1: kept out of the steady-state statistics (compilation, autotuning)
    train_seconds REAL NOT NULL,
    input_seconds REAL,               -- the part of train_seconds in dlbench's input pipeline (NULL: the framework's)
    call_seconds REAL,                -- Keras fit's setup before its first epoch (inside that warm-up epoch)
    eval_seconds REAL,
    samples_per_second REAL,
    loss REAL,
    accuracy REAL,
    val_loss REAL,
    val_accuracy REAL,
    other_cpus REAL,                  -- CPUs other processes kept busy during the epoch's training, on average
    steal REAL,                       -- the share of CPU time the hypervisor stole meanwhile
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE samples (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    text TEXT NOT NULL,               -- text generated after training
    seconds REAL,
    bigram_share REAL,                -- the share of its character bigrams that occur in the corpus
    ok INTEGER NOT NULL,              -- 0: the text does not look like the corpus (a broken model)
    reason TEXT
);
""" + """;
""".join([INFERENCE_TABLE, INFERENCE_RUNS_TABLE, VERIFY_TABLE]) + ";\n"

# MIGRATIONS[v] brings a store from schema v to v + 1. Each runs in the same transaction as the version bump.
MIGRATIONS = {
    1: ["ALTER TABLE epochs ADD COLUMN input_seconds REAL", "ALTER TABLE suites ADD COLUMN host TEXT",
        "ALTER TABLE suites ADD COLUMN pid INTEGER"],
    2: ["ALTER TABLE runs ADD COLUMN rnn_kernel TEXT", "ALTER TABLE runs ADD COLUMN rnn_evidence TEXT",
        "CREATE TABLE samples (run_id INTEGER PRIMARY KEY REFERENCES runs(id), text TEXT NOT NULL, seconds REAL, "
        "bigram_share REAL, ok INTEGER NOT NULL, reason TEXT)"],
    3: ["ALTER TABLE runs ADD COLUMN peak_host_bytes INTEGER", "ALTER TABLE runs ADD COLUMN peak_device_bytes INTEGER",
        "ALTER TABLE runs ADD COLUMN allocator_peak_bytes INTEGER", "ALTER TABLE runs ADD COLUMN flops_per_sample REAL"],
    4: [INFERENCE_TABLE_V5, INFERENCE_RUNS_TABLE],
    5: [VERIFY_TABLE],
    6: ["ALTER TABLE runs ADD COLUMN device_memory_method TEXT"],
    7: ["ALTER TABLE epochs ADD COLUMN call_seconds REAL"],
    8: ["ALTER TABLE epochs ADD COLUMN other_cpus REAL", "ALTER TABLE epochs ADD COLUMN steal REAL",
        "ALTER TABLE inference ADD COLUMN other_cpus REAL", "ALTER TABLE inference ADD COLUMN steal REAL"],
    9: ["ALTER TABLE runs ADD COLUMN worker_pid INTEGER", "ALTER TABLE runs ADD COLUMN worker_started INTEGER"],
    10: ["ALTER TABLE runs ADD COLUMN attention_kernel TEXT", "ALTER TABLE runs ADD COLUMN attention_evidence TEXT"],
}


class StoreError(Exception):
    pass


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    def __init__(self, path):
        self.path = str(path)
        paths.make_parents(self.path, "--store")  # PathError: a path the file system cannot hold, made nothing
        try:
            self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout = 30000")
            self._check_schema()  # before anything that writes: a refused file is left exactly as it was
            self.db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, writers wait their turn
            self.db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable dlbench store ({exc}): choose another --store") from exc

    def _check_schema(self):
        with self.transaction():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                if self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise StoreError(f"{self.path} is an SQLite file but not a dlbench store: choose another --store")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer dlbench (store schema {version}, this one knows "
                                 f"{SCHEMA_VERSION}): upgrade dlbench or choose another --store")
            else:
                for step in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[step]:
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def transaction(self):
        return _Transaction(self.db)

    def close(self):
        self.db.close()

    # -- writing -----------------------------------------------------------------------------------------------

    def begin_suite(self, name, config, command=None, dlbench_version=None, git_revision=None):
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO suites (name, config, command, dlbench_version, git_revision, host, pid, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, json.dumps(config, sort_keys=True), command, dlbench_version, git_revision,
                 socket.gethostname(), os.getpid(), now()))
        return cursor.lastrowid

    def close_abandoned(self):
        """Trials left 'running' by a dlbench process of this host that no longer exists (killed, crashed, power
        lost) are recorded as interrupted, and what is left of their worker processes is ended. Returns how many."""
        rows = self.db.execute(
            "SELECT runs.id, runs.worker_pid, runs.worker_started, suites.pid FROM runs JOIN suites ON "
            "runs.suite_id = suites.id WHERE runs.status = ? AND suites.host = ?",
            (RUNNING, socket.gethostname())).fetchall()
        abandoned = [row["id"] for row in rows if not _alive(row["pid"])]
        for row in rows:
            if row["id"] in abandoned:
                processes.end_group(row["worker_pid"], row["worker_started"])
        with self.transaction():
            for run_id in abandoned:
                self._finish(run_id, "interrupted", "abandoned: the dlbench process running it ended without "
                                                    "recording a result", None)
        return len(abandoned)

    def finish_suite(self, suite_id):
        with self.transaction():
            self.db.execute("UPDATE suites SET finished_at = ? WHERE id = ?", (now(), suite_id))

    def start_run(self, suite_id, trial, node, status=RUNNING, error=None):
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (suite_id, trial_key, workload, framework, repeat, settings, status, error, "
                "node_host, node_device, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (suite_id, trial.key, trial.workload, trial.framework, trial.repeat,
                 json.dumps(trial.settings, sort_keys=True), status, error, node["host"], node["device"], now(),
                 None if status == RUNNING else now()))
        return cursor.lastrowid

    def record_skipped(self, suite_id, trial, node, reason):
        return self.start_run(suite_id, trial, node, status="skipped", error=reason)

    def apply_events(self, run_id, events):
        """Write one batch of worker events in a single transaction, each through its handler (EVENT_HANDLERS);
        an event without one (the parent's own, or one a newer worker sends) is passed over."""
        with self.transaction():
            for event in events:
                handler = EVENT_HANDLERS.get(event["event"])
                if handler is not None:
                    handler(self, run_id, event)

    def finish_run(self, run_id, status, error=None, detail=None, exit_code=None):
        with self.transaction():
            self._finish(run_id, status, error, detail, exit_code)

    def _finish(self, run_id, status, error, detail, exit_code=None):
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.db.execute("UPDATE runs SET status = ?, error = ?, detail = ?, exit_code = coalesce(?, exit_code), "
                        "finished_at = ? WHERE id = ?", (status, error, detail, exit_code, now(), run_id))

    def set_worker(self, run_id, pid, started):
        with self.transaction():
            self.db.execute("UPDATE runs SET worker_pid = ?, worker_started = ? WHERE id = ?", (pid, started, run_id))

    def set_exit_code(self, run_id, exit_code):
        with self.transaction():
            self.db.execute("UPDATE runs SET exit_code = ? WHERE id = ?", (exit_code, run_id))

    # -- reading -----------------------------------------------------------------------------------------------

    def runs(self, workloads=None, frameworks=None, statuses=None, suite_id=None):
        clauses, params = [], []
        for column, values in (("workload", workloads), ("framework", frameworks), ("status", statuses)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if suite_id is not None:
            clauses.append("suite_id = ?")
            params.append(suite_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(f"SELECT * FROM runs {where} ORDER BY id", params).fetchall()
        return [_run_dict(row) for row in rows]

    def _select_in(self, query, values, extra=()):
        """Rows of `query`, whose one `{}` is an IN list over `values`, asked in chunks: SQLite caps the number of
        bound parameters."""
        values = list(values)
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            yield from self.db.execute(query.format(", ".join("?" * len(chunk))), chunk + list(extra))

    def epochs(self, run_ids):
        """Epoch rows of these runs, grouped by run id, in epoch order."""
        found = {run_id: [] for run_id in run_ids}
        for row in self._select_in("SELECT * FROM epochs WHERE run_id IN ({}) ORDER BY run_id, epoch", found):
            found[row["run_id"]].append(dict(row))
        return found

    def samples(self, run_ids):
        """Generated texts of these runs, by run id (runs without one are absent)."""
        return {row["run_id"]: dict(row) for row in self._select_in("SELECT * FROM samples WHERE run_id IN ({})", run_ids)}

    def inference(self, run_ids):
        """Inference results of these runs, by run id: {"batches": rows by batch size (pass_seconds as a list),
        and the inference_runs row's fields (time to first result, the feature check)}; runs without any absent."""
        found = {}
        for row in self._select_in("SELECT * FROM inference_runs WHERE run_id IN ({})", run_ids):
            found[row["run_id"]] = dict(row, batches=[])
        for row in self._select_in("SELECT * FROM inference WHERE run_id IN ({}) ORDER BY run_id, batch_size",
                                   run_ids):
            batch = dict(row, pass_seconds=json.loads(row["pass_seconds"]))
            found.setdefault(row["run_id"], {"run_id": row["run_id"], "batches": []})["batches"].append(batch)
        return found

    def completed(self, trial_keys):
        """The latest run of each trial key that ended with a result (ok, failed, timeout, oom, diverged).
        Interrupted, skipped and abandoned trials have no result: --resume runs them again."""
        found = {}
        statuses = ", ".join("?" * len(RESULTS))
        for row in self._select_in(f"SELECT * FROM runs WHERE trial_key IN ({{}}) AND status IN ({statuses}) ORDER BY id",
                                   trial_keys, RESULTS):
            found[row["trial_key"]] = _run_dict(row)
        return found

    def record_verify(self, rows, versions=None):
        """Store the rows of one `dlbench verify` (dicts as dlbench.verify.run makes them)."""
        versions = versions or {}
        with self.transaction():
            for r in rows:
                pair = {f: versions.get(f) for f in (r["reference"], r["framework"])}
                self.db.execute(
                    "INSERT INTO verify (verified_at, workload, framework, reference, phase, max_abs, max_rel, "
                    "tolerance, ok, divergent, note, versions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (r["verified_at"], r["workload"], r["framework"], r["reference"], r["phase"], r["max_abs"],
                     r["max_rel"], r["tolerance"], int(bool(r["ok"])), r["divergent"], r["note"],
                     json.dumps(pair, sort_keys=True)))

    def verify_results(self):
        """The latest verify rows of each (workload, reference, framework) pair, in insertion order."""
        rows = [dict(r) for r in self.db.execute("SELECT * FROM verify ORDER BY id")]
        latest = {}
        for r in rows:
            latest[r["workload"], r["reference"], r["framework"]] = max(
                latest.get((r["workload"], r["reference"], r["framework"]), ""), r["verified_at"])
        return [r for r in rows if r["verified_at"] == latest[r["workload"], r["reference"], r["framework"]]]

    def suites(self, suite_ids):
        """The suites rows of these ids, in id order (config as stored: JSON text)."""
        return [dict(row) for row in self._select_in("SELECT * FROM suites WHERE id IN ({}) ORDER BY id",
                                                     sorted(set(suite_ids)))]

    def last_suite_id(self):
        row = self.db.execute("SELECT max(id) FROM suites").fetchone()
        return row[0]


RESULTS = ("ok", "failed", "timeout", "oom", "diverged")  # statuses that are an outcome of the trial itself


# -- applying worker events (dlbench.worker.protocol): one small handler per event --------------------------------

def _apply_start(store, run_id, event):
    pass  # the run's row exists already (start_run); the worker's pid and Python are in its env


def _apply_env(store, run_id, event):
    env = {k: v for k, v in event.items() if k not in ("event", "time")}
    store.db.execute("UPDATE runs SET env = ? WHERE id = ?", (json.dumps(env, sort_keys=True), run_id))


def _apply_model(store, run_id, event):
    store.db.execute("UPDATE runs SET params_total = ?, params_trainable = ?, flops_per_sample = ? WHERE id = ?",
                     (event["params_total"], event["params_trainable"], event.get("flops_per_sample"), run_id))


def _apply_epoch(store, run_id, event):
    store.db.execute(
        "INSERT INTO epochs (run_id, epoch, warmup, train_seconds, input_seconds, call_seconds, eval_seconds, "
        "samples_per_second, loss, accuracy, val_loss, val_accuracy, other_cpus, steal) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, event["epoch"], int(event["warmup"]), event["train_seconds"], event.get("input_seconds"),
         event.get("call_seconds"), event.get("eval_seconds"), event.get("samples_per_second"), event.get("loss"),
         event.get("accuracy"), event.get("val_loss"), event.get("val_accuracy"), event.get("other_cpus"),
         event.get("steal")))


def _apply_sample(store, run_id, event):
    store.db.execute("INSERT OR REPLACE INTO samples (run_id, text, seconds, bigram_share, ok, reason) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, event["text"], event.get("seconds"), event.get("bigram_share"),
                      int(bool(event.get("ok"))), event.get("reason")))


def _apply_kernel(store, run_id, event):
    store.db.execute("UPDATE runs SET rnn_kernel = ?, rnn_evidence = ?, attention_kernel = ?, attention_evidence = ? "
                     "WHERE id = ?", (event.get("rnn_kernel"), json.dumps(event.get("evidence", [])),
                                      event.get("attention_kernel"), json.dumps(event.get("attention_evidence", [])),
                                      run_id))


def _apply_memory(store, run_id, event):
    store.db.execute("UPDATE runs SET peak_host_bytes = ?, peak_device_bytes = ?, device_memory_method = ?, "
                     "allocator_peak_bytes = ? WHERE id = ?",
                     (event.get("peak_host_bytes"), event.get("peak_device_bytes"), event.get("device_method"),
                      event.get("allocator_peak_bytes"), run_id))


def _apply_inference(store, run_id, event):
    store.db.execute(
        "INSERT OR REPLACE INTO inference (run_id, batch_size, images, passes, pass_seconds, warmup_seconds, "
        "first_batch_seconds, batches, items_per_second, seconds_per_1000, latency_p50, latency_p90, latency_p99, "
        "other_cpus, steal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, event["batch_size"], event["images"], event["passes"], json.dumps(event["pass_seconds"]),
         event.get("warmup_seconds"), event.get("first_batch_seconds"), event.get("batches"),
         event.get("items_per_second"), event.get("seconds_per_1000"), event.get("latency_p50"),
         event.get("latency_p90"), event.get("latency_p99"), event.get("other_cpus"), event.get("steal")))


def _apply_first_result(store, run_id, event):
    store.db.execute(
        "INSERT INTO inference_runs (run_id, runtime, compile, load_seconds, first_result_seconds) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET runtime = excluded.runtime, "
        "compile = excluded.compile, load_seconds = excluded.load_seconds, "
        "first_result_seconds = excluded.first_result_seconds",
        (run_id, event.get("runtime"), event.get("compile"), event.get("load_seconds"),
         event.get("first_result_seconds")))


def _apply_check(store, run_id, event):
    store.db.execute(
        "INSERT INTO inference_runs (run_id, check_images, max_relative_error, tolerance, check_ok, "
        "check_precision) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
        "check_images = excluded.check_images, max_relative_error = excluded.max_relative_error, "
        "tolerance = excluded.tolerance, check_ok = excluded.check_ok, check_precision = excluded.check_precision",
        (run_id, event.get("images"), event.get("max_relative_error"), event.get("tolerance"),
         int(bool(event.get("ok"))), event.get("precision")))


def _apply_end(store, run_id, event):
    store._finish(run_id, event["status"], event.get("error"), event.get("detail"))


# Every event of the protocol has its handler (tests/test_store.py checks the keys against protocol.EVENTS).
EVENT_HANDLERS = {
    protocol.START: _apply_start, protocol.ENV: _apply_env, protocol.MODEL: _apply_model,
    protocol.FIRST_RESULT: _apply_first_result, protocol.EPOCH: _apply_epoch, protocol.INFERENCE: _apply_inference,
    protocol.SAMPLE: _apply_sample, protocol.KERNEL: _apply_kernel, protocol.CHECK: _apply_check,
    protocol.MEMORY: _apply_memory, protocol.END: _apply_end,
}


def _alive(pid):
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _run_dict(row):
    run = dict(row)
    run["settings"] = json.loads(run["settings"])
    run["env"] = json.loads(run["env"]) if run["env"] else {}
    for evidence in ("rnn_evidence", "attention_evidence"):
        run[evidence] = json.loads(run[evidence]) if run[evidence] else []
    return run


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error: a write is all or nothing."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, tb):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
