"""A user's own model file (`dlbench run --model`): the shipped examples run end to end on every framework of their
form, and every mistake in a file is one line: bad input found in the parent exits 2 with nothing written, a mistake
found in the worker is a failed trial with the user's traceback stored.

Sizes are the smallest that still train: one repeat, two epochs, a few hundred samples, one process per framework.
"""
import os

import pytest

from conftest import ROOT, dlbench, require_framework
from dlbench import suite as suites
from dlbench import executor, workloads
from dlbench.store import Store
from dlbench.summary import Row, parameter_mismatches

EXAMPLES = ROOT / "examples"
KERAS = ("keras-jax", "keras-tensorflow", "keras-torch")
SMALL = ("--repeats", 1, "--epochs", 2, "--samples", 256, "--threads", 1)

DATA = '''
def data():
    x = np.zeros((8, 4), "float32")
    return (x, np.zeros(8, "int64")), (x, np.zeros(8, "int64"))
'''


def model_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def plan_of(path, **flags):
    return suites.plan(suites.build({}, {"model": path, "repeats": 1, **flags}))


# --- The parent: the file read and checked without running it --------------------------------------------------------

@pytest.mark.parametrize("name, text, said", [
    ("syntax.py", "import torch\n\ndef build(:\n    pass\n", "syntax.py, line 3: invalid syntax"),
    ("nobuild.py", "import torch\n" + DATA, "defines no build(): a model file defines build() and data()"),
    ("nodata.py", "import keras\n\ndef build():\n    pass\n", "defines no data()"),
    ("neither.py", "import numpy as np\n\ndef build():\n    pass\n" + DATA, "imports neither keras nor torch"),
    ("batch.py", "import keras\nBATCH_SIZE = 2 * 16\n\ndef build():\n    pass\n" + DATA,
     "BATCH_SIZE must be a positive integer written as a number"),
    ("notes.txt", "import keras", "is not a Python file"),
])
def test_a_bad_file_is_one_line_before_any_trial(tmp_path, name, text, said):
    with pytest.raises(suites.SuiteError) as caught:
        suites.build({}, {"model": model_file(tmp_path, name, text)})
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_bad_input_exits_2_and_writes_no_store(tmp_path):
    store = tmp_path / "s.sqlite"
    for path in (tmp_path / "missing.py", model_file(tmp_path, "syntax.py", "import torch\ndef build(:\n")):
        result = dlbench("run", "--model", path, "--store", store)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "no model file" in dlbench("run", "--model", tmp_path / "missing.py", "--store", store).stderr
    assert not store.exists()


def test_the_plan_runs_a_keras_file_on_the_three_backends_keyed_by_its_content(tmp_path):
    path = model_file(tmp_path, "mine.py", "import keras\nBATCH_SIZE = 16\nEPOCHS = 3\n\ndef build():\n    pass\n"
                      + DATA)
    trials = plan_of(path)
    assert sorted(t.framework for t in trials) == sorted(KERAS)
    assert {t.workload for t in trials} == {"model:mine"}
    assert {(t.settings["batch_size"], t.settings["epochs"]) for t in trials} == {(16, 3)}
    # The user's arrays are laid out as Keras's default has them, keras-torch included (Conv2D takes NHWC there too).
    assert {t.settings["layout"] for t in trials} == {"channels_last"}
    assert {(t.settings["batch_size"], t.settings["epochs"]) for t in plan_of(path, batch_size=8, epochs=2)} == \
        {(8, 2)}
    # The content travels with the trial (a Ray node has no copy of the file); an edited file is a new trial.
    assert trials[0].for_worker()["model"]["source"] == open(path).read()
    with open(path, "a") as f:
        f.write("# edited\n")
    assert {t.key for t in plan_of(path)}.isdisjoint(t.key for t in trials)
    with pytest.raises(suites.SuiteError, match="is a Keras model file: it runs on keras-jax, keras-tensorflow, "
                                                "keras-torch, not torch"):
        plan_of(path, frameworks=["torch"])


def test_a_torch_file_runs_as_torch_in_every_compile_mode_asked(tmp_path):
    path = model_file(tmp_path, "net.py", "import torch\n\ndef build():\n    pass\n" + DATA)
    trials = plan_of(path, compile=["none", "jit"])
    assert sorted((t.framework, t.settings["compile"]) for t in trials) == [("torch", "jit"), ("torch", "none")]
    assert workloads.implementations("model:net") == ["torch"]


