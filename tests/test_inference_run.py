"""resnet50_features through `dlbench run`: planning (compile modes as settings, inference-only frameworks), the
summary's CIs and ratios on stored results, a missing runtime recorded as skipped with its install hint, bad input
as a one-line error, and one real CLI run of every runtime on a tiny size (2 images, batch size 1, 2 timed passes):
each trial ends ok (parameter counts exactly Keras's, the canonical weights exported back unchanged, features within
the tolerance of the NumPy float64 reference) and inference rows with positive images/s and CIs in the store,
`dlbench results` shows them and `dlbench report` renders the inference section. This run is the one per-runtime check
of ResNet-50 (tests/test_resnet50_features.py checks the spec, the weights and the reference without a runtime).
About 3-5 minutes on two cores, nearly all of it the real run (12 worker processes; torch.compile compiles ~30 s).
"""
import json
import sqlite3

from dataclasses import replace

import numpy as np
import pytest

from dlbench import executor, frameworks, inference_summary, workloads
from dlbench import suite as suites
from dlbench.inference import resnet50_features as spec
from dlbench.store import Store

from conftest import dlbench, require_framework
from test_cli import check_one_line_error

ALL = ["keras-jax", "keras-tensorflow", "keras-torch", "keras-openvino", "torch", "jax", "tensorflow", "onnxruntime",
       "openvino"]
OPTIONAL = {"keras-openvino", "onnxruntime", "openvino"}  # extras: skipped with their install hint when missing
# framework -> the compile modes planned when none is asked for: both where they differ, one where a mode means nothing
MODES = {"keras-jax": ["jit"], "keras-tensorflow": ["none", "jit"], "keras-torch": ["none"],
         "keras-openvino": ["none"], "torch": ["none", "jit"], "jax": ["jit"], "tensorflow": ["none", "jit"],
         "onnxruntime": ["none"], "openvino": ["none"]}
NODE = {"host": "testhost", "device": "cpu: test"}


def build(**values):
    return suites.build({}, values)


# -- planning -------------------------------------------------------------------------------------------------------

def test_registries_know_the_inference_workload_and_only_it_lists_inference_only_frameworks():
    assert workloads.is_inference("resnet50_features") and "resnet50_features" in workloads.WORKLOAD_IDS
    assert workloads.implementations("resnet50_features") == ALL
    assert workloads.get("resnet50_features").SPEC.kind == "inference"
    for framework_id in OPTIONAL:
        assert frameworks.get(framework_id).inference_only
    assert frameworks.get("onnxruntime").install_hint() == "pip install 'dlbench[torch,onnxruntime]'"
    assert frameworks.get("openvino").install_hint() == "pip install 'dlbench[torch,openvino]'"
    # `all` for training: the six, then any legacy framework with its own mnist_mlp (never an inference-only one)
    training = {t.framework for t in suites.plan(build(workloads=["mnist_mlp"], frameworks=["all"], repeats=1))}
    six = {"keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax", "tensorflow"}
    assert six <= training and all(frameworks.get(f).environment is not None for f in training - six)


def test_default_plan_runs_every_compile_mode_that_differs_once_on_the_cpu_sweep():
    trials = suites.plan(build(workloads=["resnet50_features"], frameworks=["all"], device="cpu", threads=2))
    planned = {}
    for trial in trials:
        if trial.repeat == 0:
            planned.setdefault(trial.framework, []).append(trial.settings["compile"])
    assert {f: sorted(modes) for f, modes in planned.items()} == {f: sorted(modes) for f, modes in MODES.items()}
    assert {t.repeat for t in trials} == {0, 1, 2}  # three processes each, as for training
    settings = trials[0].settings
    assert settings["batch_sizes"] == [1, 8, 32] and settings["samples"] == 64 and settings["epochs"] == 3
    assert len({t.key for t in trials}) == len(trials)  # the compile mode is part of the trial key
    assert all(json.loads(t.key)["settings"]["compile"] == t.settings["compile"] for t in trials)


