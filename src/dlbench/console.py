"""What every command shares: the two consoles, one-line errors with their exit codes, lists of names, and opening
the store and selecting runs from it with the common filters."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.markup import escape

from dlbench.paths import PathError
from dlbench.store import RUNNING, STATUSES, Store, StoreError

# The terminal's width, or COLUMNS where it is set (rich reads it); a file or a pipe without COLUMNS gets the 100
# columns every default table fits in (rich's own default, 80, would wrap them), or 200 for the --wide tables.
_SIZED = sys.stdout.isatty() or bool(os.environ.get("COLUMNS"))
out = Console(width=None if _SIZED else 100)
wide_out = Console(width=None if _SIZED else 200)
err = Console(stderr=True, soft_wrap=True)  # messages stay one line, whatever the width


def print_table(table, wide=False):
    """A results table on stdout, its figures never cut: at the width above, or wider when its columns need more
    (rich would otherwise cut cells to fit)."""
    console = wide_out if wide else out
    needed = Measurement.get(console, console.options.update_width(10_000), table)
    if needed.minimum > console.width:  # then every cell on one line, however wide
        console = Console(width=needed.maximum, file=console.file, force_terminal=console.is_terminal)
    console.print(table)


DEFAULT_STORE = Path("results") / "dlbench.sqlite"
EXIT_BAD_INPUT = 2  # unknown names, a broken suite: the user can fix the command
EXIT_FAILED = 1     # the environment or a trial failed


def fail(message, code=EXIT_BAD_INPUT):
    # escaped: an install hint's [extras] is not markup
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def names(values):
    """Accept both `--frameworks a,b` and `--frameworks a --frameworks b`."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def open_store(path, must_exist=False):
    if must_exist and not Path(path).exists():
        fail(f"no store at {path}: run `dlbench run` first, or pass --store", EXIT_FAILED)
    try:
        return Store(path)
    except PathError as exc:
        fail(str(exc))
    except StoreError as exc:
        fail(str(exc), EXIT_FAILED)


def select_runs(store, workload_ids, framework_ids, status, suite):
    """The runs the common filters select, their epochs, and the filters in words."""
    suite_id = None
    if suite == "last":
        suite_id = store.last_suite_id()
    elif suite is not None:
        if not suite.isdigit():
            fail(f"--suite takes a suite id or 'last', not {suite!r}")
        suite_id = int(suite)
    unknown = [s for s in names(status) or () if s not in (RUNNING,) + STATUSES]
    if unknown:
        fail(f"unknown status {unknown[0]!r}: choose from {', '.join((RUNNING,) + STATUSES)}")
    runs = store.runs(workloads=names(workload_ids), frameworks=names(framework_ids), statuses=names(status),
                      suite_id=suite_id)
    filters = {k: ",".join(v) for k, v in (("workloads", names(workload_ids)), ("frameworks", names(framework_ids)),
                                            ("status", names(status))) if v}
    if suite is not None:
        filters["suite"] = f"{suite_id} (last)" if suite == "last" else str(suite_id)
    return runs, store.epochs([r["id"] for r in runs]), filters