def test_a_parameter_count_that_differs_between_frameworks_is_shown():
    rows = [Row(workload="model:m", framework=f, settings={}, runs=1, statuses={"ok": 1}, epoch_seconds=None,
                params=p)
            for f, p in (("keras-jax", 1200), ("keras-tensorflow", 1200), ("keras-torch", 1212))]
    parameter_mismatches(rows)
    assert [r.warnings for r in rows[:2]] == [[], []]
    assert rows[2].warnings == ["1,212 parameters, where keras-jax, keras-tensorflow count 1,200: the model differs "
                                "between the frameworks"]


# --- The worker: the shipped examples, and the mistakes only running the file shows ----------------------------------

def runs_of(store):
    return Store(store).runs()


def test_the_keras_example_runs_on_every_keras_backend(tmp_path):
    for framework in KERAS:
        require_framework(framework)
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--model", EXAMPLES / "keras_model.py", *SMALL, "--store", store)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = runs_of(store)
    assert sorted(r["framework"] for r in runs) == sorted(KERAS)
    assert {r["status"] for r in runs} == {"ok"}
    assert {r["workload"] for r in runs} == {"model:keras_model"}
    assert len({r["params_total"] for r in runs}) == 1 and runs[0]["params_total"] == 20 * 64 + 64 + 64 * 64 + 64 \
        + 64 * 4 + 4
    epochs = Store(store).epochs([r["id"] for r in runs])
    assert all(len(e) == 2 and e[-1]["val_accuracy"] is not None for e in epochs.values())
    assert all(r["env"]["n_train"] == 256 for r in runs)  # --samples keeps the first 256 of data()'s 2,048
    assert "model:keras_model" in result.stdout and "keras-tensorflow" in result.stdout


def test_the_torch_example_runs_as_torch(tmp_path):
    require_framework("torch")
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--model", EXAMPLES / "torch_model.py", *SMALL, "--store", store)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = runs_of(store)
    assert (run["framework"], run["status"], run["env"]["compile_used"]) == ("torch", "ok", "eager")
    assert run["params_total"] == 20 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4
    assert len(Store(store).epochs([run["id"]])[run["id"]]) == 2


def test_the_worker_runs_the_content_the_trial_carries_not_the_file_at_its_path(tmp_path):
    """What --executor ray relies on: a node without the file (here: the path is gone) runs the trial's copy."""
    require_framework("torch")
    path = model_file(tmp_path, "gone.py", (EXAMPLES / "torch_model.py").read_text())
    (trial,) = plan_of(path, epochs=2, samples=64, threads=1)
    os.remove(path)
    store = Store(tmp_path / "s.sqlite")
    assert executor.run_trial(trial, store, store.begin_suite("t", {}), {"host": "h", "device": "cpu"}) == "ok"
    (run,) = store.runs()
    assert run["workload"] == "model:gone" and run["env"]["n_train"] == 64


MISTAKES = {
    "raises.py": ("import numpy as np\nimport torch\n\ndef build():\n    raise ValueError('no layer of size -3')\n"
                  + DATA, "raises.py: build() raised ValueError: no layer of size -3", "line 5, in build"),
    "single.py": ("import numpy as np\nimport torch\n\ndef build():\n    return torch.nn.Linear(4, 2)\n" + DATA,
                  "single.py: build() returned Linear: build() returns a compiled keras.Model", "Linear"),
    "shapes.py": ("import numpy as np\nimport torch\n\ndef build():\n    m = torch.nn.Linear(5, 2)\n"
                  "    return m, torch.optim.SGD(m.parameters(), lr=0.1), torch.nn.CrossEntropyLoss()\n" + DATA,
                  "shapes.py: data() does not fit the model: a forward pass and loss on 2 training samples raised "
                  "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x4 and 5x2)", "RuntimeError"),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_mistake_found_by_running_the_file_fails_its_trial_in_one_line(tmp_path, name):
    require_framework("torch")
    text, error, in_detail = MISTAKES[name]
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--model", model_file(tmp_path, name, text), "--repeats", 1, "--threads", 1,
                     "--store", store)
    assert result.returncode == 1
    (run,) = runs_of(store)
    assert run["status"] == "failed" and run["error"].startswith(error)
    assert in_detail in run["detail"]  # the user's own traceback, stored with the trial
    assert error[:40] in result.stderr


