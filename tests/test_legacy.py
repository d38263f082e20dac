"""The seed articles' frameworks, each in its own environment (#10): `dlbench setup` through the real CLI into a
fresh environments folder, then real trials in that environment.

In CI (2 cores): every legacy framework is set up from scratch (about 2.5 minutes for all nine with pip's cache
warm) and learns real MNIST in one mnist_mlp trial. The four Rosetta workloads in every legacy framework take
about half an hour more on two cores, most of it Theano compiling C: they are marked slow (`make test-slow`).
Under CI=true a framework that cannot be set up here is a failure (all of them install on this kind of machine)."""
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


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module", params=LEGACY)
def legacy(request, environments_folder, monkeypatch_module):
    """The framework id, once `dlbench setup` has made its environment in the session's folder."""
    framework_id = request.param
    monkeypatch_module.setenv("DLBENCH_ENVS", environments_folder)
    setup = dlbench("setup", framework_id, timeout=1800)
    if setup.returncode != 0:
        message = f"dlbench setup {framework_id} failed: {setup.stderr.strip()[-600:]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return framework_id


def trials(framework_id, store_path, workload_ids, data, samples):
    result = dlbench("run", "--workloads", ",".join(workload_ids), "--frameworks", framework_id, "--data", data,
                     "--samples", samples, "--epochs", 2, "--repeats", 1, "--threads", 2, "--store", store_path,
                     "--json", timeout=2400)
    assert result.returncode == 0, result.stderr[-2000:]
    store = Store(store_path)
    runs = store.runs()
    return runs, store.epochs([r["id"] for r in runs])


def assert_ran_in_its_environment(framework_id, run):
    assert run["status"] == "ok", (run["workload"], run["error"], run["detail"])
    spec = workloads.get(run["workload"]).SPEC
    assert (run["params_total"], run["params_trainable"]) == (spec.params, spec.trainable_params), run["workload"]
    env = run["env"]
    assert env["python"].startswith(frameworks.get(framework_id).environment.python + "."), env["python"]
    # only its own framework: the parent's site-packages never leak into the environment
    assert not set(env["imported"]) & set(MODERN_MODULES), env["imported"]
    assert env["denormals_flushed"] is True, "every framework flushes denormals (WORKLOADS.md rule 10)"


def test_setup_is_idempotent_and_listed_ready(legacy):
    again = dlbench("setup", legacy)
    assert again.returncode == 0, again.stderr
    assert "already set up" in again.stdout
    listing = json.loads(dlbench("list", "--json").stdout)
    (entry,) = [f for f in listing["frameworks"] if f["id"] == legacy]
    assert entry["installed"] and entry["environment"]["state"] == "ready" and entry["version"]
    assert os.path.isfile(os.path.join(os.environ["DLBENCH_ENVS"], legacy, "dlbench-environment.json"))


def test_learns_real_mnist_in_its_environment(legacy, tmp_path):
    """Chance is 10%: two epochs on 2,000 real digits reach well above 80% in every framework."""
    (run,), epochs = trials(legacy, tmp_path / "real.sqlite", ["mnist_mlp"], "small", 2500)
    assert_ran_in_its_environment(legacy, run)
    steps = epochs[run["id"]]
    assert [e["epoch"] for e in steps] == [1, 2]
    assert steps[-1]["val_accuracy"] > 0.8 and steps[-1]["loss"] < steps[0]["loss"]


@pytest.mark.slow
def test_every_rosetta_workload_runs_to_the_spec(legacy, tmp_path):
    assert [w for w in ROSETTA if legacy in workloads.implementations(w)] == ROSETTA
    runs, epochs = trials(legacy, tmp_path / "rosetta.sqlite", ROSETTA, "synthetic", 128)
    assert sorted(r["workload"] for r in runs) == sorted(ROSETTA)
    for run in runs:
        assert_ran_in_its_environment(legacy, run)
        assert [e["epoch"] for e in epochs[run["id"]]] == [1, 2]
        if workloads.get(run["workload"]).SPEC.recurrent:
            assert run["rnn_kernel"], f"{legacy} {run['workload']}: no recurrent kernel recorded"
