"""The `dlbench verify` command: checks its arguments, runs dlbench.verify.run, prints a pairwise matrix per
workload, stores the rows (the `verify` table) and exits 1 when a pair fails."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from dlbench import frameworks as framework_registry
from dlbench.console import DEFAULT_STORE, EXIT_FAILED, err, fail, names, open_store, out
from dlbench.verify import canonical

# The frameworks whose declaration names a verify converter (<package>.verify): the modern training frameworks; the
# legacy ones run in their own environments, outside verify.
TRAINING_FRAMEWORKS = tuple(f.id for f in framework_registry.FRAMEWORKS.values() if f.verify is not None)


def cell_text(rows):
    """One pair's cell: ok / FAIL, the forward output's max abs difference and the largest update difference."""
    by_phase = {r["phase"]: r for r in rows}
    if "run" in by_phase:
        return "[red]did not run[/red]"
    bad = [r for r in rows if not r["ok"]]
    if bad:
        first = bad[0]
        return "[red]FAIL %s: %s[/red]\n%.1e" % (first["phase"], first["divergent"], first["max_abs"])
    noted = any(r.get("note") for r in rows)
    return "[green]ok%s[/green] %.0e\nupd %.0e" % ("*" if noted else "", by_phase["forward"]["max_abs"],
                                                  by_phase["update"]["max_abs"])


def matrix(workload, framework_ids, rows):
    from dlbench.verify.run import tolerance_text

    table = Table(title="%s: forward max |diff| / update max |diff| (* a stated exception)" % workload,
                  caption="update tolerance: " + tolerance_text("update", workload))
    table.add_column("")
    for f in framework_ids:
        table.add_column(f)
    pairs = {}
    for r in rows:
        pairs.setdefault(frozenset((r["reference"], r["framework"])), []).append(r)
    for a in framework_ids:
        table.add_row(a, *["-" if a == b else cell_text(pairs.get(frozenset((a, b)), [])) for b in framework_ids])
    return table


def register(app):
    @app.command()
    def verify(
        workload_ids: Optional[List[str]] = typer.Option(None, "--workloads", help="Workload ids, comma-separated "
                                                         f"(default: {', '.join(canonical.WORKLOADS)})."),
        framework_ids: Optional[List[str]] = typer.Option(None, "--frameworks", help="Framework ids; the first is "
                                                          "the reference (default: all six training frameworks)."),
        samples: int = typer.Option(8, help="The batch: this many samples of the workload's synthetic data."),
        threads: int = typer.Option(1, help="CPU threads per worker."),
        seed: int = typer.Option(0, help="Seed of the canonical weights and the data."),
        store_path: Path = typer.Option(DEFAULT_STORE, "--store", help="The SQLite results store."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout: one object per "
                                                           "comparison (pair, workload, phase)."),
    ):
        """Prove the models are the same: one set of weights in every framework, the same batch, compare outputs,
        loss and one training step's weight updates for every pair of frameworks."""
        from dlbench.verify import run as verifying

        workload_list = names(workload_ids) or list(canonical.WORKLOADS)
        framework_list = names(framework_ids) or list(TRAINING_FRAMEWORKS)
        for w in workload_list:
            if w not in canonical.WORKLOADS:
                fail(f"unknown or unsupported workload {w!r} for verify: choose from {', '.join(canonical.WORKLOADS)}")
        for f in framework_list:
            if f not in TRAINING_FRAMEWORKS:
                fail(f"unknown framework {f!r} for verify: choose from {', '.join(TRAINING_FRAMEWORKS)}")
        if len(set(framework_list)) < 2:
            fail("verify compares frameworks: give at least two")
        missing = [f for f in framework_list if framework_registry.get(f).missing()]
        if missing:
            fail("not installed: " + "; ".join(f"{f} ({framework_registry.get(f).install_hint()})" for f in missing),
                 EXIT_FAILED)
        store = open_store(store_path)
        rows, versions, errors = verifying.verify(
            workload_list, framework_list, samples=samples, seed=seed, threads=threads,
            progress=lambda f: err.print(f"verify: {f} ...", highlight=False))
        store.record_verify(rows, versions)
        store.close()
        failed = [r for r in rows if not r["ok"]]
        if as_json:
            print(json.dumps(rows, indent=2))
            raise typer.Exit(EXIT_FAILED if failed else 0)
        for w in workload_list:
            out.print(matrix(w, framework_list, [r for r in rows if r["workload"] == w]))
        for (w, f), error in sorted(errors.items()):
            err.print(f"{w} / {f}: {error}", markup=False, highlight=False)
        notes = sorted({r["note"] for r in rows if r.get("note") and r["phase"] != "run"})
        for note in notes:
            out.print(f"* {note}", markup=False, highlight=False)
        for r in failed:
            if r["phase"] != "run":
                err.print(f"FAIL {r['workload']}: {r['framework']} vs {r['reference']}, {r['phase']}: first divergent "
                          f"{r['divergent']} (max abs {r['max_abs']:.2e}, {r['tolerance']})"
                          + (f"; {r['note']}" if r.get("note") else ""), markup=False, highlight=False)
        out.print(f"{len(rows) - len(failed)} of {len(rows)} comparisons within tolerance; stored in {store_path}",
                  highlight=False)
        if failed:
            raise typer.Exit(EXIT_FAILED)
