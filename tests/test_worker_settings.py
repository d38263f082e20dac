"""The worker's typed trial settings (dlbench.worker.settings): every default held once."""
import pytest

from dlbench.worker.settings import DEFAULTS, REQUIRED, TrialSettings


def test_defaults_are_filled_in_once():
    settings = TrialSettings.from_dict({"device": "cpu", "threads": 2, "seed": 7, "data": "small"})
    assert (settings.precision, settings.compile, settings.tier) == ("fp32", "auto", "default")
    assert settings.samples is None and settings.tf32 is None and settings.layout is None
    assert (settings.device, settings.threads, settings.seed, settings.data) == ("cpu", 2, 7, "small")
    assert set(settings.as_dict()) == {name for name, _ in DEFAULTS}


def test_what_the_trial_says_wins_and_unknown_keys_are_passed_over():
    settings = TrialSettings.from_dict({"device": "gpu", "threads": 1, "seed": 0, "precision": "bf16",
                                        "samples": None, "tf32": False, "from_a_newer_parent": 1})
    assert settings.precision == "bf16" and settings.tf32 is False and settings.samples is None
    assert not hasattr(settings, "from_a_newer_parent")


@pytest.mark.parametrize("missing", REQUIRED)
def test_a_missing_required_setting_is_a_key_error(missing):
    given = {"device": "cpu", "threads": 1, "seed": 0}
    del given[missing]
    with pytest.raises(KeyError, match=missing):
        TrialSettings.from_dict(given)


def test_the_keyword_form_rejects_names_it_does_not_know():
    with pytest.raises(TypeError, match="precison"):
        TrialSettings(device="cpu", precison="bf16")


def test_every_planned_setting_is_declared():
    """What dlbench.suite.plan puts in a trial's settings (training and inference) is a field here."""
    from dlbench import suite as suites
    declared = {name for name, _ in DEFAULTS}
    for workload in ("mnist_mlp", "resnet50_features"):
        config = {"workloads": [workload], "frameworks": ["torch"], "tf32": False, "layout": "channels_last",
                  "cudnn_autotune": False}
        for trial in suites.plan(suites.build({}, config)):
            assert set(trial.settings) <= declared
