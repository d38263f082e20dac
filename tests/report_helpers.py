"""Shared by the report tests: a store with fixture numbers (written through the Store API, as the executor writes
them), an independent recomputation of steady-state times from the SQLite file, and the feature-probe cache."""
import json
import os
import sqlite3
import subprocess
import sys

from dlbench.store import Store
from dlbench.suite import Trial

from conftest import made_once

NODE = {"host": "benchhost", "device": "cpu: Test CPU 9000"}
SETTINGS = {"device": "cpu", "precision": "fp32", "compile": "none", "tier": "default", "batch_size": 128,
            "data": "small", "samples": None, "epochs": 5, "threads": 2, "target": 0.9}
ENV = {"python": "3.11.7", "cpu_model": "Test CPU 9000", "hostname": "benchhost", "cpu_affinity": [0, 1],
       "threads": {"intra_op": 2, "inter_op": 2}, "denormals_flushed": True}
VERSIONS = {"torch": {"torch": "2.13.0"}, "jax": {"jax": "0.10.2", "jaxlib": "0.10.2", "flax": "0.12.8"},
            "keras-jax": {"keras": "3.15.1", "jax": "0.10.2", "jaxlib": "0.10.2"},
            "tensorflow": {"tensorflow": "2.21.0"}, "keras-tensorflow": {"keras": "3.15.1", "tensorflow": "2.21.0"},
            "keras-torch": {"keras": "3.15.1", "torch": "2.13.0"}}
SKIP_REASON = ("keras-tensorflow is not installed (missing tensorflow): pip install 'dlbench[keras,tensorflow]'")
FAIL_REASON = "RuntimeError: tensorflow ran out of patience in epoch 2"


def add_run(store, suite_id, workload, framework, repeat, seconds, status="ok", error=None, node=NODE,
            settings=None, env=None, accuracies=None):
    trial = Trial(workload, framework, {**SETTINGS, "seed": repeat, **(settings or {})}, repeat)
    if status == "skipped":
        return store.record_skipped(suite_id, trial, node, error)
    run_id = store.start_run(suite_id, trial, node)
    events = [{"event": "env", **ENV, "framework": framework, "hostname": node["host"],
               "imported": VERSIONS.get(framework, {}), **(env or {})},
              {"event": "model", "params_total": 1000, "params_trainable": 1000}]
    accuracies = accuracies or [0.5 + 0.09 * i for i in range(len(seconds))]
    for i, s in enumerate(seconds):
        events.append({"event": "epoch", "epoch": i + 1, "warmup": i == 0, "train_seconds": s, "eval_seconds": 0.1,
                       "samples_per_second": 8000 / s, "loss": 1.0 / (i + 1), "accuracy": accuracies[i],
                       "val_loss": 1.2 / (i + 1), "val_accuracy": accuracies[i]})
    events.append({"event": "end", "status": status, "error": error, "detail": None})
    store.apply_events(run_id, events)
    return run_id


def jitter(base, repeat, n=5, warmup=3.0):
    """Epoch times around `base`: a warm-up epoch, then small deterministic noise."""
    return [base * warmup] + [base * (1 + 0.01 * ((i * 7 + repeat * 3) % 5 - 2)) for i in range(n - 1)]


def fixture_store(path, suite_name="fixture", scale=None):
    """Two workloads; torch fastest on mnist_mlp, keras-jax tied with it, jax 2x slower; tensorflow failed and
    keras-tensorflow skipped on mnist_mlp; jax fastest on toy_cnn. `scale` multiplies a framework's times."""
    scale = scale or {}
    store = Store(path)
    suite_id = store.begin_suite(suite_name, {"name": suite_name}, command="fixture", dlbench_version="0.1.0",
                                 git_revision="abc123")
    plan = {"mnist_mlp": {"torch": 1.0, "keras-jax": 1.003, "jax": 2.0},
            "toy_cnn": {"jax": 10.0, "torch": 13.0}}
    for workload, frameworks in plan.items():
        for repeat in range(3):
            for framework, base in frameworks.items():
                add_run(store, suite_id, workload, framework, repeat,
                        jitter(base * scale.get(framework, 1.0), repeat))
    add_run(store, suite_id, "mnist_mlp", "tensorflow", 0, [4.0, 1.5], status="failed", error=FAIL_REASON)
    add_run(store, suite_id, "mnist_mlp", "keras-tensorflow", 0, [], status="skipped", error=SKIP_REASON)
    store.finish_suite(suite_id)
    store.close()
    return path


def steady_from_sqlite(path, workload, framework):
    """Steady-state epoch times per ok run, read straight from the SQLite file (independent of the report code)."""
    db = sqlite3.connect(path)
    runs = [r[0] for r in db.execute("SELECT id FROM runs WHERE workload = ? AND framework = ? AND status = 'ok' "
                                     "ORDER BY id", (workload, framework))]
    out = []
    for run_id in runs:
        times = [r[0] for r in db.execute("SELECT train_seconds FROM epochs WHERE run_id = ? AND warmup = 0 "
                                          "ORDER BY epoch", (run_id,))]
        if times:
            out.append(times)
    db.close()
    return out


PROBED_FRAMEWORKS = ("torch", "jax", "tensorflow", "keras-jax")


def probed_cache(tmp_path_factory, frameworks=PROBED_FRAMEWORKS):
    """(cache folder, its JSON): `dlbench frameworks --json` run once per test run into a cache folder (made_once);
    later calls, in any test process, reuse it."""
    def probe(cache):
        env = {**os.environ, "DLBENCH_CACHE_DIR": str(cache)}
        result = subprocess.run([sys.executable, "-m", "dlbench.cli", "frameworks", "--json", "--frameworks",
                                 ",".join(frameworks)], capture_output=True, text=True, env=env, timeout=900)
        assert result.returncode == 0, result.stderr
        (cache / "probed.json").write_text(result.stdout)
    cache = made_once(tmp_path_factory, "feature-cache-" + "-".join(frameworks), probe)
    return cache, json.loads((cache / "probed.json").read_text())
