"""The Ray executor on a real local Ray cluster: a head and worker nodes on 127.0.0.1 (no dashboard, no usage
stats), real worker processes on the nodes, the `dlbench run` driver as the only writer of the store, and nodes
killed mid-suite the way a lost machine dies (every process at once).

Most trials use the test-only `fault` framework (a real NumPy model that fails on purpose, see test_reliability.py),
one is a real torch trial."""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from dlbench import machine, render
from dlbench.store import Store
from dlbench.summary import summarize

from conftest import IN_CI, require_framework
from test_store import epoch, trial

LOOPBACK = "127.0.0.1"
# Set in this process before the nodes start, so every node (and the worker processes it spawns) inherits it.
NODE_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "DLBENCH_FAULTS": "1"}


def require_ray():
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        message = "Ray is not installed (pip install 'dlbench[ray]')"
        if IN_CI:
            pytest.fail(message + " and CI=true: the CI environment must install the ray extra (dlbench[all])")
        pytest.skip(message)
    return Cluster


class LocalCluster:
    """A head node and worker nodes, all on 127.0.0.1, in a private temp dir (Ray's socket paths must be short)."""

    def __init__(self, head_cpus, worker_cpus, **node_env):
        Cluster = require_ray()
        self.tmp = tempfile.mkdtemp(prefix="dlray-", dir="/tmp")
        node_env = {**NODE_ENV, **node_env}
        self.saved = {k: os.environ.get(k) for k in list(node_env) + ["RAY_TMPDIR"]}
        os.environ.update(node_env, RAY_TMPDIR=self.tmp)  # RAY_TMPDIR: not the machine-wide /tmp/ray
        self.cluster = Cluster(initialize_head=True, head_node_args={
            "node_ip_address": LOOPBACK, "include_dashboard": False, "num_cpus": head_cpus})
        self.workers = [self.cluster.add_node(node_ip_address=LOOPBACK, num_cpus=cpus) for cpus in worker_cpus]

    @property
    def address(self):
        return self.cluster.address

    @property
    def head_id(self):
        return self.cluster.head_node.node_id

    def kill(self, node):
        """Lose a node as a machine is lost: its raylet, Ray workers and the trial worker they started, at once."""
        tree = descendants(node.all_processes["raylet"][0].process.pid)  # the trial's worker too (own session)
        self.cluster.remove_node(node, allow_graceful=False)
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.workers.remove(node)
        return tree

    def shutdown(self):
        try:
            self.cluster.shutdown()
        finally:
            for key, value in self.saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            shutil.rmtree(self.tmp, ignore_errors=True)


def process_state(pid):
    """The state letter in /proc/PID/stat (R, S, Z for a zombie, ...), or None for no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def descendants(pid):
    """Every process below `pid`, from the parent ids in /proc."""
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


@pytest.fixture
def two_nodes():
    cluster = LocalCluster(head_cpus=1, worker_cpus=[1])
    try:
        yield cluster
    finally:
        cluster.shutdown()


def driver_env(**faults):
    # Ray replaces a loopback --address by this machine's outward IP (it assumes a multi-machine cluster); this
    # cluster listens on 127.0.0.1 only, so the driver is told to keep loopback addresses as they are.
    return dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0", DLBENCH_FAULTS="1",
                **faults)


def run_args(store, frameworks, repeats, epochs, *more):
    return [sys.executable, "-m", "dlbench.cli", "run", "--workloads", "mnist_mlp", "--frameworks", frameworks,
            "--data", "small", "--samples", "256", "--epochs", str(epochs), "--repeats", str(repeats),
            "--threads", "1", "--store", str(store), *more]


def ray_args(cluster):
    return ["--executor", "ray", "--ray-address", cluster.address]


def latest_runs(store_path):
    store = Store(store_path)
    runs = store.runs()
    return runs, store.epochs([r["id"] for r in runs])


def poll_running(store_path, node_ids, attempt=1, timeout=120, beside=None):
    """The first run in flight on one of `node_ids` whose worker has reported its environment (it has loaded its
    data and imported its framework, so it is surely mid-way): (run id, trial key, env). With `beside` (a node id),
    only once a run is in flight on that node at the same moment too: then also that run's env."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(store_path):
            db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=5)
            try:
                rows = db.execute("SELECT id, trial_key, env FROM runs WHERE status = 'running' AND env IS NOT NULL"
                                  ).fetchall()
            except sqlite3.OperationalError:  # the schema is being created
                rows = []
            finally:
                db.close()
            rows = [(run_id, key, json.loads(env)) for run_id, key, env in rows]
            targets = [row for row in rows if row[2].get("ray", {}).get("node_id") in node_ids and
                       row[2]["ray"].get("attempt") == attempt]
            others = [row[2] for row in rows if row[2].get("ray", {}).get("node_id") == beside]
            if targets and (beside is None or others):
                return targets[0] if beside is None else (targets[0], others[0])
        time.sleep(0.1)
    raise AssertionError(f"no trial was seen running on {node_ids} (beside {beside}) within {timeout} s")


