"""Per-framework environments (dlbench.environments): a real venv made by real pip, reused when ready, rebuilt
when its recipe changes, and one-line errors when the interpreter or a system library is missing."""
import json
import os
import re
import subprocess
import sys

import pytest

from dlbench import environments, frameworks
from dlbench.environments import Environment, Library, SetupError

from conftest import dlbench

HERE = "%d.%d" % sys.version_info[:2]


def tiny(framework_id="tiny", **overrides):
    """A framework whose environment is this Python plus one small package: the machinery, without a big wheel."""
    recipe = dict(python=HERE, steps=[["six==1.16.0"]], imports=["six"])
    recipe.update(overrides)
    return frameworks.Framework(framework_id, "test environment", ["six"], ["six"], [], None,
                                environment=Environment(**recipe))


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(environments.FOLDER_VARIABLE, str(tmp_path / "envs"))
    return tmp_path / "envs"


def test_setup_builds_reuses_and_rebuilds(folder):
    framework = tiny()
    assert environments.state(framework) == ("not set up", "dlbench setup tiny")
    assert framework.missing() == ["six"] and framework.install_hint() == "dlbench setup tiny"
    lines = []
    where = environments.setup(framework, say=lines.append)
    assert where == str(folder / "tiny") and environments.is_ready(framework)
    assert environments.state(framework) == ("ready", where)
    assert framework.missing() == [] and framework.versions() == {"six": "1.16.0"}
    record = environments.marker("tiny")
    assert record["python_version"] == HERE and record["fingerprint"] == framework.environment.fingerprint()

    # Ready: nothing is rebuilt (the folder's files are untouched).
    stamp = os.stat(folder / "tiny" / environments.MARKER).st_mtime_ns
    environments.setup(framework, say=lines.append)
    assert "already set up" in lines[-1]
    assert os.stat(folder / "tiny" / environments.MARKER).st_mtime_ns == stamp

    # A changed recipe makes it stale: not ready until set up again, never silently reused.
    changed = tiny(steps=[["six==1.17.0"]])
    assert not environments.is_ready(changed) and environments.state(changed)[0] == "not set up"
    environments.setup(changed, say=lines.append)
    assert changed.versions() == {"six": "1.17.0"}


def test_worker_in_an_environment_sees_only_dlbench_and_its_own_packages(folder):
    framework = tiny()
    environments.setup(framework, say=lambda line: None)
    env = dict(os.environ, **environments.worker_variables(framework))
    env.pop("VIRTUAL_ENV", None)
    probe = ("import dlbench.worker.protocol, six\n"
             "try:\n    import numpy\nexcept ImportError:\n    print('no numpy')\n"
             "import sys; print(sys.prefix)")
    done = subprocess.run([environments.interpreter("tiny"), "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # numpy is in dlbench's own venv but not in this environment: the parent's site-packages do not leak in.
    assert done.stdout.splitlines() == ["no numpy", str(folder / "tiny")]


def test_failed_pip_step_leaves_no_environment(folder):
    framework = tiny(steps=[["six==0.0.0-no-such-release"]])
    with pytest.raises(SetupError) as raised:
        environments.setup(framework, say=lambda line: None)
    message = str(raised.value)
    assert "pip install six==0.0.0-no-such-release failed" in message and "tiny.setup.log" in message
    assert "\n" not in message
    assert not (folder / "tiny").exists() and environments.state(framework)[0] == "not set up"


def test_missing_interpreter_and_library_say_what_to_install(folder, tmp_path):
    framework = tiny(python="2.5")
    state, why = environments.state(framework)
    assert state == "cannot be set up here"
    assert why.startswith("no Python 2.5 interpreter found: install one (pyenv install 2.5") and "--python" in why
    with pytest.raises(SetupError, match="no Python 2.5 interpreter"):
        environments.setup(framework, say=lambda line: None)

    with pytest.raises(SetupError, match=r"--python .* is Python %s; this environment needs Python 2.5" % HERE):
        environments.find_python("2.5", sys.executable)
    with pytest.raises(SetupError, match="no such file"):
        environments.find_python(HERE, str(tmp_path / "python9"))

    needs_library = tiny(libraries=[Library("libnothing.so.1", "libnothing.so.99", "libnothing99")])
    assert environments.state(needs_library) == (
        "cannot be set up here", "needs libnothing.so.99, which is not installed: apt-get install libnothing99")
    with pytest.raises(SetupError, match="apt-get install libnothing99"):
        environments.setup(needs_library, say=lambda line: None)
    assert not (folder / "tiny").exists()


def test_library_links_are_made_in_the_environment(folder):
    present = next(name for name in ("libc.so.6", "libm.so.6") if Library("x", name, "libc6").find())
    framework = tiny(libraries=[Library("libwanted.so.1", present, "libc6")])
    environments.setup(framework, say=lambda line: None)
    link = folder / "tiny" / "lib-links" / "libwanted.so.1"
    assert link.is_symlink() and os.path.basename(os.path.realpath(link)).startswith(present.split(".so")[0])
    assert environments.worker_variables(framework)["LD_LIBRARY_PATH"].split(os.pathsep)[0] == str(link.parent)


def test_setup_command_errors_are_one_line(folder):
    unknown = dlbench("setup", "caffe3")
    assert unknown.returncode == 2 and "unknown framework 'caffe3'" in unknown.stderr
    modern = dlbench("setup", "torch")
    assert modern.returncode == 2 and "torch needs no environment of its own" in modern.stderr
    assert "pip install 'dlbench[torch]'" in modern.stderr
    several = dlbench("setup", "mxnet,theano", "--python", sys.executable)
    assert several.returncode == 2 and "one framework at a time" in several.stderr


def test_a_trial_of_a_framework_not_set_up_is_skipped_with_the_command(folder, tmp_path):
    store = tmp_path / "s.sqlite"
    result = dlbench("run", "--workloads", "mnist_mlp", "--frameworks", "mxnet", "--data", "synthetic",
                     "--samples", 64, "--epochs", 1, "--repeats", 1, "--threads", 1, "--store", store, "--json")
    from dlbench.store import Store
    (run,) = Store(store).runs()
    assert run["status"] == "skipped" and "dlbench setup mxnet" in run["error"], (result.stderr, run["error"])


def test_list_and_env_say_the_same_about_a_legacy_environment():
    """One function (environments.readiness) words an environment that is not ready, for both commands."""
    listing = json.loads(dlbench("list", "--json").stdout)
    messages = {f["id"]: f["environment"]["message"] for f in listing["frameworks"]
                if f["environment"] and f["environment"]["state"] != "ready"}
    if not messages:
        pytest.skip("every legacy environment is set up here: nothing to compare")
    listed, shown = dlbench("list").stdout, dlbench("env").stdout
    for framework_id, message in messages.items():
        assert re.search(rf"^{re.escape(framework_id)}\s+{re.escape(message)}", listed, re.M), message
        assert re.search(rf"^\s+{re.escape(framework_id)}\s+{re.escape(message)}", shown, re.M), message
