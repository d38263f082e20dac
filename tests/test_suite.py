import json
import re

import pytest

from dlbench import machine, suite as suites
from dlbench.suite import SuiteError


def build(**flags):
    return suites.build({}, flags)


def test_bundled_default_suite_is_the_readme_one():
    suite = suites.build(suites.load_file("default"), {})
    assert suite.workloads == ("mnist_mlp",) and suite.data == "small" and suite.repeats == 3
    assert suite.budget == 300.0 and suite.max_repeats == 20  # repeats added until decided, within 5 minutes
    trials = suites.plan(suite)
    assert len(trials) == 18 and all(t.settings["adaptive"] for t in trials)
    assert {t.framework for t in trials} == {"keras-jax", "keras-tensorflow", "keras-torch", "torch", "jax",
                                               "tensorflow"}


def test_flags_override_the_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('workloads = ["mnist_mlp"]\nepochs = 4\nrepeats = 2\n')
    suite = suites.build(suites.load_file(str(path)), {"epochs": 1, "samples": None})
    assert suite.epochs == 1 and suite.repeats == 2 and suite.name == "s"


@pytest.mark.parametrize("text, message", [
    ('workloads = ["mnist_mlp"]\nepoch = 3\n', "unknown key 'epoch'"),
    ('workloads = ["mnist_mlp"]\nepochs = "3"\n', "epochs = '3' is not valid"),
    ('workloads = ["mnist_mlp"]\nepochs = -1\n', "epochs = -1 is not valid"),
    ('workloads = ["mnist_mlp"]\nbatch_size = 0\n', "batch_size = 0 is not valid"),
    ('workloads = ["mnist_mlp"]\nrepeats = true\n', "repeats = True is not valid"),
    ('workloads = ["mnist_mlp"]\ndata = "huge"\n', "one of real, synthetic, small"),
    ('workloads = "mnist_mlp"\n', "workloads = 'mnist_mlp' is not valid"),
    ('workloads = [\n', "is not valid TOML"),
])
def test_broken_suite_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SuiteError, match=message.replace("[", r"\[")) as info:
        suites.load_file(str(path))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("flags, message", [
    ({"frameworks": ["torch", "torch"]}, "frameworks: torch listed more than once"),
    ({"workloads": ["mnist_mlp", "mnist_mlp"]}, "workloads: mnist_mlp listed more than once"),
    ({"repeats": 10 ** 20}, "repeats = 100000000000000000000 is not valid: expected a positive integer of at most 1000"),
    ({"seed": 5_000_000_000}, "seed = 5000000000 is not valid: expected a non-negative integer below 2"),
    ({"threads": 1000}, "threads = 1000: this machine lets dlbench use"),
])
def test_impossible_suites_are_refused_before_any_trial(flags, message):
    with pytest.raises(SuiteError, match=re.escape(message)):
        build(**{"workloads": ["mnist_mlp"], **flags})


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(SuiteError, match=r"unknown workload 'mnist_mpl' \(did you mean mnist_mlp\?\): choose from "
                                         ".*mnist_mlp"):
        build(workloads=["mnist_mpl"])
    with pytest.raises(SuiteError, match=r"unknown framework 'pytorch' \(did you mean torch\?\): choose from "
                                         "keras-jax, .*tensorflow"):
        build(workloads=["mnist_mlp"], frameworks=["pytorch"])
    with pytest.raises(SuiteError, match="unknown framework 'xyz': choose from"):  # nothing close: no guess
        build(workloads=["mnist_mlp"], frameworks=["xyz"])
    with pytest.raises(SuiteError, match="no suite file"):
        suites.load_file("no-such-suite")
    with pytest.raises(SuiteError, match="no workloads given"):
        build()