def test_asked_compile_modes_map_onto_the_modes_a_framework_has():
    trials = suites.plan(build(workloads=["resnet50_features"], frameworks=["torch", "jax", "onnxruntime"],
                               compile=["jit"], batch_size=4, samples=8, repeats=2))
    assert sorted((t.framework, t.settings["compile"], t.repeat) for t in trials) == sorted([
        ("torch", "jit", 0), ("jax", "jit", 0), ("onnxruntime", "none", 0),
        ("torch", "jit", 1), ("jax", "jit", 1), ("onnxruntime", "none", 1)])
    assert trials[0].settings["batch_sizes"] == [4] and trials[0].settings["samples"] == 8
    both = suites.plan(build(workloads=["resnet50_features"], frameworks=["tensorflow"], compile=["none", "jit"]))
    assert sorted(t.settings["compile"] for t in both if t.repeat == 0) == ["jit", "none"]
    assert spec.sweep("gpu") == ([1, 8, 32, 64], 1280)


def test_the_gpu_check_runs_in_strict_fp32_through_a_second_predictor_where_precision_is_built_in():
    """TensorFlow's traced programs and ONNX Runtime's sessions fix TF32 when built: on a GPU that ran TF32 their
    feature check gets a second predictor built with tf32 = False; torch and jax switch their flags around the same
    predict (check_precision); a CPU, an FP32 run or an unknown precision keep the timed predictor."""
    from dlbench.inference.runtime_settings import check_predictor

    built = []

    def build(tf32):
        built.append(tf32)
        return "strict predict", "layout", {}
    for runtime in ("tensorflow", "tensorflow-xla", "keras-tensorflow", "onnxruntime"):
        assert check_predictor(runtime, "gpu", "tf32", build)[0] == "strict predict"
    assert built == [False] * 4
    assert check_predictor("torch", "gpu", "tf32", build) == (None, None)
    assert check_predictor("tensorflow", "gpu", "fp32", build) == (None, None)
    assert check_predictor("tensorflow", "cpu", "fp32", build) == (None, None)
    assert check_predictor("onnxruntime", "gpu", "unknown: onnxruntime reports no use_tf32 option", build) == (None,
                                                                                                          None)
    assert len(built) == 4


def test_compile_is_checked_and_training_trials_keep_their_settings():
    with pytest.raises(suites.SuiteError, match="compile = 'fast' is not valid: expected none or jit"):
        build(workloads=["resnet50_features"], compile="fast")
    both = suites.plan(build(workloads=["mnist_mlp"], frameworks=["torch"], compile=["none", "jit"], repeats=1))
    assert [t.settings["compile"] for t in both] == ["none", "jit"]  # training compile modes (tests/test_tiers.py)
    (trial,) = suites.plan(build(workloads=["mnist_mlp"], frameworks=["torch"], compile="none", repeats=1))
    assert trial.settings["compile"] == "none" and trial.settings["batch_size"] == 128
    assert "batch_sizes" not in trial.settings  # training trials keep their settings


def test_bad_input_is_a_one_line_error(tmp_path):
    store = tmp_path / "s.sqlite"
    check_one_line_error(dlbench("run", "--workloads", "resnet50_features", "--frameworks", "tensorrt", "--store",
                                 store), 2, "unknown framework 'tensorrt'", "onnxruntime", "openvino")
    check_one_line_error(dlbench("run", "--workloads", "mnist_mlp", "--frameworks", "onnxruntime", "--store", store),
                         2, "mnist_mlp has no onnxruntime version")
    check_one_line_error(dlbench("run", "--workloads", "resnet50_features", "--compile", "fastest", "--store", store),
                         2, "compile = ['fastest'] is not valid")
    assert not store.exists()


# -- summary and skips on stored results ----------------------------------------------------------------------------

def inference_trial(framework, mode="none"):
    (trial,) = [t for t in suites.plan(build(workloads=["resnet50_features"], frameworks=[framework], samples=4,
                                             batch_size=2, threads=1, repeats=1)) if t.settings["compile"] == mode]
    return trial


