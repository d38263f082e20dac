"""The store's tables (dlbench.tables) out as files people load, and back: one file per table, Parquet or CSV, with
a manifest.json naming the layout version, the tables, their files and columns (docs/export.md); and one CSV per
run in the shape of the seed project's 20-line Keras logger (epoch, elapsed, loss, acc, val_loss, val_acc)."""
from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import dlbench

FORMATS = ("parquet", "csv")
MANIFEST = "manifest.json"
SEED_COLUMNS = ("epoch", "elapsed", "loss", "acc", "val_loss", "val_acc")


class ExportError(Exception):
    pass


def write(tables, folder, fmt, source=None, filters=None):
    """Write each table to FOLDER/<table>.<fmt> and the manifest; returns the paths written, the manifest last."""
    import pyarrow.csv
    import pyarrow.parquet

    from dlbench import tables as tables_module  # pyarrow: imported by the commands that need it, not by every one

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written, listed = [], {}
    for name, table in tables.items():
        path = folder / f"{name}.{fmt}"
        table = table.replace_schema_metadata({**table.schema.metadata, b"dlbench.version": dlbench.__version__})
        if fmt == "parquet":
            pyarrow.parquet.write_table(table, path)
        else:
            pyarrow.csv.write_csv(table, path)
        written.append(path)
        listed[name] = {"file": path.name, "rows": table.num_rows,
                        "columns": {field.name: str(field.type) for field in table.schema}}
    manifest = {"layout": "dlbench-export", "layout_version": tables_module.LAYOUT_VERSION,
                "dlbench_version": dlbench.__version__, "format": fmt, "store": str(source) if source else None,
                "filters": dict(filters or {}),
                "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "tables": listed}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return written + [folder / MANIFEST]


def read(folder):
    """{table name: pyarrow.Table} of an export folder, typed by the schemas of the layout it was written in."""
    import pyarrow.csv
    import pyarrow.parquet

    from dlbench import tables as tables_module

    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"{folder} is not a dlbench export (no readable {MANIFEST}: {exc})") from None
    if manifest.get("layout_version") != tables_module.LAYOUT_VERSION:
        raise ExportError(f"{folder} has export layout {manifest.get('layout_version')}; this dlbench reads layout "
                          f"{tables_module.LAYOUT_VERSION}: load its store instead, or export it again")
    out = {}
    for name, entry in manifest["tables"].items():
        schema = tables_module.SCHEMAS.get(name)
        path = folder / entry["file"]
        if manifest["format"] == "parquet":
            out[name] = pyarrow.parquet.read_table(path)
        else:
            options = pyarrow.csv.ConvertOptions(column_types=schema, strings_can_be_null=True)
            out[name] = pyarrow.csv.read_csv(path, convert_options=options)
        if schema is not None:
            out[name] = out[name].select(schema.names).cast(schema)
    return out


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
