"""dlbench.load(path): a store's tables (dlbench.tables) as pandas DataFrames, for notebooks.

    results = dlbench.load("results/dlbench.sqlite")   # or an export folder (dlbench export --out DIR)
    results.runs, results.epochs, results.inference, ...   # one DataFrame per table of docs/export.md

Integers and booleans are pandas' nullable types (Int64, boolean): a missing value stays missing instead of turning
the column into floats; timestamps are UTC.
"""
from __future__ import annotations

from pathlib import Path


class Results:
    """One attribute per table (runs, epochs, inference, inference_passes, texts, verify, environment, versions,
    suites), each a pandas DataFrame; `tables` holds them by name."""

    def __init__(self, frames, layout_version, source):
        self.tables = frames
        self.layout_version = layout_version
        self.source = source
        for name, frame in frames.items():
            setattr(self, name, frame)

    def __repr__(self):
        sizes = ", ".join(f"{name} {len(frame)}" for name, frame in self.tables.items())
        return f"<dlbench results from {self.source} (layout {self.layout_version}): {sizes}>"


def _to_pandas(table):
    import pandas as pd
    import pyarrow as pa

    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=nullable.get)


def load(path):
    """The tables of a store (a .sqlite file) or of an export folder, as pandas DataFrames (a Results)."""
    from dlbench import export, tables
    from dlbench.store import Store

    path = Path(path)
    if path.is_dir():
        arrow = export.read(path)
    elif path.is_file():
        store = Store(path)
        try:
            arrow = tables.build(store, store.runs(), store.verify_results())
        finally:
            store.close()
    else:
        raise FileNotFoundError(f"no dlbench store or export at {path}")
    return Results({name: _to_pandas(table) for name, table in arrow.items()}, tables.LAYOUT_VERSION, str(path))
