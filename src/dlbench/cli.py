"""The dlbench command line: run, list, env, setup, results, export."""
from __future__ import annotations

import json
import shlex
import signal
import sqlite3
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import dlbench
from dlbench import data, environments, executor, export as exporting, frameworks, machine, paths, render, runner
from dlbench import workloads
from dlbench import ray_executor
from dlbench import suite as suites
from dlbench.console import (DEFAULT_STORE, EXIT_BAD_INPUT, EXIT_FAILED, err, fail, names, open_store, out,
                             print_table, select_runs)
from dlbench.report.commands import register as register_report_commands
from dlbench.verify.command import register as register_verify_command

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Which deep-learning framework trains this model fastest here, and does it still learn "
                       "the same thing?")
# typer shows a `<bool>` type beside every flag (--resume, --json, --help), as if it took a value: flags show none.
_value_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = lambda self, ctx: None if self.is_flag else _value_type(self, ctx)


def show_version(value):
    if value:
        out.print(f"dlbench {dlbench.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def common(version: bool = typer.Option(False, "--version", callback=show_version, is_eager=True,
                                        help="Show dlbench's version and exit.")):
    """Options before the command (--version); the app's help above is what `dlbench --help` shows."""


StoreOption = typer.Option(DEFAULT_STORE, "--store", help="The SQLite results store.")
JsonOption = typer.Option(False, "--json", help="Machine-readable output on stdout.")
WideOption = typer.Option(False, "--wide", help="Every column: noise, step time, input share, RNN kernel, FLOP/s "
                                                "and peak memory beside the verdict's figures.")


