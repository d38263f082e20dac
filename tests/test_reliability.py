"""Fault injection that really happens: real worker processes that raise, segfault, abort, exit early, are
SIGKILLed, exhaust memory under a limit, hang or diverge, and a dlbench parent that is itself SIGKILLed. Each
trial must end in the right status, and no result of any other trial may be lost.

The faults come from the test-only `fault` framework (src/dlbench/frameworks/fault_adapter.py), enabled by
DLBENCH_FAULTS=1: a real NumPy softmax regression that fails on purpose at its second epoch."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from dlbench.store import Store

from conftest import tmpfs

# trial i (seed i) gets fault i; each fault at epoch 2 of 4, so every faulty trial has one real epoch stored first
FAULTS = ["none", "raise", "segfault", "abort", "exit", "kill", "oom", "nan", "hang", "none"]
EXPECTED = {
    "none": ("ok", None),
    "raise": ("failed", "RuntimeError: injected fault: the framework raised"),
    "segfault": ("failed", "the worker was killed by signal 11 (SIGSEGV) before its final event"),
    "abort": ("failed", "the worker was killed by signal 6 (SIGABRT) before its final event"),
    "exit": ("failed", "the worker exited with code 3 before its final event"),
    "kill": ("failed", "the worker was killed by signal 9 (SIGKILL) before its final event"),
    "oom": ("oom", "MemoryError"),
    "nan": ("diverged", "training loss became nan in epoch 2"),
    "hang": ("timeout", "no result within the 15 s timeout: stopped"),
}


def fault_env(faults, **extra):
    return dict(os.environ, DLBENCH_FAULTS="1", DLBENCH_FAULT=",".join(faults), **extra)


def run_args(store, repeats, epochs=4, *more):
    return [sys.executable, "-m", "dlbench.cli", "run", "--workloads", "mnist_mlp", "--frameworks", "fault",
            "--data", "small", "--samples", "500", "--epochs", str(epochs), "--repeats", str(repeats),
            "--threads", "1", "--store", str(store), *more]


def test_the_fault_framework_is_hidden_from_users():
    listing = subprocess.run([sys.executable, "-m", "dlbench.cli", "list", "--json"], capture_output=True, text=True)
    assert "fault" not in [f["id"] for f in json.loads(listing.stdout)["frameworks"]]


def test_device_auto_says_where_it_runs(tmp_path):
    from dlbench import machine
    result = subprocess.run(run_args(tmp_path / "s.sqlite", 1, 1, "--device", "auto"), capture_output=True, text=True,
                            env=fault_env([]), timeout=300)
    assert result.returncode == 0, result.stderr
    where = "running on it" if machine.gpus() else "no NVIDIA GPU is visible (nvidia-smi finds none): running on the CPU"
    assert "--device auto: " in result.stderr and where in result.stderr
    assert Store(tmp_path / "s.sqlite").runs()[0]["settings"]["device"] == ("gpu" if machine.gpus() else "cpu")


def test_every_fault_ends_in_its_status_and_loses_nothing(tmp_path):
    store_path, pidfile = tmp_path / "s.sqlite", tmp_path / "child.pid"
    result = subprocess.run(run_args(store_path, len(FAULTS), 4, "--timeout", "15"), capture_output=True,
                            text=True, env=fault_env(FAULTS, DLBENCH_FAULT_CHILD_PIDFILE=str(pidfile)), timeout=600)
    assert result.returncode == 1, result.stderr  # failures are reported in the exit code, after the whole suite
    store = Store(store_path)
    runs = store.runs()
    epochs = store.epochs([r["id"] for r in runs])
    assert [r["settings"]["seed"] for r in runs] == list(range(len(FAULTS)))  # the suite went on after each fault
    for run, fault in zip(runs, FAULTS):
        status, error = EXPECTED[fault]
        assert run["status"] == status, (fault, run["error"], run["detail"])
        if error:
            assert run["error"].startswith(error), (fault, run["error"])
        stored = epochs[run["id"]]
        if fault == "none":
            assert [e["epoch"] for e in stored] == [1, 2, 3, 4]  # nothing lost
        elif fault == "nan":
            assert [e["epoch"] for e in stored] == [1, 2]       # the epochs before it, and the one that diverged
        else:
            assert [e["epoch"] for e in stored] == [1]          # the epoch before the fault is kept
    assert "Traceback" in runs[FAULTS.index("raise")]["detail"]
    # The hung worker's own child died with its process group.
    assert not running(int(pidfile.read_text()))
    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def running(pid, seconds=10):
    """Whether pid is still a live process after up to `seconds` (a zombie waiting to be reaped is dead)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z":
            return False
        time.sleep(0.1)
    return True