# -- without a cluster ----------------------------------------------------------------------------------------------

def test_the_ray_executor_without_ray_is_a_one_line_error(tmp_path):
    # This interpreter has no `ray` module: sys.modules[name] = None makes its import fail as if it were absent.
    code = ("import sys; sys.modules['ray'] = None; from dlbench.cli import app; "
            "sys.argv = ['dlbench'] + sys.argv[1:]; app()")
    result = subprocess.run([sys.executable, "-c", code, *run_args(tmp_path / "s.sqlite", "fault", 1, 1)[3:],
                             "--executor", "ray"], capture_output=True, text=True, env=driver_env(), timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: --executor ray needs Ray, which is not installed here: "
                                     "pip install 'dlbench[ray]'")
    assert not (tmp_path / "s.sqlite").exists()  # nothing recorded


def test_ray_settings_are_checked_like_every_suite_key(tmp_path):
    result = subprocess.run(run_args(tmp_path / "s.sqlite", "fault", 1, 1, "--ray-address", "127.0.0.1:6379"),
                            capture_output=True, text=True, env=driver_env(), timeout=120)
    assert result.returncode == 2
    assert "ray_address = '127.0.0.1:6379' needs executor = 'ray'" in result.stderr
    suite = tmp_path / "cluster.toml"
    suite.write_text('workloads = ["mnist_mlp"]\nexecutor = "ray"\nray_address = "http://head"\n')
    result = subprocess.run([sys.executable, "-m", "dlbench.cli", "run", "--suite", str(suite)], capture_output=True,
                            text=True, env=driver_env(), timeout=120)
    assert result.returncode == 2
    assert f"{suite}: ray_address = 'http://head' is not valid: expected auto, or host:port" in result.stderr
    result = subprocess.run(run_args(tmp_path / "s.sqlite", "fault", 1, 1, "--executor", "ray", "--ray-address",
                                     f"{LOOPBACK}:9"), capture_output=True, text=True, env=driver_env(), timeout=120)
    assert result.returncode == 1 and "cannot connect to the Ray cluster at 127.0.0.1:9" in result.stderr