@app.command(context_settings={"allow_extra_args": True})  # a --script's own arguments, after --
def run(
    ctx: typer.Context,
    suite_file: Optional[str] = typer.Option(None, "--suite", help="A suite TOML file, or a bundled suite name."),
    workload_ids: Optional[List[str]] = typer.Option(None, "--workloads", help="Workload ids, comma-separated."),
    model_file: Optional[str] = typer.Option(None, "--model", help="Your own model file (.py: build() and data(), "
                                             "Keras or PyTorch; docs/your-model.md), run as workload model:<name>; "
                                             "it is executed as your own code."),
    script_file: Optional[str] = typer.Option(None, "--script", help="Your own Keras script, run as it is once "
                                              "per Keras backend, its fit calls' epochs recorded; its arguments "
                                              "after --. It is executed as your own code."),
    framework_ids: Optional[List[str]] = typer.Option(None, "--frameworks", help="Framework ids, or all."),
    device: Optional[str] = typer.Option(None, help="cpu, gpu or auto."),
    epochs: Optional[int] = typer.Option(None, help="Epochs per trial (default: the workload's); for inference "
                                                     "workloads, timed passes per batch size (default 3)."),
    repeats: Optional[int] = typer.Option(None, help="Trials per framework, each a fresh process (default 3, the "
                                                      "fewest a verdict is drawn from); with --budget, the first "
                                                      "rounds."),
    budget: Optional[str] = typer.Option(None, help="Time for the suite, e.g. 10m: after the planned repeats, add "
                                                     "repeats to the rows whose verdict is undecided until every one "
                                                     "is decided or the time is spent (anytime-valid intervals)."),
    max_repeats: Optional[int] = typer.Option(None, "--max-repeats", help="With --budget: the most repeats a row "
                                                                            "gets (default 20)."),
    data_variant: Optional[str] = typer.Option(None, "--data", help="real, synthetic or small."),
    samples: Optional[int] = typer.Option(None, help="Limit the training samples (validation in proportion)."),
    batch_size: Optional[int] = typer.Option(None, help="Override the workload's batch size (inference: time this "
                                                          "one batch size instead of the sweep)."),
    compile_modes: Optional[List[str]] = typer.Option(None, "--compile", help="none, jit or none,jit (default: the "
                                                      "tier's: none, jit for JAX, the tuned tier's pick; every mode "
                                                      "that differs for inference)."),
    tf32: Optional[bool] = typer.Option(None, "--tf32/--no-tf32", help="TF32 for float32 matmuls and convolutions "
                                        "on a GPU (default: allowed in every framework; --no-tf32: strict FP32 "
                                        "everywhere)."),
    cudnn_autotune: Optional[bool] = typer.Option(None, "--cudnn-autotune/--no-cudnn-autotune", help="cuDNN/XLA "
                                                  "autotuning on a GPU (default: on, as TensorFlow and JAX have it)."),
    layout: Optional[str] = typer.Option(None, help="channels_first or channels_last for image workloads (default: "
                                         "each framework's own; torch: its channels_last memory format)."),
    threads: Optional[int] = typer.Option(None, help="CPU threads for every framework (default: all available)."),
    tier: Optional[List[str]] = typer.Option(None, help="default, tuned or default,tuned (see docs/gpu.md)."),
    precision: Optional[List[str]] = typer.Option(None, help="fp32 (default), bf16, fp16-mixed or a list such as "
                                                  "fp32,bf16 (see docs/gpu.md)."),
    timeout: Optional[float] = typer.Option(None, help="Seconds per trial before it is stopped."),
    seed: Optional[int] = typer.Option(None, help="Base seed; repeat i uses seed + i."),
    target: Optional[float] = typer.Option(None, help="Validation accuracy for time-to-accuracy (default: the "
                                                        "workload's reference)."),
    resume: bool = typer.Option(False, "--resume", help="Run only the trials of this suite that have no result "
                                                         "in the store yet (interrupted, skipped or never run)."),
    executor_name: Optional[str] = typer.Option(None, "--executor", help="local (default): one trial at a time on "
                                                "this machine; ray: spread over a Ray cluster (the ray extra)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="The cluster for --executor ray: auto "
                                              "(default) or host:port of its head node."),
    store_path: Path = StoreOption,
    as_json: bool = JsonOption,
    wide: bool = WideOption,
):
    """Run a suite: every trial in a fresh process, results into the store, a summary at the end."""
    flags = {"workloads": names(workload_ids), "frameworks": names(framework_ids), "device": device, "epochs": epochs,
             "repeats": repeats, "data": data_variant, "samples": samples, "batch_size": batch_size,
             "threads": threads, "timeout": timeout, "seed": seed, "target": target, "compile": names(compile_modes),
             "tier": names(tier), "precision": names(precision), "tf32": tf32, "cudnn_autotune": cudnn_autotune,
             "layout": layout, "budget": budget, "max_repeats": max_repeats}
    flags.update(executor=executor_name, ray_address=ray_address, model=model_file, script=script_file,
                 script_args=list(ctx.args) or None)
    if suite_file is None and not flags["workloads"] and not model_file and not script_file:
        suite_file = "default"
        err.print("No --workloads or --suite given: running the bundled default suite (mnist_mlp, six frameworks, "
                  "small real data, 5 epochs, repeats added until the verdicts are decided, within 5 minutes).")
    try:
        suite, trials, device_asked = runner.prepare(suite_file, flags)
        runner.check_data(suite)
    except suites.SuiteError as exc:
        fail(str(exc))
    except data.DataError as exc:
        fail(str(exc), EXIT_BAD_INPUT if exc.bad_input else EXIT_FAILED)
    if device_asked == "auto":
        err.print("--device auto: " + ("an NVIDIA GPU is visible: running on it." if suite.device == "gpu" else
                                       "no NVIDIA GPU is visible (nvidia-smi finds none): running on the CPU."))
    try:
        chosen = runner.connect(suite, trials)
    except ray_executor.RayError as exc:
        fail(str(exc), EXIT_FAILED)

    store = open_store(store_path)
    abandoned = store.close_abandoned()
    if abandoned:
        err.print(f"{abandoned} trial(s) left running by a dlbench process that no longer exists: recorded as "
                  "interrupted.")
    done = store.completed(t.key for t in runner.resumable(suite, trials)) if resume else {}
    if resume:
        err.print(f"--resume: {len(done)} trial(s) already have a result; running the other "
                  f"{len(suites.pending(trials, done))} planned" + (", then the budget's rounds." if suite.budget else
                                                                   "."))
    suite_id = store.begin_suite(suite.name, suites.as_config(suite), command=shlex.join(sys.argv),
                                 dlbench_version=dlbench.__version__, git_revision=runner.git_revision())
    signal.signal(signal.SIGINT, stop_once)
    signal.signal(signal.SIGTERM, stop_once)  # SIGTERM stops a suite the way Ctrl-C does
    interrupted, outcome = False, None
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=as_json) as progress:
            watcher = ProgressWatcher(progress, f"suite {escape(suite.name)}", len(suites.pending(trials, done)))
            try:
                outcome = runner.SuiteRun(suite, store, suite_id, chosen, watcher).run(trials, done)
            except (executor.Interrupted, KeyboardInterrupt):  # in a trial, or between two
                interrupted = True
            finally:
                chosen.close()
    finally:  # whatever stopped it, the suite's row says when it ended
        store.finish_suite(suite_id)

    runs = store.runs(suite_id=suite_id)
    everything = list(done.values()) + runs  # with --resume, the summary covers the whole suite
    rows, inference = runner.summaries(store, everything)
    show_summary(rows, inference, as_json, store_path, wide)
    if outcome is not None and suite.budget is not None:
        show_outcome(outcome, suite)
    if interrupted:
        err.print("Interrupted: finished trials are kept; the running one is recorded as interrupted. "
                  "`dlbench run --resume` with the same options runs the rest.")
        raise typer.Exit(130)
    if runner.failed(runs):
        raise typer.Exit(EXIT_FAILED)