def wait_for(store_path, query, at_least, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if store_path.exists():
            db = sqlite3.connect(store_path)
            try:
                if db.execute(query).fetchone()[0] >= at_least:
                    return
            except sqlite3.OperationalError:
                pass
            finally:
                db.close()
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {query} >= {at_least}")


def test_parent_killed_mid_suite_leaves_a_sound_store_and_resume_finishes(tmp_path):
    store_path = tmp_path / "s.sqlite"
    args = run_args(store_path, 8, 3)
    parent = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=fault_env(["slow"]))
    wait_for(store_path, "SELECT count(*) FROM runs WHERE status = 'ok'", 2)
    wait_for(store_path, "SELECT count(*) FROM epochs WHERE run_id IN (SELECT id FROM runs WHERE status = "
                         "'running')", 1)  # a trial is in flight, with an epoch written
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = Store(store_path)
    runs = store.runs()
    finished = [r for r in runs if r["status"] == "ok"]
    assert len(finished) >= 2 and all(len(store.epochs([r["id"]])[r["id"]]) == 3 for r in finished)
    assert [r["status"] for r in runs].count("running") == 1
    keys_done = {r["trial_key"] for r in finished}

    resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, env=fault_env(["slow"]),
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "recorded as interrupted" in resumed.stderr and f"{len(finished)} trial(s) already have a result" in \
        resumed.stderr
    runs = Store(store_path).runs()
    assert [r["status"] for r in runs].count("interrupted") == 1  # the abandoned one, closed
    ok = [r for r in runs if r["status"] == "ok"]
    assert len({r["trial_key"] for r in ok}) == 8 and len(ok) == 8  # every trial once: none run twice
    assert keys_done <= {r["trial_key"] for r in ok}


def test_two_processes_writing_one_store_both_succeed_and_lose_nothing(tmp_path):
    store_path = tmp_path / "s.sqlite"
    processes = [subprocess.Popen(run_args(store_path, 6, 3), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=fault_env(["none"])) for _ in range(2)]
    for p in processes:
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
    store = Store(store_path)
    runs = store.runs()
    assert len(runs) == 12 and all(r["status"] == "ok" for r in runs)
    assert all(len(e) == 3 for e in store.epochs([r["id"] for r in runs]).values())
    # Their write windows really overlapped: run ids (assigned at write time) interleave between the two suites.
    suites = [r["suite_id"] for r in runs]
    switches = sum(1 for a, b in zip(suites, suites[1:]) if a != b)
    assert len(set(suites)) == 2 and switches >= 2, suites


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def test_a_hung_worker_dies_with_its_killed_parent_and_resume_ends_what_is_left(tmp_path):
    store_path, pidfile = tmp_path / "s.sqlite", tmp_path / "child.pid"
    args = run_args(store_path, 1, 3)
    parent = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=fault_env(["hang"], DLBENCH_FAULT_CHILD_PIDFILE=str(pidfile)))
    deadline = time.monotonic() + 120
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    (worker,) = children(parent.pid)
    child = int(pidfile.read_text())  # the worker's own child, in its process group
    parent.kill()
    parent.wait()
    try:
        assert not running(worker), "the worker outlived its parent"
        resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, env=fault_env(["none"]),
                                 timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert "1 trial(s) left running" in resumed.stderr
        assert not running(child), "the hung worker's child outlived the sweep of abandoned trials"
        assert [r["status"] for r in Store(store_path).runs()] == ["interrupted", "ok"]
    finally:
        for pid in (worker, child):  # a failed check must not leave a process that sleeps for an hour
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_full_disk_mid_suite_is_one_line_and_no_trial_is_left_running(tmp_path):
    """A real full file system: a 1 MiB tmpfs holds the store, and a file fills it while a trial is in flight."""
    with tmpfs(tmp_path / "disk", "size=1m") as disk:
        store_path = disk / "s.sqlite"
        args = run_args(store_path, 2, 40)
        parent = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=fault_env(["slow"]))
        wait_for(store_path, "SELECT count(*) FROM epochs", 1)
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(filler, b"\0" * 4096):  # until the disk is full
                pass
        except OSError:
            pass
        finally:
            os.close(filler)
        _, stderr = parent.communicate(timeout=120)
        assert parent.returncode == 1, stderr
        assert "Traceback" not in stderr and "OperationalError" not in stderr, stderr
        last = stderr.strip().splitlines()[-1]
        assert last.startswith("error: the results store could not be written (database or disk is full)"), stderr
        (disk / "filler").unlink()
        # Whether or not the failed trial could be written then, the next run's sweep leaves none running.
        resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, env=fault_env(["none"]),
                                 timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        statuses = [r["status"] for r in Store(store_path).runs()]
        assert "running" not in statuses and statuses.count("ok") == 2, statuses