def test_a_table_with_runs_from_several_nodes_warns(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    suite_id = store.begin_suite("t", {})
    for repeat, host in enumerate(["node-a", "node-b", "node-a"]):
        run_id = store.start_run(suite_id, trial("torch" if repeat < 2 else "jax", repeat % 2),
                                 {"host": host, "device": "cpu: X"})
        store.apply_events(run_id, [epoch(n, 1.0, warmup=n == 1) for n in (1, 2, 3)] +
                           [{"event": "end", "status": "ok", "error": None, "detail": None}])
    runs = store.runs()
    rows = {row.framework: row for row in summarize(runs, store.epochs([r["id"] for r in runs]))}
    assert rows["torch"].nodes == ["node-a (cpu: X)", "node-b (cpu: X)"] and rows["jax"].nodes == ["node-a (cpu: X)"]
    (table,) = render.summary_tables(list(rows.values()))
    assert "warning: these runs come from 2 nodes (node-a (cpu: X); node-b (cpu: X)): timings from different " \
           "machines are not comparable" in table.caption
    (table,) = render.summary_tables([rows["jax"]])
    assert "nodes" not in table.caption


def test_cpu_slots_are_never_shared():
    """Two Ray nodes on one machine (or a node that claims more CPUs than it has) must not pin two trials to one
    core: a claim waits until its CPUs are free."""
    from dlbench.ray_executor import cpu_slots
    seen = []

    def second():
        with cpu_slots(1) as cpus:
            seen.append(("second", cpus))

    with cpu_slots(machine.available_cpus()) as every:
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(1.0)
        seen.append(("first", every))
    waiting.join(30)
    assert [who for who, _ in seen] == ["first", "second"]
    assert len(seen[1][1]) == 1 and set(seen[1][1]) <= set(every) == set(os.sched_getaffinity(0))


# -- on a local cluster ---------------------------------------------------------------------------------------------

FAULTS = ["none", "raise", "segfault", "nan", "exit"]


def test_a_suite_on_ray_gives_the_local_executors_trials_and_statuses(tmp_path, two_nodes):
    """Worker failures inside a task end exactly as they do locally; every result has its node; the two nodes ran
    trials at the same time, pinned to different CPUs."""
    local, on_ray = tmp_path / "local.sqlite", tmp_path / "ray.sqlite"
    env = driver_env(DLBENCH_FAULT=",".join(FAULTS))
    result = subprocess.run(run_args(local, "fault", len(FAULTS), 3), capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 1, result.stderr  # raise, segfault, nan and exit are failures
    result = subprocess.run(run_args(on_ray, "fault", len(FAULTS), 3, *ray_args(two_nodes)), capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr

    local_runs, local_epochs = latest_runs(local)
    ray_runs, ray_epochs = latest_runs(on_ray)
    by_key = {r["trial_key"]: r for r in ray_runs}
    assert sorted(by_key) == sorted(r["trial_key"] for r in local_runs) and len(ray_runs) == len(FAULTS)
    for run in local_runs:
        twin = by_key[run["trial_key"]]
        assert (twin["status"], twin["error"], twin["exit_code"]) == (run["status"], run["error"], run["exit_code"])
        assert len(ray_epochs[twin["id"]]) == len(local_epochs[run["id"]])
        assert (twin["node_host"], twin["node_device"]) == (run["node_host"], run["node_device"])
    assert [r["status"] for r in sorted(ray_runs, key=lambda r: r["settings"]["seed"])] == \
        ["ok", "failed", "failed", "diverged", "failed"]

    node_ids = {two_nodes.head_id, two_nodes.workers[0].node_id}
    for run in ray_runs:
        assert run["node_host"] == socket.gethostname() and run["node_device"] == f"cpu: {machine.cpu_model()}"
        assert run["env"]["ray"]["node_id"] in node_ids and run["env"]["ray"]["attempt"] == 1
        assert run["env"]["hostname"] == run["node_host"] and len(run["env"]["cpu_affinity"]) == 1
    assert {r["env"]["ray"]["node_id"] for r in ray_runs} == node_ids  # both nodes ran trials
    # The store's times are the driver's: a trial that starts on a freed CPU can be recorded a few milliseconds
    # before the end of the one that freed it. Runs that overlap by more than half a second ran at the same time,
    # and Ray counts CPUs but dlbench pins them: they never share a core (the next test sees it happen).
    span = {r["id"]: [datetime.fromisoformat(r[k]).timestamp() for k in ("started_at", "finished_at")]
            for r in ray_runs}
    for a in ray_runs:
        for b in ray_runs:
            if a["id"] < b["id"] and min(span[a["id"]][1], span[b["id"]][1]) - \
                    max(span[a["id"]][0], span[b["id"]][0]) > 0.5:
                assert a["env"]["cpu_affinity"] != b["env"]["cpu_affinity"]


# Long enough that a fault trial (0.5 s an epoch, asleep) outlasts a torch trial's start on the other node on a
# loaded machine: with 8 epochs (4 s) CI once saw none in flight together (torch reported its environment, 5 s after
# it started, as the fault trial ended).
LOST_EPOCHS = 30


def test_a_trial_lost_with_its_node_is_retried_on_the_other_node(tmp_path, two_nodes):
    """A real torch trial and fault trials (each epoch 0.5 s longer, so one is surely in flight); the worker node is
    killed while a trial runs there: that trial is recorded as interrupted and run again on the head node."""
    require_framework("torch")
    store_path = tmp_path / "s.sqlite"
    worker = two_nodes.workers[0]
    started = time.monotonic()
    suite = subprocess.Popen(run_args(store_path, "torch,fault", 2, LOST_EPOCHS, "--json", *ray_args(two_nodes)),
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=driver_env(DLBENCH_FAULT="slow"))
    try:
        (lost_run, lost_key, lost_env), beside = poll_running(store_path, {worker.node_id}, beside=two_nodes.head_id)
        killed = two_nodes.kill(worker)
        stdout, stderr = suite.communicate(timeout=300)
    finally:
        suite.kill()
    assert suite.returncode == 0, stderr  # the retry succeeded: the suite is whole
    # The two nodes ran trials at the same time, each pinned to its own core (Ray counts CPUs, dlbench pins them).
    assert len(lost_env["cpu_affinity"]) == len(beside["cpu_affinity"]) == 1
    assert lost_env["cpu_affinity"] != beside["cpu_affinity"]
    assert time.monotonic() - started < 200

    runs, epochs = latest_runs(store_path)
    assert len({r["trial_key"] for r in runs}) == 4 and len(runs) == 5
    first, retry = [r for r in runs if r["trial_key"] == lost_key]
    assert first["id"] == lost_run and first["status"] == "interrupted"
    assert first["error"].startswith(f"lost with its Ray node ({socket.gethostname()}, {worker.node_id})")
    assert first["error"].endswith("retried on another node")
    # what it had reported before the node died is kept
    assert first["env"]["ray"] == {"node_id": worker.node_id, "node_ip": LOOPBACK, "attempt": 1}
    assert retry["status"] == "ok" and retry["env"]["ray"]["node_id"] == two_nodes.head_id
    assert retry["env"]["ray"]["attempt"] == 2 and len(epochs[retry["id"]]) == LOST_EPOCHS
    for run in runs:
        assert run["node_host"] == socket.gethostname() and run["node_device"] == f"cpu: {machine.cpu_model()}"
        if run["id"] != lost_run:
            assert run["status"] == "ok", (run["framework"], run["error"])
            assert len(epochs[run["id"]]) == LOST_EPOCHS
    torch_runs = [r for r in runs if r["framework"] == "torch" and r["status"] == "ok"]
    assert len(torch_runs) == 2 and all(r["params_total"] == 669706 for r in torch_runs)
    assert all(epochs[r["id"]][-1]["val_accuracy"] > 0.5 for r in torch_runs)  # a real model learnt on the nodes
    # The summary (stdout holds only it, Ray's own messages go to stderr) shows the lost attempt.
    statuses = {row["framework"]: row["statuses"] for row in json.loads(stdout)}
    assert sorted(statuses.values(), key=len) == [{"ok": 2}, {"interrupted": 1, "ok": 2}]
    assert killed and not [pid for pid in killed if process_state(pid) not in (None, "Z")]


def test_a_trial_lost_twice_is_failed_with_the_reason(tmp_path):
    """Two worker nodes (the head runs nothing): the trial's node is killed, then the node of its retry."""
    cluster = LocalCluster(head_cpus=0, worker_cpus=[1, 1])
    try:
        store_path = tmp_path / "s.sqlite"
        suite = subprocess.Popen(run_args(store_path, "fault", 1, 40, *ray_args(cluster)), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=driver_env(DLBENCH_FAULT="slow"))
        try:
            nodes = {node.node_id: node for node in cluster.workers}
            _, key, env = poll_running(store_path, set(nodes))
            first_node = env["ray"]["node_id"]
            cluster.kill(nodes.pop(first_node))
            _, retry_key, env = poll_running(store_path, set(nodes), attempt=2)
            second_node = env["ray"]["node_id"]
            cluster.kill(nodes.pop(second_node))
            _, stderr = suite.communicate(timeout=120)
        finally:
            suite.kill()
    finally:
        cluster.shutdown()
    assert suite.returncode == 1, stderr
    first, second = Store(store_path).runs()
    assert first["trial_key"] == second["trial_key"] == key == retry_key
    assert first["status"] == "interrupted" and first["env"]["ray"]["node_id"] == first_node
    assert second["status"] == "failed" and second["env"]["ray"]["node_id"] == second_node
    assert second["error"].startswith(f"lost with its Ray node ({socket.gethostname()}, {second_node})")
    assert second["error"].endswith("(after a retry on another node)")


def test_a_task_that_fails_on_its_node_is_stored_with_its_cause_and_no_colour_codes(tmp_path):
    """The node has no `fault` framework (its dlbench differs from the driver's): the task itself raises there.
    Ray's error text is coloured for a terminal and opens with its own 'ray::trial_task() (pid=...)' line."""
    cluster = LocalCluster(head_cpus=1, worker_cpus=[], DLBENCH_FAULTS="0")
    try:
        store = tmp_path / "s.sqlite"
        result = subprocess.run(run_args(store, "fault", 1, 1, *ray_args(cluster)), capture_output=True, text=True,
                                env=driver_env(), timeout=300)
    finally:
        cluster.shutdown()
    assert result.returncode == 1, result.stderr
    (run,) = Store(store).runs()
    assert run["status"] == "failed"
    assert run["error"].startswith("the Ray task failed: UnknownFramework: unknown framework 'fault'"), run["error"]
    assert "\x1b[" not in run["error"] and "\x1b[" not in run["detail"] and "ray::trial_task()" in run["detail"]


def test_a_model_file_runs_on_ray_from_the_content_its_trial_carries(tmp_path):
    """`--model` under `--executor ray`: the trial carries the file's content (not its path) to the node's worker."""
    require_framework("torch")
    cluster = LocalCluster(head_cpus=1, worker_cpus=[])
    try:
        store = tmp_path / "ray.sqlite"
        model = Path(__file__).resolve().parent.parent / "examples" / "torch_model.py"
        result = subprocess.run([sys.executable, "-m", "dlbench.cli", "run", "--model", str(model), "--repeats", "1",
                                 "--epochs", "2", "--samples", "128", "--threads", "1", "--store", str(store),
                                 *ray_args(cluster)], capture_output=True, text=True, env=driver_env(), timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        cluster.shutdown()
    (run,) = Store(store).runs()
    assert (run["workload"], run["framework"], run["status"]) == ("model:torch_model", "torch", "ok")
    assert run["env"]["ray"]["node_id"] and run["settings"]["model_sha256"]
