"""The command line as a user meets it: real subprocesses, real exit codes, one-line errors."""
import json

import pytest

from conftest import dlbench, tmpfs


def test_list_json_shape():
    result = dlbench("list", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    (mlp,) = [w for w in listing["workloads"] if w["id"] == "mnist_mlp"]
    assert mlp["params"] == 669706 and mlp["trainable_params"] == 669706 and mlp["dataset"] == "mnist"
    modern = ["keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow"]
    legacy = ["cntk", "mxnet", "theano", "pytensor", "chainer", "paddle", "keras2-cntk", "keras2-theano",
              "keras2-mxnet"]
    assert mlp["frameworks"][:6] == modern and set(mlp["frameworks"][6:]) <= set(legacy)
    ids = [f["id"] for f in listing["frameworks"]]
    # then the inference-only ones, then the legacy ones in their own environments
    assert ids == modern + ["keras-openvino", "onnxruntime", "openvino"] + legacy
    (r50,) = [w for w in listing["workloads"] if w["id"] == "resnet50_features"]
    assert r50["kind"] == "inference" and r50["params"] == 23587712 and r50["frameworks"][-2:] == ids[7:9]
    for f in listing["frameworks"]:
        assert set(f) >= {"id", "installed", "version", "install", "environment"}
        if f["id"] in legacy:
            assert f["install"] == "dlbench setup " + f["id"] and f["environment"]["state"] in (
                "ready", "not set up", "cannot be set up here")
        else:
            assert f["install"].startswith("pip install 'dlbench[") and f["environment"] is None
        assert (f["version"] is not None) == f["installed"]
    assert [f["id"] for f in listing["not_python"]] == ["knet", "dl4j", "matconvnet", "torch7", "caffe"]


def test_list_as_text_names_every_workload():
    result = dlbench("list")
    assert result.returncode == 0, result.stderr
    for workload in ("mnist_mlp", "imdb_fasttext", "char_embed_lstm"):
        assert workload in result.stdout
    assert "669,706 parameters" in result.stdout and "parameters depend on the data" in result.stdout


def test_env_json_describes_the_machine():
    result = dlbench("env", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["machine"]["cpus_available"] >= 1 and report["machine"]["memory_bytes"] > 0
    assert isinstance(report["gpus"], list)
    assert {f["id"] for f in report["frameworks"]} >= {"torch", "jax", "tensorflow"}


def check_one_line_error(result, code, *fragments):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_workload_and_framework_exit_2_listing_valid_names(tmp_path):
    store = tmp_path / "s.sqlite"
    check_one_line_error(dlbench("run", "--workloads", "mnist_mpl", "--store", store), 2,
                         "unknown workload 'mnist_mpl' (did you mean mnist_mlp?)", "mnist_mlp")
    check_one_line_error(dlbench("run", "--workloads", "mnist_mlp", "--frameworks", "pytorch", "--store", store), 2,
                         "unknown framework 'pytorch' (did you mean torch?)", "keras-jax", "tensorflow")
    assert not store.exists()  # nothing was started, nothing written


def test_broken_suite_file_exits_2(tmp_path):
    suite = tmp_path / "bad.toml"
    suite.write_text('workloads = ["mnist_mlp"]\nepochs = -3\n')
    check_one_line_error(dlbench("run", "--suite", suite, "--store", tmp_path / "s.sqlite"), 2,
                         "epochs = -3 is not valid")


def test_real_data_offline_is_a_clear_error_before_any_trial(tmp_path):
    # A proxy on a closed loopback port makes every download fail, as on a machine without network.
    import os
    import subprocess
    import sys
    env = dict(os.environ, DLBENCH_CACHE=str(tmp_path / "cache"), https_proxy="http://127.0.0.1:9",
               HTTPS_PROXY="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    result = subprocess.run([sys.executable, "-m", "dlbench.cli", "run", "--workloads", "mnist_mlp", "--data", "real",
                             "--store", str(tmp_path / "s.sqlite")], capture_output=True, text=True, env=env)
    check_one_line_error(result, 1, "could not download mnist.npz", "--data small")
    assert not (tmp_path / "s.sqlite").exists()


def test_results_without_a_store_is_a_clear_error(tmp_path):
    check_one_line_error(dlbench("results", "--store", tmp_path / "none.sqlite"), 1, "no store at")


def test_unknown_export_format(tmp_path):
    check_one_line_error(dlbench("export", "--format", "xlsx", "--store", tmp_path / "s.sqlite"), 2,
                         "unknown format 'xlsx'")


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_keeps_finished_work_and_records_the_running_trial_as_interrupted(tmp_path, signal_name):
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from conftest import require_framework
    from dlbench.store import Store

    require_framework("torch")
    store_path = tmp_path / "s.sqlite"
    # SIGINT at its default in the child: a shell that starts a job in the background (`cmd &`, as some CI
    # launchers do) leaves SIGINT ignored, Python then keeps it ignored, and Ctrl-C could not be tested.
    process = subprocess.Popen(
        [sys.executable, "-m", "dlbench.cli", "run", "--workloads", "mnist_mlp", "--frameworks", "torch",
         "--data", "small", "--samples", "1000", "--epochs", "100000", "--repeats", "1", "--threads", "1",
         "--store", str(store_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # wait for real progress: two stored epochs
            if store_path.exists():
                db = sqlite3.connect(store_path)
                try:
                    if db.execute("SELECT count(*) FROM epochs").fetchone()[0] >= 2:
                        break
                except sqlite3.OperationalError:
                    pass
                finally:
                    db.close()
            time.sleep(0.2)
        process.send_signal(getattr(signal, signal_name))
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a failed check must not leave a 100,000-epoch run behind
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr
    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    (run,) = Store(store_path).runs()
    assert run["status"] == "interrupted"
    assert len(Store(store_path).epochs([run["id"]])[run["id"]]) >= 2


def test_results_show_the_rnn_kernel_and_the_generated_text(tmp_path):
    """A store written through the real Store API with the events a text workload's worker sends."""
    from dlbench.store import Store
    from dlbench.suite import Trial

    store = Store(tmp_path / "s.sqlite")
    suite = store.begin_suite("s", {})
    settings = {"device": "cpu", "precision": "fp32", "compile": "none", "tier": "default", "batch_size": 128,
                "data": "small", "samples": None, "epochs": 2, "threads": 2, "seed": 0}
    for framework, ok, kernel in (("torch", True, "oneDNN fused RNN (CPU)"), ("jax", False, "XLA while loop (lax.scan)")):
        run_id = store.start_run(suite, Trial("mnist_hrnn", framework, settings, 0), {"host": "h", "device": "cpu"})
        store.apply_events(run_id, [
            {"event": "epoch", "epoch": n, "warmup": n == 1, "train_seconds": 1.0 + n, "loss": 1.0, "accuracy": 0.5,
             "val_loss": 1.0, "val_accuracy": 0.5} for n in (1, 2, 3)] + [
            {"event": "sample", "text": f"text of {framework}", "bigram_share": 0.95 if ok else 0.2, "ok": ok,
             "reason": "95% of its bigrams occur in the corpus" if ok else "20% of its bigrams occur in the corpus"},
            {"event": "kernel", "rnn_kernel": kernel, "evidence": []},
            {"event": "end", "status": "ok"}])
    store.close()
    summary = dlbench("results", "--store", tmp_path / "s.sqlite", "--json")
    assert summary.returncode == 0, summary.stderr
    rows = {row["framework"]: row for row in json.loads(summary.stdout)}
    assert rows["torch"]["rnn_kernel"] == "oneDNN fused RNN (CPU)" and rows["torch"]["warnings"] == []
    assert rows["jax"]["warnings"] == ["generated text looks broken: 20% of its bigrams occur in the corpus"]
    table = dlbench("results", "--store", tmp_path / "s.sqlite")
    assert "RNN kernel" in table.stdout and "generated text looks broken" in table.stderr
    texts = dlbench("results", "--texts", "--store", tmp_path / "s.sqlite")
    assert "text of torch" in texts.stdout and "BROKEN" in texts.stdout
    old_name = dlbench("results", "--samples", "--store", tmp_path / "s.sqlite")  # still works, and says so
    assert old_name.stdout == texts.stdout and "results --samples is now --texts" in old_name.stderr


@pytest.mark.parametrize("gap", [0.05, 0.2])
def test_a_second_ctrl_c_does_not_skip_recording_the_running_trial(tmp_path, gap):
    import os
    import signal
    import subprocess
    import sys
    import time

    from dlbench.store import Store
    from test_reliability import wait_for

    store_path = tmp_path / "s.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "dlbench.cli", "run", "--workloads", "mnist_mlp", "--frameworks", "fault", "--data",
         "small", "--samples", "500", "--epochs", "1000", "--repeats", "1", "--threads", "1", "--store", str(store_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, DLBENCH_FAULTS="1", DLBENCH_FAULT="slow"),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # see the test above
    try:
        wait_for(store_path, "SELECT count(*) FROM epochs", 1)
        process.send_signal(signal.SIGINT)
        time.sleep(gap)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    (run,) = Store(store_path).runs()
    assert run["status"] == "interrupted", stderr


def test_help_shows_no_type_beside_flags_and_version_prints_it():
    from dlbench import __version__
    run_help = dlbench("run", "--help")
    assert run_help.returncode == 0 and "--resume" in run_help.stdout and "<int>" in run_help.stdout
    assert "<bool>" not in run_help.stdout  # a flag takes no value
    version = dlbench("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"dlbench {__version__}"


def test_a_bad_flag_value_is_one_line_not_a_box(tmp_path):
    check_one_line_error(dlbench("run", "--workloads", "mnist_mlp", "--epochs", "two", "--store", tmp_path / "s"),
                         2, "Invalid value for '--epochs'", "run --help")
    check_one_line_error(dlbench("run", "--no-such-flag"), 2, "No such option: --no-such-flag")
    assert not (tmp_path / "s").exists()


FAULT_RUN = ("run", "--workloads", "mnist_mlp", "--frameworks", "fault", "--data", "small", "--epochs", "1",
             "--repeats", "1", "--threads", "1")


def fault_cli(*args, cwd=None):
    """The real command line with the test-only fault framework registered (no framework to import: fast)."""
    import os
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "dlbench.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=dict(os.environ, DLBENCH_FAULTS="1", DLBENCH_FAULT="none"))


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a real read-only file system (a tmpfs mounted read-only)."""
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        yield folder


def test_more_samples_than_the_data_set_has_is_refused_before_any_trial(tmp_path):
    store = tmp_path / "s.sqlite"
    check_one_line_error(fault_cli(*FAULT_RUN, "--samples", "1000000000", "--store", store), 2,
                         "mnist (small) has 8000 training samples, 1000000000 were asked for")
    check_one_line_error(fault_cli("run", "--workloads", "cifar10_cnn", "--data", "small", "--store", store), 2,
                         "CIFAR-10 has no 'small' variant", "--data synthetic")
    assert not store.exists()


def test_bad_suite_files_and_store_paths_are_one_line_and_make_nothing(tmp_path, read_only_folder):
    store = tmp_path / "s.sqlite"
    check_one_line_error(fault_cli("run", "--suite", tmp_path, "--store", store), 2, "is a folder: give --suite")
    check_one_line_error(fault_cli(*FAULT_RUN, "--store", read_only_folder / "new" / "s.sqlite"), 2,
                         "cannot create the folder", "Read-only file system", "choose another --store")
    check_one_line_error(fault_cli(*FAULT_RUN, "--store", read_only_folder / "s.sqlite"), 2,
                         "cannot create files in", "choose another --store")
    deep = tmp_path / "deep"
    check_one_line_error(fault_cli(*FAULT_RUN, "--store", deep.joinpath(*["abcdefghi"] * 500, "s.sqlite")), 2,
                         "--store is too long for this file system")
    assert not store.exists() and not deep.exists()  # no folders left behind


def test_store_text_is_never_read_as_markup(tmp_path):
    """A suite name and a stored error with [/...] in them: rich would take them for closing tags."""
    suite = tmp_path / "odd.toml"
    suite.write_text('name = "x[/tmp/y]"\nworkloads = ["mnist_mlp"]\nframeworks = ["fault"]\ndata = "small"\n'
                     'epochs = 1\nrepeats = 1\nthreads = 1\nsamples = 200\n')
    store = tmp_path / "s.sqlite"
    result = fault_cli("run", "--suite", suite, "--store", store)
    assert result.returncode == 0, result.stderr
    from dlbench.store import Store
    opened = Store(store)
    assert [s["finished_at"] is not None for s in opened.db.execute("SELECT finished_at FROM suites")] == [True]
    (run,) = opened.runs()
    opened.finish_run(run["id"], "failed", error="could not open [/tmp/x]")
    listing = fault_cli("results", "--runs", "--store", store)
    assert listing.returncode == 0 and "could not open [/tmp/x]" in listing.stdout, listing.stderr


def test_results_refuses_an_unknown_status(tmp_path):
    store = tmp_path / "s.sqlite"
    from dlbench.store import Store
    Store(store).close()
    check_one_line_error(fault_cli("results", "--status", "bogus", "--store", store), 2,
                         "unknown status 'bogus': choose from running, ok,")


def test_export_makes_its_folder_and_refuses_paths_it_cannot_write(tmp_path, read_only_folder):
    store = tmp_path / "s.sqlite"
    assert fault_cli(*FAULT_RUN, "--samples", "200", "--store", store).returncode == 0
    exported = fault_cli("export", "--store", store, cwd=tmp_path)  # no results/ folder there yet
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "results" / "export" / "epochs.csv").read_text().count("\n") == 2  # the header, one epoch
    (tmp_path / "a_file").write_text("")
    check_one_line_error(fault_cli("export", "--store", store, "--out", tmp_path / "a_file"), 2,
                         "is a file, not a folder", "choose another --out")
    check_one_line_error(fault_cli("export", "--store", store, "--out", read_only_folder / "tables"), 2,
                         "Read-only file system", "choose another --out")
    check_one_line_error(fault_cli("export", "--store", store, "--format", "seed-csv", "--out",
                                   read_only_folder / "runs"), 2, "Read-only file system", "choose another --out")


def test_report_refuses_a_folder_it_cannot_make(tmp_path, read_only_folder):
    store = tmp_path / "s.sqlite"
    assert fault_cli(*FAULT_RUN, "--samples", "200", "--store", store).returncode == 0
    check_one_line_error(fault_cli("report", "--no-features", "--store", store, "--out", read_only_folder / "report"),
                         2, "Read-only file system", "choose another --out")


def test_results_fit_the_terminal_or_columns_and_never_cut_a_figure(training_store, tmp_path):
    """Piped output follows COLUMNS, else fits 100 columns; the longest framework name and every interval stay whole,
    on one line each (#22 item 11)."""
    import os
    import re
    import sqlite3
    import subprocess
    import sys
    from conftest import copy_store
    store = copy_store(training_store, tmp_path)
    with sqlite3.connect(store) as db:  # the longest framework name of the six
        db.execute("UPDATE runs SET framework = 'keras-tensorflow'")
    for columns in (None, "100", "120"):
        env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        env.update({"COLUMNS": columns} if columns else {})
        shown = subprocess.run([sys.executable, "-m", "dlbench.cli", "results", "--store", str(store)],
                               capture_output=True, text=True, env=env, timeout=120)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert max(len(line) for line in lines) <= int(columns or 100), shown.stdout
        assert any(line.split()[:1] == ["keras-tensorflow"] for line in lines), shown.stdout
        assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", shown.stdout), shown.stdout  # on one line