def stop_once(signum, frame):
    """The first Ctrl-C (or SIGTERM) stops the suite; more of them are ignored, so that they cannot cut short the
    recording of the trial in flight as interrupted, nor the summary."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt()


class ProgressWatcher(runner.Watcher):
    """A line per trial as it starts (several at once on Ray), and the suite's bar."""

    def __init__(self, progress, title, total):
        self.progress = progress
        self.overall = progress.add_task(title, total=total)

    def trial(self, trial):
        label = f"{trial.workload} / {trial.framework} #{trial.repeat + 1}"
        if workloads.is_inference(trial.workload):
            label += f" ({trial.settings['compile']})"
        if trial.settings.get("precision", "fp32") != "fp32":
            label += f" ({trial.settings['precision']})"
        task = self.progress.add_task(f"  {label}", total=len(trial.settings.get("batch_sizes") or [])
                                      or trial.settings["epochs"])

        def on_event(event):
            if event["event"] == "epoch":
                self.progress.update(task, advance=1, description=f"  {label}  loss {event['loss']:.4f}")
            elif event["event"] == "inference":
                self.progress.update(task, advance=1, description=f"  {label}  batch {event['batch_size']}: "
                                                                  f"{event['items_per_second']:.1f} images/s")
            elif event["event"] == "end":
                colour = "green" if event["status"] == "ok" else "red"
                self.progress.update(task, description=f"  {label}  [{colour}]{event['status']}[/{colour}]")
        return on_event

    def done(self, trial):
        self.progress.update(self.overall, advance=1)

    def planned(self, count):
        task = self.progress.tasks[self.overall]
        self.progress.update(self.overall, total=task.total + count)


def show_outcome(outcome, suite):
    """What the budget did: the rounds it added, the time, and which verdicts it left undecided (and why)."""
    minutes = f"{outcome.seconds / 60:.1f} min"
    head = (f"--budget {suite.budget / 60:g} min: {outcome.trials} trials in {minutes}, "
            f"{outcome.rounds} adaptive round{'s' if outcome.rounds != 1 else ''} after the planned ones.")
    if outcome.stopped == "decided":
        err.print(head + " Every verdict is decided.", highlight=False)
        return
    why = {"budget": "the budget is spent", "max_repeats": f"the rows reached max_repeats = {suite.max_repeats}"}
    left = "; ".join(f"{row.workload} / {row.framework} ({render.ratio(row)} after {row.time.groups} repeats)"
                     for row in outcome.undecided)
    err.print(f"[yellow]{escape(head)} Left undecided ({why[outcome.stopped]}): {escape(left)}.[/yellow]",
              highlight=False)