def test_plan_expands_repeats_in_rounds_with_workload_defaults():
    suite = build(workloads=["mnist_mlp"], frameworks=["torch", "jax", "tensorflow"], repeats=8, threads=1)
    trials = suites.plan(suite)
    rounds = [trials[i:i + 3] for i in range(0, 24, 3)]
    for repeat, members in enumerate(rounds):  # each round: every trial once, with that repeat's seed
        assert sorted(t.framework for t in members) == ["jax", "tensorflow", "torch"]
        assert {t.repeat for t in members} == {repeat} and {t.settings["seed"] for t in members} == {repeat}
    # A seeded random order within each round: not the same order every round, the same plan every time.
    assert len({tuple(t.framework for t in members) for members in rounds}) > 1
    assert [t.key for t in suites.plan(suite)] == [t.key for t in trials]
    assert all(t.settings["epochs"] == 20 and t.settings["batch_size"] == 128 for t in trials)
    assert "adaptive" not in trials[0].settings  # fixed repeats: no budget


@pytest.mark.parametrize("given, seconds", [("10m", 600.0), ("90", 90.0), ("90s", 90.0), (300, 300.0),
                                            ("1.5h", 5400.0)])
def test_budget_is_a_duration(given, seconds):
    assert build(workloads=["mnist_mlp"], budget=given).budget == seconds


@pytest.mark.parametrize("values, message", [({"budget": "ten minutes"}, "budget = 'ten minutes' is not valid"),
                                             ({"budget": 0}, "budget = 0 is not valid"),
                                             ({"max_repeats": 1}, "max_repeats = 1 is not valid")])
def test_bad_budgets_are_one_line_errors(values, message):
    with pytest.raises(SuiteError, match=message):
        build(workloads=["mnist_mlp"], **values)


def test_threads_default_to_the_cpus_available():
    assert build(workloads=["mnist_mlp"]).threads == machine.available_cpus()


def test_trial_key_is_canonical_and_names_what_identifies_a_trial():
    (a, b) = suites.plan(build(workloads=["mnist_mlp"], frameworks=["torch"], repeats=2))
    key = json.loads(a.key)
    assert key["workload"] == "mnist_mlp" and key["framework"] == "torch" and key["repeat"] == 0
    assert {"device", "precision", "compile", "tier", "batch_size", "data", "samples"} <= set(key["settings"])
    assert "seed" not in key["settings"]
    assert a.key != b.key
    again = suites.plan(build(workloads=["mnist_mlp"], frameworks=["torch"], repeats=2))[0]
    assert again.key == a.key


def test_gpu_device_without_a_gpu_is_an_error_before_any_trial():
    if machine.gpus():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SuiteError, match="no NVIDIA GPU"):
        build(workloads=["mnist_mlp"], device="gpu")
    assert build(workloads=["mnist_mlp"], device="auto").device == "cpu"


def test_per_workload_timeouts_from_a_suite_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('workloads = ["mnist_mlp"]\nframeworks = ["torch"]\ntimeout = 100\n'
                    '[timeouts]\nmnist_mlp = 5\n')
    (trial,) = suites.plan(suites.build(suites.load_file(str(path)), {"repeats": 1}))
    assert trial.timeout == 5
    assert "timeout" not in json.loads(trial.key)["settings"]  # how long it may run is not what it is
    path.write_text('workloads = ["mnist_mlp"]\n[timeouts]\nmnist_mpl = 5\n')
    with pytest.raises(SuiteError, match="unknown workload 'mnist_mpl'"):
        suites.build(suites.load_file(str(path)), {})
    path.write_text('workloads = ["mnist_mlp"]\n[timeouts]\nmnist_mlp = -5\n')
    with pytest.raises(SuiteError, match="timeouts = .* is not valid: expected a table of workload ids"):
        suites.load_file(str(path))


def test_every_bundled_suite_plans():
    """A bundled suite file that names a framework without a version of a workload would fail at `dlbench run`."""
    for path in sorted(suites.BUNDLED.glob("*.toml")):
        trials = suites.plan(suites.build(suites.load_file(path.stem), {}))
        assert trials, path.name
    legacy = suites.plan(suites.build(suites.load_file("legacy"), {}))
    assert len({t.framework for t in legacy}) == 15 and len({t.workload for t in legacy}) == 4
