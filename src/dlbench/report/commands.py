"""The report-related commands of the CLI; `register(app)` adds them to the typer app in dlbench.cli:

    dlbench report       report.html (self-contained), report.md and charts/*.png|svg from the store
    dlbench compare A B  what got faster or slower between two result sets, with CIs
    dlbench frameworks   the framework feature matrix (probed in a subprocess per framework, and documented)

Nothing here imports a framework: the feature probes run in subprocesses (dlbench.report.probe).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from dlbench import frameworks as framework_registry
from dlbench import paths, render, stats
from dlbench.console import (DEFAULT_STORE, EXIT_FAILED, err, fail, names, open_store, out, print_table,
                             select_runs)

DEFAULT_OUT = Path("results") / "report"


def feature_matrix(framework_ids, refresh=False, timeout=None, quiet=False):
    from dlbench.report import features

    def on_probe(framework_id):
        if not quiet:
            err.print(f"probing {framework_id} in a fresh process (cached afterwards)...", highlight=False)

    probed = features.probe_all(framework_ids, timeout=timeout or features.PROBE_TIMEOUT, refresh=refresh,
                                on_probe=on_probe)
    return features.matrix(framework_ids, probed)


def register(app):
    store_option = typer.Option(DEFAULT_STORE, "--store", help="The SQLite results store.")
    json_option = typer.Option(False, "--json", help="Machine-readable output on stdout.")

    @app.command()
    def report(
        out_dir: Path = typer.Option(DEFAULT_OUT, "--out", help="Folder for report.html, report.md and charts/."),
        workload_ids: Optional[List[str]] = typer.Option(None, "--workloads", help="Only these workloads."),
        framework_ids: Optional[List[str]] = typer.Option(None, "--frameworks", help="Only these frameworks."),
        status: Optional[List[str]] = typer.Option(None, "--status", help="Only runs with these statuses."),
        suite: Optional[str] = typer.Option(None, "--suite", help="Only this suite id, or 'last'."),
        prices_file: Optional[Path] = typer.Option(None, "--prices", help="A TOML price table (per hour per "
                                                                          "device kind): adds a cost section."),
        with_features: bool = typer.Option(True, "--features/--no-features",
                                           help="Include the framework feature matrix (probes are cached)."),
        refresh_features: bool = typer.Option(False, "--refresh-features", help="Probe the frameworks again."),
        probe_timeout: Optional[float] = typer.Option(None, "--probe-timeout",
                                                      help="Seconds per framework probe (default 180)."),
        store_path: Path = store_option,
    ):
        """Write report.html (one self-contained page), report.md and every chart as PNG and SVG."""
        from dlbench.report import data as report_data
        from dlbench.report import page, prices

        price_table = None
        if prices_file is not None:
            try:
                price_table = prices.load(prices_file)
            except prices.PriceError as exc:
                fail(str(exc))
        store = open_store(store_path, must_exist=True)
        runs, epochs_by_run, filters = select_runs(store, workload_ids, framework_ids, status, suite)
        if not runs:
            fail("no runs match: nothing to report", EXIT_FAILED)
        try:  # before the (slow) feature probes: a folder that cannot be made is one line, and makes nothing
            paths.make_folder(out_dir, "--out")
        except paths.PathError as exc:
            fail(str(exc))
        suites = report_data.suites_of(store, runs)
        inference = report_data.inference_results(store, runs)
        samples = store.samples([r["id"] for r in runs])
        verified = [r for r in store.verify_results() if not workload_ids or r["workload"] in names(workload_ids)]
        store.close()
        matrix = None
        if with_features:
            ids = [f for f in report_data.framework_order({r["framework"] for r in runs})
                   if f in framework_registry.FRAMEWORKS and not framework_registry.get(f).inference_only]
            matrix = feature_matrix(ids, refresh_features, probe_timeout) if ids else None
        data = report_data.assemble(runs, epochs_by_run, suites, store_path=store_path, features=matrix,
                                    prices=price_table, inference=inference, filters=filters, samples=samples)
        data.verify = verified
        written = page.write(data, out_dir)
        charts = [p for p in written if p.parent.name == "charts"]
        out.print(f"{written[0]}\n{written[1]}\n{len(charts)} chart files in {out_dir / 'charts'}", highlight=False)

    @app.command()
    def compare(
        a: str = typer.Argument(..., help="Side A: a store file, filters on --store (suite=3,framework=torch), "
                                          "or STORE@filters."),
        b: str = typer.Argument(..., help="Side B, the same forms."),
        ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Compared settings not to match on "
                                                                          "(e.g. threads across machines)."),
        workload_ids: Optional[List[str]] = typer.Option(None, "--workloads", help="Only these workloads."),
        framework_ids: Optional[List[str]] = typer.Option(None, "--frameworks", help="Only these frameworks."),
        store_path: Optional[Path] = typer.Option(None, "--store", help="The store that filters apply to "
                                                                        f"(default {DEFAULT_STORE})."),
        fail_slower: Optional[float] = typer.Option(None, "--fail-slower", metavar="RATIO", help="Exit 1 when a row "
                                                    "of B is decidedly slower than A by more than RATIO (e.g. 1.05: "
                                                    "the lower end of B / A's interval above 1.05): a CI gate."),
        html_path: Optional[Path] = typer.Option(None, "--html", help="Also write the comparison as one "
                                                                       "self-contained HTML page to this file."),
        as_json: bool = json_option,
    ):
        """Compare two result sets: what got faster or slower from A to B, with 95% intervals and verdicts.

        Rows match by workload, framework and compared settings; B / A is the ratio of steady-state epoch times
        with its interval over repeats: slower or faster when it excludes 1, a tie when it contains 1, equal when it
        lies within ±5%, no verdict with fewer than 3 repeats a side. Examples: `dlbench compare old.sqlite
        new.sqlite`; `dlbench compare suite=3 suite=5 --store s.sqlite`; `dlbench compare torch=2.12 torch=2.13`.
        """
        from dlbench.report import compare as comparing

        default_store = str(store_path or DEFAULT_STORE)
        try:
            sides = []
            for name, spec in (("A", a), ("B", b)):
                side = comparing.load_side(name, spec, default_store, open_store)
                for key, values in (("workload", names(workload_ids)), ("framework", names(framework_ids))):
                    if values:
                        side.runs = [r for r in side.runs if r[key] in values]
                sides.append(side)
            result = comparing.compare(*sides, ignore=names(ignore) or ())
        except comparing.CompareError as exc:
            fail(str(exc))
        if fail_slower is not None and fail_slower <= 0:
            fail(f"--fail-slower takes a ratio such as 1.05, not {fail_slower:g}")
        if as_json:
            print(json.dumps(result, indent=2))
        else:
            show_comparison(result)
        if html_path is not None:
            from dlbench.report import compare_page
            err.print(f"comparison page: {compare_page.write(result, html_path)}", highlight=False)
        regressions = comparing.slower_than(result, fail_slower) if fail_slower is not None else []
        if regressions:
            err.print(f"[red]{len(regressions)} row(s) of B are slower than A by more than {fail_slower:g}x[/red]: "
                      + "; ".join(escape(f"{r.get('workload')} / {r.get('framework')}: {r['text']}")
                                  for r in regressions), highlight=False)
            raise typer.Exit(EXIT_FAILED)

    @app.command(name="frameworks")
    def frameworks_(
        framework_ids: Optional[List[str]] = typer.Option(None, "--frameworks", help="Only these frameworks."),
        refresh: bool = typer.Option(False, "--refresh", help="Probe again instead of using the cache."),
        timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds per framework probe (default 180)."),
        as_json: bool = json_option,
    ):
        """The framework feature matrix: what is probed here and what is documented.

        Probed in a fresh process per framework (cached): automatic differentiation, JIT/graph compilation, bf16,
        ONNX export, GPU count, Keras backend. Documented: language, platforms, interfaces, pretrained models,
        multi-GPU, multi-machine, mixed precision."""
        from dlbench.report import features

        ids = names(framework_ids) or [f for f in framework_registry.FRAMEWORK_IDS  # the probes are training ones
                                        if not framework_registry.get(f).inference_only]
        for framework_id in ids:
            try:
                framework_registry.get(framework_id)
            except framework_registry.UnknownFramework as exc:
                fail(str(exc))
        matrix = feature_matrix(ids, refresh, timeout, quiet=as_json)
        if as_json:
            print(json.dumps({"frameworks": ids, "documented_as_of": features.DOCUMENTED_AS_OF,
                              "cache": str(features.cache_path()), "rows": matrix}, indent=2))
            return
        table = Table(title="Framework features", title_justify="left", show_lines=True)
        table.add_column("feature")
        table.add_column("how known")
        for framework_id in ids:
            table.add_column(framework_id)
        for row in matrix:
            table.add_row(row["label"], row["source"], *(features.cell_text(row["cells"][f]) for f in ids))
        print_table(table, wide=True)  # a column per framework
        out.print(f"Probed: a tiny real computation in a fresh process per framework, cached in "
                  f"{features.cache_path()} (--refresh probes again). Documented: as of "
                  f"{features.DOCUMENTED_AS_OF}. --json has what each probe ran.", highlight=False)


def show_comparison(result):
    a, b = result["a"], result["b"]
    for name, side in (("A", a), ("B", b)):
        filters = ", ".join(f"{k}={v}" for k, v in side["filters"].items()) or "all ok runs"
        out.print(f"{name}: {side['store']} ({filters}): {side['runs']} runs, suites "
                  f"{', '.join(map(str, side['suites'])) or '-'}, {', '.join(side['hosts']) or '-'}", highlight=False)
    left_out = result["left_out"]
    if left_out:
        out.print("Not matched on: " + ", ".join(f"{k} ({why})" for k, why in left_out.items()), highlight=False)
    def secs(iv):  # as the run table writes them
        if iv is None:
            return "-"
        ci = f" [{render.seconds(iv['low'])}, {render.seconds(iv['high'])}]" if iv["low"] is not None else ""
        return f"{render.seconds(iv['estimate'])}{ci}"

    shown = ("data", "samples", "batch_size", "threads", "device")
    settings = {", ".join(f"{k} {row[k]}" for k in shown if row.get(k) is not None): None for row in result["rows"]}
    cells = []
    for row in result["rows"]:
        ratio = row["ratio"]
        cells.append([
            row.get("workload") or " vs ".join(["/".join(row["workload_a"]), "/".join(row["workload_b"])]),
            row.get("framework") or " vs ".join(["/".join(row["framework_a"]), "/".join(row["framework_b"])]),
            *([", ".join(f"{k} {row[k]}" for k in shown if row.get(k) is not None)] if len(settings) > 1 else []),
            secs(row["a"]), secs(row["b"]),
            "-" if ratio is None else f"{ratio['estimate']:.2f}" + (
                f" [{ratio['low']:.2f}, {ratio['high']:.2f}]" if ratio["low"] is not None else ""),
            render.VERDICT_WORDS.get(row["verdict"], row["verdict"])])
    columns = [("workload", "left"), ("framework", "left"), *([("settings", "left")] if len(settings) > 1 else []),
               ("A s\n[95% CI]", "right"), ("B s\n[95% CI]", "right"), ("B / A\n[95% CI]", "right"), ("B is", "left")]
    common = f" ({next(iter(settings))})" if len(settings) == 1 and next(iter(settings)) else ""
    table = render.fitted_table(f"B against A: steady-state epoch time{common}", columns, cells, wrap=("settings",))
    if result["rows"]:
        print_table(table)
    counts = result["counts"]
    out.print(f"B is faster on {counts['faster']}, slower on {counts['slower']}, equal within "
              f"±{stats.MARGIN:.0%} on {counts['equivalent']}, tied on {counts['tie']}"
              + (f", no verdict on {counts['inconclusive']}" if counts["inconclusive"] else "") +
              f"; only in A: {len(result['only_a'])}, only in B: {len(result['only_b'])}.", highlight=False)
    for label, only in (("only in A", result["only_a"]), ("only in B", result["only_b"])):
        for ident in only:
            out.print(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in ident.items() if v is not None),
                      highlight=False)
    differing = result["differing_settings"]
    if differing:
        said = "; ".join(f"{k}: A {', '.join(map(str, v['a']))}, B {', '.join(map(str, v['b']))}"
                         for k, v in differing.items())
        out.print(f"[yellow]Unmatched rows differ in {said}: `--ignore {','.join(differing)}` leaves "
                  f"{'it' if len(differing) == 1 else 'them'} out of the match.[/yellow]", highlight=False)
    for line in result["environment"]:
        out.print(f"[yellow]environment differs: {line}[/yellow]", highlight=False)