def show_summary(rows, inference=(), as_json=False, store_path=None, wide=False):
    if as_json:
        print(json.dumps([row.to_json() for row in list(rows) + list(inference)], indent=2))
        return
    for table in render.inference_tables(inference, wide):
        print_table(table, wide)
    for line in dict.fromkeys(render.problems(inference)):  # once per framework and mode, not per batch size
        err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False, soft_wrap=True)
    if inference:
        out.print("images/s: images over a timed pass (after one untimed warm-up pass per batch size); 'x fastest': "
                  "pass time relative to the fastest at that batch size; 1st result: load + compile + first batch; "
                  "check: features against the NumPy float64 reference (relative error <= 1e-4)." +
                  (f" Store: {store_path}" if store_path and not rows else ""))
    for table in render.summary_tables(rows, wide):
        print_table(table, wide)
    for line in render.problems(rows):  # escaped: an install hint's [extras] is not markup
        err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False, soft_wrap=True)
    if rows and store_path:
        out.print(f"Store: {store_path}")


@app.command(name="list")
def list_(as_json: bool = JsonOption):
    """Workloads with their parameter counts and data; frameworks with their installed versions."""
    listing = {
        "workloads": [{**workloads.get(w).SPEC.describe(), "frameworks": workloads.implementations(w)}
                      for w in workloads.WORKLOAD_IDS],
        "frameworks": [framework_status(f) for f in frameworks.FRAMEWORKS.values()],
        "not_python": [{"id": i, "title": t, "reason": r} for i, t, r in frameworks.NOT_PYTHON],
    }
    if as_json:
        print(json.dumps(listing, indent=2))
        return
    for w in listing["workloads"]:
        size = (f"{w['params']:,} parameters ({w['trainable_params']:,} trainable)" if w["params"] is not None
                else "parameters depend on the data")
        if w["kind"] == "inference":
            hp = w["hyperparameters"]
            out.print(f"[bold]{w['id']}[/bold]  {size}, inference: batch sizes {hp['batch_sizes_cpu']} over "
                      f"{hp['images_cpu']} images on a CPU, {hp['batch_sizes_gpu']} over {hp['images_gpu']} on a "
                      f"GPU, {w['epochs']} timed passes; {w['source']}")
        else:
            out.print(f"[bold]{w['id']}[/bold]  {size}, data {w['dataset']}, batch {w['batch_size']}, "
                      f"{w['epochs']} epochs; {w['source']}")
        out.print(f"    frameworks: {', '.join(w['frameworks'])}", highlight=False)
    out.print()
    for f in listing["frameworks"]:
        versions = escape(", ".join(f"{k} {v}" for k, v in f["versions"].items()))
        environment = f["environment"]
        if environment and environment["state"] != "ready":
            colour = "yellow" if environment["state"] == "not set up" else "red"
            state = f"[{colour}]{escape(environment['message'])}[/{colour}]"
        else:
            state = f"[green]{versions}[/green]" if f["installed"] else \
                f"[red]not installed[/red]: {escape(f['install'])}"
        where = f"  (own environment, Python {environment['python']})" if environment else ""
        out.print(f"{f['id']:<18} {state}{where}", highlight=False)
    for f in listing["not_python"]:
        out.print(f"{f['id']:<18} [dim]not supported[/dim]: {f['title']}, {f['reason']}", highlight=False)


def framework_status(framework):
    versions = framework.versions()
    missing = framework.missing()
    main = next(iter(versions.values()), None)  # the first distribution listed: keras for keras-*, else the framework
    environment = None
    if framework.environment is not None:  # ready / not set up / cannot be set up here, with its folder or why
        state, detail = environments.state(framework)
        environment = {"state": state, "detail": detail, "python": framework.environment.python,
                       "message": environments.readiness(framework)[1]}
    return {"id": framework.id, "title": framework.title, "installed": not missing,
            "version": main if not missing else None, "versions": versions, "missing": missing,
            "install": framework.install_hint(), "environment": environment}