def test_summary_gives_images_per_second_with_intervals_and_verdicts(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    suite_id = store.begin_suite("s", {})
    speeds = (1.0, 1.1, 0.95)  # each repeat (process) its own speed
    passes = {"torch": [0.4, 0.5, 0.6], "onnxruntime": [0.8, 1.0, 1.2]}
    for repeat, speed in enumerate(speeds):
        for framework, seconds in passes.items():
            run_id = store.start_run(suite_id, replace(inference_trial(framework), repeat=repeat), NODE)
            store.apply_events(run_id, [
                {"event": "first_result", "runtime": framework, "compile": "eager", "first_result_seconds": 3.0},
                {"event": "inference", "batch_size": 2, "images": 4, "passes": 3,
                 "pass_seconds": [speed * s for s in seconds], "latency_p50": 0.25, "latency_p90": 0.3,
                 "latency_p99": 0.35},
                {"event": "check", "images": 2, "max_relative_error": 3e-6, "tolerance": 1e-4, "ok": True},
                {"event": "end", "status": "ok"}])
    rows = inference_summary.summarize(store.runs(), store.inference([r["id"] for r in store.runs()]))
    torch_row, ort_row = rows
    typical = np.exp(np.mean(np.log([0.5 * s for s in speeds])))  # geometric mean of the repeats' mean pass
    assert torch_row.items_per_second.estimate == pytest.approx(4 / typical)
    assert ort_row.items_per_second.estimate == pytest.approx(2 / typical)
    seconds = torch_row.pass_seconds
    assert (torch_row.items_per_second.low, torch_row.items_per_second.high) == pytest.approx(
        (4 / seconds.high, 4 / seconds.low))  # the bounds of the pass time, inverted
    assert torch_row.fastest and not ort_row.fastest and ort_row.ratio.estimate == pytest.approx(2.0)
    assert ort_row.ratio.low > 1 and ort_row.verdict == "slower"
    assert torch_row.check_ok and torch_row.first_result_seconds == 3.0 and torch_row.latency_p99 == pytest.approx(0.35)
    # One repeat: an interval over its passes, within-process only, and no verdict.
    (one_torch, one_ort) = inference_summary.summarize(
        [r for r in store.runs() if r["repeat"] == 0], store.inference([r["id"] for r in store.runs()]))
    assert not one_torch.items_per_second.across_repeats and one_ort.verdict == "inconclusive"


def test_a_missing_runtime_is_recorded_skipped_with_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(frameworks.get("openvino"), "packages", ["torch", "dlbench_no_such_module"])
    store = Store(tmp_path / "s.sqlite")
    suite_id = store.begin_suite("s", {})
    assert executor.run_trial(inference_trial("openvino"), store, suite_id, NODE) == "skipped"
    (run,) = store.runs()
    assert run["status"] == "skipped"
    assert run["error"] == ("openvino is not installed (missing dlbench_no_such_module): "
                            "pip install 'dlbench[torch,openvino]'")
    (row,) = inference_summary.summarize(store.runs(), store.inference([run["id"]]))
    assert row.statuses == {"skipped": 1} and row.items_per_second is None and row.errors == [run["error"]]


# -- one real run of every runtime ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("r50")
    store = folder / "r50.sqlite"
    result = dlbench("run", "--workloads", "resnet50_features", "--frameworks", "all", "--device", "cpu",
                     "--samples", "2", "--batch-size", "1", "--epochs", "2", "--threads", "1", "--repeats", "1",
                     "--store", store, timeout=1500)
    return result, store, folder


def test_every_runtime_runs_through_the_cli_with_a_passing_check(tiny_run):
    result, store_path, _ = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    store = Store(store_path)
    runs = store.runs()
    planned = sorted((f, m) for f, modes in MODES.items() for m in modes)
    assert sorted((r["framework"], r["settings"]["compile"]) for r in runs) == planned
    results = store.inference([r["id"] for r in runs])
    for run in runs:
        framework = run["framework"]
        if framework in OPTIONAL and run["status"] == "skipped":
            assert "pip install 'dlbench[" in run["error"]
            continue
        if framework not in OPTIONAL:
            require_framework(framework)
        assert run["status"] == "ok", (framework, run["error"], run["detail"])
        assert run["params_total"] == spec.PARAMS and run["params_trainable"] == spec.TRAINABLE_PARAMS
        assert run["peak_host_bytes"] > 100 * 2 ** 20
        env = run["env"]
        assert env["roundtrip"] is True  # the weights exported back from the model are the canonical arrays
        if framework in ("onnxruntime", "openvino"):
            assert "TorchScript" in env["exporter"]
        # One thread (on CI's two cores each runtime's default is two, so a setting that did not take shows)
        assert env["threads_requested"] == 1 and len(env["cpu_affinity"]) == 1 and env["thread_settings"]
        assert env["compile_requested"] == run["settings"]["compile"] and env["compile"]
        # One input rule (the runtime's own array on its device, placed once) and strict FP32 on a CPU.
        assert env["input_placement"] == "device: resident" and env["matmul_precision"] == "fp32"
        measured = results[run["id"]]
        assert measured["check_ok"] == 1 and measured["max_relative_error"] <= spec.RELATIVE_TOLERANCE
        assert measured["first_result_seconds"] > 0
        (batch,) = measured["batches"]
        assert batch["batch_size"] == 1 and batch["images"] == 2 and batch["passes"] == 2
        assert len(batch["pass_seconds"]) == 2 and all(s > 0 for s in batch["pass_seconds"])
        assert batch["items_per_second"] > 0 and batch["latency_p50"] <= batch["latency_p99"]
    runtimes_run = {results[r["id"]]["runtime"] for r in runs if r["id"] in results}
    assert {"torch", "torch-compile", "tensorflow", "tensorflow-xla"} <= runtimes_run
    rows = inference_summary.summarize(runs, results)
    for row in rows:
        if row.items_per_second is not None:
            ips = row.items_per_second
            assert ips.estimate > 0 and ips.low is not None and ips.low <= ips.estimate <= ips.high
            assert row.ratio is not None
    assert sum(row.fastest for row in rows) == 1
    for label in ("keras-tensorflow (jit)", "torch (jit)", "tensorflow (jit)", "jax (jit)", "keras-torch"):
        assert label in result.stdout
    assert "images/s" in result.stdout and "[95% CI]" in result.stdout
    # Piped, the table is 100 columns wide unless its figures need more (a loaded machine's wide intervals: 103 seen
    # under two test processes), and then it widens rather than cut one (test_cli checks the widths themselves).
    assert "…" not in result.stdout
    assert " ok" in result.stdout and "FAILED" not in result.stdout


def test_results_and_report_show_the_inference_rows(tiny_run):
    result, store_path, folder = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    shown = dlbench("results", "--store", store_path, "--json")
    assert shown.returncode == 0, shown.stderr
    rows = [r for r in json.loads(shown.stdout) if r.get("kind") == "inference"]
    ok = [r for r in rows if r["items_per_second"]]
    assert ok and all(r["items_per_second"]["estimate"] > 0 and r["check_ok"] for r in ok)
    text = dlbench("results", "--store", store_path)
    assert text.returncode == 0 and "resnet50_features  (cpu, 2 images, batch sizes 1, 1 thread" in text.stdout
    report = dlbench("report", "--store", store_path, "--out", folder / "report", "--no-features")
    assert report.returncode == 0, report.stderr
    markdown = (folder / "report" / "report.md").read_text()
    assert "## Inference" in markdown and "resnet50_features-inference-throughput" in markdown
    assert "| torch (jit) | 1 |" in markdown
    with sqlite3.connect(store_path) as db:  # the training sections do not list the inference runs
        assert db.execute("SELECT count(*) FROM epochs").fetchone()[0] == 0
