"""The seed articles' frameworks, each in its own environment (#10): `dlbench setup` through the real CLI into a
fresh environments folder, then the Rosetta workloads in real trials, and a learning check on real MNIST.

One module-scoped run per framework; each test reads what it stored. Under CI=true a framework that cannot be set
up here is a failure (all of them were seen to install on this kind of machine)."""
import json
import os

import pytest

from dlbench import frameworks, workloads
from dlbench.store import Store

from conftest import IN_CI, dlbench

LEGACY = [f.id for f in frameworks.FRAMEWORKS.values() if f.environment is not None]
ROSETTA = ["mnist_mlp", "mnist_cnn", "cifar10_vgg", "imdb_gru"]
MODERN_MODULES = ("torch", "jax", "tensorflow", "flax", "optax")


@pytest.fixture(scope="session")
def environments_folder(tmp_path_factory):
    """A fresh folder for the whole session: setup builds every environment here, as on a new machine."""
    return str(tmp_path_factory.mktemp("envs"))


@pytest.fixture(scope="module", params=LEGACY)
def legacy(request, environments_folder, tmp_path_factory, monkeypatch_module):
    framework_id = request.param
    monkeypatch_module.setenv("DLBENCH_ENVS", environments_folder)
    setup = dlbench("setup", framework_id, timeout=1800)
    if setup.returncode != 0:
        message = f"dlbench setup {framework_id} failed: {setup.stderr.strip()[-600:]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    chosen = [w for w in ROSETTA if framework_id in workloads.implementations(w)]
    folder = tmp_path_factory.mktemp(framework_id)
    store_path = folder / "dlbench.sqlite"
    run = dlbench("run", "--workloads", ",".join(chosen), "--frameworks", framework_id, "--data", "synthetic",
                  "--samples", 128, "--epochs", 2, "--repeats", 1, "--threads", 2, "--store", store_path, "--json", timeout=1800)
    store = Store(store_path)
    runs = store.runs()
    return {"id": framework_id, "setup": setup, "run": run, "runs": runs, "workloads": chosen,
            "epochs": store.epochs([r["id"] for r in runs]), "folder": folder}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_setup_is_idempotent_and_listed_ready(legacy):
    again = dlbench("setup", legacy["id"])
    assert again.returncode == 0, again.stderr
    assert "already set up" in again.stdout
    listing = json.loads(dlbench("list", "--json").stdout)
    (entry,) = [f for f in listing["frameworks"] if f["id"] == legacy["id"]]
    assert entry["installed"] and entry["environment"]["state"] == "ready" and entry["version"]


def test_every_rosetta_workload_is_implemented(legacy):
    assert legacy["workloads"] == ROSETTA


def test_trials_run_in_the_framework_environment(legacy):
    assert legacy["run"].returncode == 0, legacy["run"].stderr[-2000:]
    framework = frameworks.get(legacy["id"])
    assert {r["workload"] for r in legacy["runs"]} == set(legacy["workloads"])
    for run in legacy["runs"]:
        assert run["status"] == "ok", (run["workload"], run["error"], run["detail"])
        spec = workloads.get(run["workload"]).SPEC
        assert (run["params_total"], run["params_trainable"]) == (spec.params, spec.trainable_params), run["workload"]
        env = run["env"]
        assert env["python"].startswith(framework.environment.python + "."), env["python"]
        # only its own framework: the parent's site-packages never leak into the environment
        assert not set(env["imported"]) & set(MODERN_MODULES), env["imported"]
        assert [e["epoch"] for e in legacy["epochs"][run["id"]]] == [1, 2]
        if spec.recurrent:
            assert run["rnn_kernel"], f"{legacy['id']} {run['workload']}: no recurrent kernel recorded"


def test_learns_real_mnist(legacy, tmp_path):
    """Chance is 10%: two epochs on 2,000 real digits reach well above 80% in every framework."""
    store_path = tmp_path / "real.sqlite"
    result = dlbench("run", "--workloads", "mnist_mlp", "--frameworks", legacy["id"], "--data", "small",
                     "--samples", 2500, "--epochs", 2, "--repeats", 1, "--threads", 2, "--store", store_path, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = Store(store_path).runs()
    assert run["status"] == "ok", (run["error"], run["detail"])
    epochs = Store(store_path).epochs([run["id"]])[run["id"]]
    assert epochs[-1]["val_accuracy"] > 0.8 and epochs[-1]["loss"] < epochs[0]["loss"]


def test_environment_folder_is_the_one_given(legacy, environments_folder):
    assert os.path.isfile(os.path.join(environments_folder, legacy["id"], "dlbench-environment.json"))