@app.command()
def setup(framework_ids: List[str] = typer.Argument(..., metavar="FRAMEWORK...",
                                                   help="Frameworks to set up, or 'all' (those with their own "
                                                        "environment: cntk, mxnet, theano, ...)."),
          python: Optional[str] = typer.Option(None, "--python", help="The interpreter to build the environment "
                                                                       "from (default: pyenv's or pythonX.Y)."),
          force: bool = typer.Option(False, "--force", help="Rebuild even if it is ready.")):
    """Make a legacy framework's own environment (a venv with its Python and pinned packages); idempotent."""
    own = [f.id for f in frameworks.FRAMEWORKS.values() if f.environment is not None]
    chosen = own if framework_ids == ["all"] else names(framework_ids)
    for framework_id in chosen:
        try:
            framework = frameworks.get(framework_id)
        except frameworks.UnknownFramework as exc:
            fail(str(exc))
        if framework.environment is None:
            fail(f"{framework_id} needs no environment of its own: {framework.install_hint()} installs it "
                 f"(dlbench setup applies to {', '.join(own)})")
    if python and len(chosen) > 1:
        fail("--python names one interpreter: set up one framework at a time with it")
    failed = []
    for framework_id in chosen:
        try:
            environments.setup(frameworks.get(framework_id), python=python, force=force,
                               say=lambda line: out.print(escape(line), highlight=False))
        except environments.SetupError as exc:
            err.print(f"[red]{framework_id}[/red]: {escape(str(exc))}", highlight=False, soft_wrap=True)
            failed.append(framework_id)
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def env(as_json: bool = JsonOption):
    """This machine: CPU, memory, GPUs, Python, dlbench and framework versions."""
    report = {"machine": machine.describe(), "gpus": machine.gpus(), "dlbench": dlbench.__version__,
              "git_revision": runner.git_revision(),
              "frameworks": [framework_status(f) for f in frameworks.FRAMEWORKS.values()]}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    m = report["machine"]
    memory = f"{m['memory_bytes'] / 2**30:.1f} GiB" if m["memory_bytes"] else "unknown"
    out.print(f"host      {m['hostname']}  ({m['platform']})", highlight=False)
    out.print(f"cpu       {m['cpu_model']}: {m['cpus_available']} of {m['cpu_count']} CPUs available", highlight=False)
    out.print(f"memory    {memory}", highlight=False)
    gpus = ", ".join(f"{g['name']} (driver {g['driver']}, {g['memory']})" for g in report["gpus"]) or "none"
    out.print(f"gpus      {gpus}", highlight=False)
    out.print(f"python    {m['python']};  dlbench {report['dlbench']} ({report['git_revision'] or 'not a checkout'})",
              highlight=False)
    for f in report["frameworks"]:
        environment = f["environment"]
        if environment and environment["state"] != "ready":  # the same line as dlbench list's
            versions = environment["message"]
        else:
            versions = ", ".join(f"{k} {v}" for k, v in f["versions"].items()) if f["installed"] else \
                f"not installed: {f['install']}"
        out.print(f"  {f['id']:<18} {versions}", highlight=False)


FilterWorkloads = typer.Option(None, "--workloads", help="Only these workloads.")
FilterFrameworks = typer.Option(None, "--frameworks", help="Only these frameworks.")
FilterStatus = typer.Option(None, "--status", help="Only runs with these statuses.")
FilterSuite = typer.Option(None, "--suite", help="Only this suite id, or 'last'.")


@app.command()
def results(
    workload_ids: Optional[List[str]] = FilterWorkloads,
    framework_ids: Optional[List[str]] = FilterFrameworks,
    status: Optional[List[str]] = FilterStatus,
    suite: Optional[str] = FilterSuite,
    show_runs: bool = typer.Option(False, "--runs", help="List every run instead of the summary."),
    show_texts_: bool = typer.Option(False, "--texts", help="Show the text each text-generation run wrote after "
                                                            "training, and its check."),
    old_samples: bool = typer.Option(False, "--samples", hidden=True),  # --texts's old name (run's --samples counts)
    store_path: Path = StoreOption,
    as_json: bool = JsonOption,
    wide: bool = WideOption,
):
    """The summary of what the store holds: epoch times with intervals and verdicts against the fastest."""
    store = open_store(store_path, must_exist=True)
    runs, epochs_by_run, _ = select_runs(store, workload_ids, framework_ids, status, suite)
    if not runs:
        err.print("No runs match.")
        return
    if old_samples:
        err.print("results --samples is now --texts (run --samples is a count): it still works, for now.")
    if show_texts_ or old_samples:
        show_texts(runs, store.samples([r["id"] for r in runs]), as_json)
        return
    if show_runs:
        listing = [{k: r[k] for k in ("id", "suite_id", "workload", "framework", "repeat", "status", "error",
                                      "node_host", "started_at", "finished_at")} for r in runs]
        if as_json:
            print(json.dumps(listing, indent=2))
        else:
            for r in listing:
                out.print(f"{r['id']:>5} suite {r['suite_id']:<4} {r['workload']:<12} {r['framework']:<17} "
                          f"#{r['repeat'] + 1} {r['status']:<11} {r['error'] or ''}", markup=False, highlight=False)
        return
    show_summary(*runner.summaries(store, runs), as_json=as_json, store_path=store_path, wide=wide)


