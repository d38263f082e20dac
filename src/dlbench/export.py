"""Raw rows out of the store: one row per epoch with its run's identity, as CSV or Parquet, and one CSV per run in
the shape of the seed project's 20-line Keras logger (epoch, elapsed, loss, acc, val_loss, val_acc)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

RUN_COLUMNS = ("run_id", "suite_id", "workload", "framework", "repeat", "status", "device", "data", "samples",
               "batch_size", "threads", "precision", "compile", "tier", "node_host", "node_device", "params_total",
               "framework_versions")
EPOCH_COLUMNS = ("epoch", "warmup", "train_seconds", "input_seconds", "call_seconds", "eval_seconds", "samples_per_second", "loss", "accuracy",
                 "val_loss", "val_accuracy")
SEED_COLUMNS = ("epoch", "elapsed", "loss", "acc", "val_loss", "val_acc")


class ExportError(Exception):
    pass


def rows(runs, epochs_by_run):
    """One dict per epoch (a run without epochs, e.g. skipped, still gets one row with empty epoch fields)."""
    out = []
    for run in runs:
        base = {"run_id": run["id"], "suite_id": run["suite_id"], "workload": run["workload"],
                "framework": run["framework"], "repeat": run["repeat"], "status": run["status"],
                **{k: run["settings"].get(k) for k in RUN_COLUMNS if k in run["settings"]},
                "node_host": run["node_host"], "node_device": run["node_device"], "params_total": run["params_total"],
                "framework_versions": json.dumps(run["env"].get("imported", {}), sort_keys=True)}
        for epoch in epochs_by_run.get(run["id"]) or [{}]:
            out.append({**base, **{k: epoch.get(k) for k in EPOCH_COLUMNS}})
    return out


def write_csv(records, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RUN_COLUMNS + EPOCH_COLUMNS)
        writer.writeheader()
        writer.writerows(records)


def write_parquet(records, path):
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ExportError("Parquet export needs pyarrow: pip install 'dlbench[parquet]'") from None
    columns = RUN_COLUMNS + EPOCH_COLUMNS
    table = pyarrow.table({c: [r[c] for r in records] for c in columns})
    pyarrow.parquet.write_table(table, path)


def seed_rows(epochs):
    """The seed logger's rows: elapsed is the wall time since training began, validation passes included."""
    elapsed, out = 0.0, []
    for e in epochs:
        elapsed += e["train_seconds"] + (e["eval_seconds"] or 0.0)
        out.append({"epoch": e["epoch"], "elapsed": elapsed, "loss": e["loss"], "acc": e["accuracy"],
                    "val_loss": e["val_loss"], "val_acc": e["val_accuracy"]})
    return out


def write_seed_csvs(runs, epochs_by_run, folder):
    """One CSV per run that has epochs, named after its workload, framework, repeat and run id."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for run in runs:
        if not epochs_by_run.get(run["id"]):
            continue
        path = folder / f"{run['workload']}_{run['framework']}_r{run['repeat']}_run{run['id']}.csv"
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=SEED_COLUMNS)
            writer.writeheader()
            writer.writerows(seed_rows(epochs_by_run[run["id"]]))
        written.append(path)
    return written