def test_a_keras_model_whose_input_does_not_fit_the_data_fails_in_one_line(tmp_path):
    require_framework("keras-jax")
    store = tmp_path / "s.sqlite"
    path = model_file(tmp_path, "wide.py", "import keras\nimport numpy as np\n\ndef build():\n"
                      "    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation='softmax')])\n"
                      "    m.compile('sgd', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n    return m\n"
                      + DATA)
    result = dlbench("run", "--model", path, "--frameworks", "keras-jax", "--repeats", 1, "--threads", 1,
                     "--store", store)
    assert result.returncode == 1
    (run,) = runs_of(store)
    assert run["error"] == "wide.py: data()'s training input 0 has samples of shape (4,) but the model's input " \
                           "takes (5,)"


# --- An unchanged Keras script (--script) ------------------------------------------------------------------------------

def test_a_script_is_planned_once_per_keras_backend_with_its_arguments_in_the_key(tmp_path):
    path = model_file(tmp_path, "train.py", "import keras\n")
    trials = suites.plan(suites.build({}, {"script": path, "script_args": ["--epochs", "3"], "repeats": 1}))
    assert sorted(t.framework for t in trials) == sorted(KERAS) and {t.workload for t in trials} == {"script:train"}
    assert all(t.settings["script_args"] == ["--epochs", "3"] and t.settings["epochs"] is None for t in trials)
    assert {t.settings["layout"] for t in trials} == {"channels_last"}  # Keras's default, as the script expects
    other = suites.plan(suites.build({}, {"script": path, "script_args": ["--epochs", "4"], "repeats": 1}))
    assert {t.key for t in other}.isdisjoint(t.key for t in trials)


@pytest.mark.parametrize("flags, said", [
    ({"epochs": 3}, "--epochs does not apply to --script: the script sets its own"),
    ({"precision": ["bf16"]}, "--precision does not apply to --script"),
    ({"script": None}, "are for a script: give --script FILE before them"),
])
def test_settings_a_script_decides_for_itself_are_refused(tmp_path, flags, said):
    values = {"script": model_file(tmp_path, "train.py", "import keras\n"), "script_args": ["--lr", "1"], **flags}
    with pytest.raises(suites.SuiteError, match=said):
        suites.build({}, values)


def test_the_keras_script_runs_unchanged_on_every_keras_backend(tmp_path):
    for framework in KERAS:
        require_framework(framework)
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--script", EXAMPLES / "keras_script.py", "--repeats", 1, "--threads", 1, "--store", store,
                     "--", "--epochs", 3, "--batch-size", 128)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = runs_of(store)
    assert sorted(r["framework"] for r in runs) == sorted(KERAS) and {r["status"] for r in runs} == {"ok"}
    epochs = Store(store).epochs([r["id"] for r in runs])
    for run in runs:
        assert [e["warmup"] for e in epochs[run["id"]]] == [1, 0, 0]  # the script's --epochs 3, through fit
        assert all(e["val_accuracy"] is not None and e["eval_seconds"] > 0 for e in epochs[run["id"]])
        assert run["env"]["script"]["args"] == ["--epochs", "3", "--batch-size", "128"]
        assert run["env"]["script"]["fit_calls"] == [{"samples": 2048, "epochs_seen": 3}]
        assert run["params_total"] == 20 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4


@pytest.mark.parametrize("text, error", [
    ("import keras\nprint('no training here')\n", "nofit.py never called fit()"),
    ("import sys\nimport keras\nsys.exit(3)\n", "nofit.py exited with code 3"),
])
def test_a_script_that_never_trains_or_exits_non_zero_fails_in_one_line(tmp_path, text, error):
    require_framework("keras-jax")  # the Keras backend that starts fastest (2.8 s against keras-torch's 5.4 s)
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--script", model_file(tmp_path, "nofit.py", text), "--frameworks", "keras-jax",
                     "--repeats", 1, "--threads", 1, "--store", store)
    assert result.returncode == 1
    (run,) = runs_of(store)
    assert run["status"] == "failed" and run["error"].startswith(error) and "\n" not in run["error"]
