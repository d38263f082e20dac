"""What every command shares: the two consoles, one-line errors with their exit codes, lists of names, and opening
the store and selecting runs from it with the common filters."""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from dlbench.paths import PathError
from dlbench.store import RUNNING, STATUSES, Store, StoreError

# Tables are wide: when stdout is a file or a pipe, don't squeeze them into rich's default 80 columns.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, soft_wrap=True)  # messages stay one line, whatever the width

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