def show_texts(runs, samples, as_json):
    listing = [{"id": r["id"], "workload": r["workload"], "framework": r["framework"], "repeat": r["repeat"],
                **{k: samples[r["id"]][k] for k in ("text", "bigram_share", "ok", "reason")}}
               for r in runs if r["id"] in samples]
    if as_json:
        print(json.dumps(listing, indent=2))
        return
    if not listing:
        err.print("None of these runs generated text (only the text-generation workloads do).")
    for s in listing:
        verdict = "looks like the corpus" if s["ok"] else "[red]BROKEN[/red]"
        out.print(f"{s['workload']} / {s['framework']} #{s['repeat'] + 1} (run {s['id']}): {verdict}, "
                  f"{escape(s['reason'] or '')}")
        out.print(s["text"], markup=False, highlight=False)


@app.command(name="export")
def export_(
    fmt: str = typer.Option("csv", "--format", help="csv or parquet (one file per table, and manifest.json), or "
                                                    "seed-csv (one CSV per run)."),
    destination: Optional[Path] = typer.Option(None, "--out", help="The folder (default results/export, or "
                                                                   "results/runs for seed-csv)."),
    workload_ids: Optional[List[str]] = FilterWorkloads,
    framework_ids: Optional[List[str]] = FilterFrameworks,
    status: Optional[List[str]] = FilterStatus,
    suite: Optional[str] = FilterSuite,
    store_path: Path = StoreOption,
):
    """The store's tables (runs, epochs, inference, verify, environment, ...; docs/export.md) as CSV or Parquet
    files, or the seed logger's CSV per run."""
    formats = exporting.FORMATS + ("seed-csv",)
    if fmt not in formats:
        fail(f"unknown format {fmt!r}: choose from {', '.join(formats)}")
    store = open_store(store_path, must_exist=True)
    runs, epochs_by_run, filters = select_runs(store, workload_ids, framework_ids, status, suite)
    destination = destination or Path("results") / ("runs" if fmt == "seed-csv" else "export")
    try:  # its folder made (as report makes its own), or one line that says why not
        paths.make_folder(destination, "--out")
        if fmt == "seed-csv":
            written = exporting.write_seed_csvs(runs, epochs_by_run, destination)
            err.print(f"{len(written)} run CSV files in {destination}")
            return
        from dlbench import tables

        workload_filter = names(workload_ids)
        verified = [r for r in store.verify_results() if not workload_filter or r["workload"] in workload_filter]
        built = tables.build(store, runs, verified)
        exporting.write(built, destination, fmt, source=store_path, filters=filters)
    except paths.PathError as exc:
        fail(str(exc))
    except exporting.ExportError as exc:
        fail(str(exc), EXIT_FAILED)
    except OSError as exc:  # a full disk, say, while writing
        fail(f"cannot write {destination} ({exc.strerror or exc}): choose another --out", EXIT_FAILED)
    err.print(f"{', '.join(f'{name} {table.num_rows}' for name, table in built.items())} rows written to "
              f"{destination} ({fmt}, layout {tables.LAYOUT_VERSION})")


register_report_commands(app)
register_verify_command(app)


def main():
    """The `dlbench` command. Whatever a user can get wrong ends in one line, never a traceback or a box: a bad flag
    value (click's usage errors, exit 2) and a store that cannot be written (a full disk, exit 1)."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # typer's own click raises these (typer >= 0.29)
        if type(exc).__name__ != "NoArgsIsHelpError":  # `dlbench` alone: the help is shown already
            where = f" (see {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
            err.print(f"[red]error:[/red] {escape(exc.format_message())}{escape(where)}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except sqlite3.Error as exc:
        err.print(f"[red]error:[/red] the results store could not be written ({escape(str(exc))}): free space on "
                  "its disk or choose another --store; `dlbench run --resume` with the same options runs the rest",
                  highlight=False)
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
