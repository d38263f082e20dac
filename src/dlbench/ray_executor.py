"""The Ray executor: a suite spread over a Ray cluster, with the local executor's worker processes, events and store.

Each trial is a Ray task that asks for what the trial uses (a CPU trial its thread count in CPUs, a GPU trial one
GPU) and runs `executor.Worker` on the node Ray chose: the same fresh worker process as a local run. The task is a
streaming generator that sends every batch of worker events back as it arrives; the driver (the `dlbench run`
process) is the only writer of the store and feeds the batches to `executor.Recorder`, as the local executor does.
A task lost with its node is retried once on another node, then recorded as failed; a worker failure inside a task
(timeout, oom, diverged, failed) is decided on the node by the same code as locally.
"""
from __future__ import annotations

import fcntl
import os
import re
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass

from dlbench import executor, machine
from dlbench.worker.protocol import FINAL_EVENT

INSTALL_HINT = "pip install 'dlbench[ray]'"
NODE_EVENT = "node"  # the task's first message: where it runs
UNKNOWN_NODE = {"host": "unknown", "device": "unknown"}
# The fault framework's scripting (tests) travels with each trial, so that one cluster can run differently scripted
# suites. Everything else a worker sees is its node's own environment.
FORWARDED_PREFIX = "DLBENCH_FAULT"
FEASIBILITY_CHECK_SECONDS = 5
CONNECT_SECONDS = 10


class RayError(Exception):
    """Ray is missing, the cluster cannot be reached, or it cannot run the suite: one line for the user."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayError(f"--executor ray needs Ray, which is not installed here: {INSTALL_HINT}") from None
    return ray


def connect(address):
    """Join the cluster at `address` (auto, or host:port of its head) as a driver; returns the ray module."""
    ray = import_ray()
    head = os.environ.get("RAY_ADDRESS") if address == "auto" else address
    if head and ":" in head and "://" not in head:
        # Ray retries an address where nothing listens for many minutes: find out first, in seconds.
        host, port = head.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
        except (OSError, ValueError) as exc:
            raise RayError(f"cannot connect to the Ray cluster at {head}: {exc}") from None
    try:
        ray.init(address=address, log_to_driver=False, logging_level="WARNING")
    except Exception as exc:  # ConnectionError, or a Ray error whose class varies between versions
        raise RayError(f"cannot connect to the Ray cluster at {address}: {first_line(exc)}") from None
    _cluster_messages_to_stderr()
    return ray


def _cluster_messages_to_stderr():
    """Ray prints what the cluster reports (a raylet that died, with its log) on the driver's stdout, where the
    summary and --json go: send it to stderr, beside the progress."""
    import ray._private.worker as driver

    show = getattr(driver, "print_to_stdstream", None)
    if show is not None and not getattr(show, "dlbench", False):
        def to_stderr(data, ignore_prefix):
            return show(dict(data, is_err=True), ignore_prefix)
        to_stderr.dlbench = True
        driver.print_to_stdstream = to_stderr


ANSI_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # Ray colours its task errors for a terminal, not a store


def plain(text):
    return ANSI_CODES.sub("", text)


def first_line(exc):
    return (plain(str(exc)).strip().splitlines() or [type(exc).__name__])[0]


def root_cause(exc):
    """The one line that says why a Ray task failed: its own exception (a RayTaskError's cause), not Ray's
    'ray::trial_task() (pid=..., ip=...)' header."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {first_line(cause)}"
    lines = [line for line in plain(str(exc)).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__


def resources(trial):
    """What the trial's task asks Ray for: a GPU trial one GPU, a CPU trial a CPU per thread."""
    if trial.settings["device"] == "gpu":
        return {"num_cpus": 1, "num_gpus": 1}
    return {"num_cpus": trial.settings["threads"], "num_gpus": 0}


def fits(request, nodes):
    """Whether some node of `nodes` (ray.nodes() entries) has the resources a task asks for."""
    return any(node["Resources"].get("CPU", 0) >= request["num_cpus"] and
               node["Resources"].get("GPU", 0) >= request["num_gpus"] for node in nodes)


def check_fits(ray, trials):
    """Refuse a suite that no node can run before anything starts (Ray would queue its tasks forever)."""
    nodes = [n for n in ray.nodes() if n["Alive"]]
    for trial in trials:
        request = resources(trial)
        if not fits(request, nodes):
            largest = max((n["Resources"].get("CPU", 0) for n in nodes), default=0)
            gpus = max((n["Resources"].get("GPU", 0) for n in nodes), default=0)
            raise RayError(f"no node of the Ray cluster can run {trial.workload} / {trial.framework}: it needs "
                           f"{request['num_cpus']:g} CPUs and {request['num_gpus']:g} GPUs, the largest node has "
                           f"{largest:g} CPUs and {gpus:g} GPUs (lower --threads, or use --device cpu)")


# -- on the node --------------------------------------------------------------------------------------------------

def trial_task(trial, env):
    """A Ray task: run the trial's worker on this node, its event batches streamed back as they arrive."""
    import ray

    context = ray.get_runtime_context()
    node = {"event": NODE_EVENT, **this_node(trial.settings["device"], ray.get_gpu_ids()),
            "node_id": context.get_node_id(), "node_ip": ray.util.get_node_ip_address()}
    reason = executor.skip_reason(trial)  # what is installed on this node is what counts
    if reason:
        yield [node, {"event": FINAL_EVENT, "status": "skipped", "error": reason}]
        return
    with cpu_slots(None if trial.settings["device"] == "gpu" else trial.settings["threads"]) as cpus:
        yield [node]  # the run starts now, its CPUs its own
        worker = executor.Worker(trial, cpus=cpus, env=env)
        try:
            yield from worker.follow(trial.timeout)
        except KeyboardInterrupt:  # ray.cancel from the driver (Ctrl-C there): let it end as it would locally
            worker.interrupt()
            raise
        finally:
            worker.close()


def this_node(device, gpu_ids=()):
    """The node as the store records it (the same words as a local run): hostname and device."""
    if device == "gpu":
        gpus = machine.gpus()
        index = int(gpu_ids[0]) if gpu_ids and str(gpu_ids[0]).isdigit() else 0  # Ray's GPU index, not a UUID
        return {"host": machine.hostname(), "device": gpus[index]["name"] if index < len(gpus) else "gpu"}
    return {"host": machine.hostname(), "device": f"cpu: {machine.cpu_model()}"}


@contextmanager
def cpu_slots(count):
    """Hold `count` CPUs of this machine that no other dlbench task holds, so that two CPU trials on one node never
    share a core: Ray counts CPUs but does not pin them, and every worker would otherwise pin the same first ones.
    One lock file per CPU; a task that dies releases its locks with its process."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not count or not available:
        yield None
        return
    count = min(count, len(available))
    folder = os.path.join(tempfile.gettempdir(), f"dlbench-cpus-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    held = {}
    try:
        with open(os.path.join(folder, "claim"), "w") as claim:
            # Claimants take turns: the one holding this lock waits for CPUs to come free (more tasks on this
            # machine than it has CPUs: nodes that share a machine, or a node that claims more CPUs than it has),
            # and the others queue behind it. Only the holder takes CPU locks, so no two wait for each other.
            fcntl.flock(claim, fcntl.LOCK_EX)
            while len(held) < count:
                for cpu in available:
                    if cpu not in held and len(held) < count:
                        lock = open(os.path.join(folder, f"cpu{cpu}"), "w")
                        try:
                            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            held[cpu] = lock
                        except BlockingIOError:
                            lock.close()
                if len(held) < count:
                    time.sleep(0.1)
        yield sorted(held)
    finally:
        for lock in held.values():
            lock.close()


# -- on the driver ------------------------------------------------------------------------------------------------

@dataclass
class Attempt:
    """One task of one trial; a trial lost with its node gets a second attempt elsewhere."""
    trial: object
    number: int = 1
    avoid: tuple = ()               # node ids it must not run on (where the first attempt was lost)
    node: dict | None = None        # the node message, once the task runs
    run_id: int | None = None
    recorder: executor.Recorder | None = None
    on_event: object = None         # the progress display's callback
    skipped: bool = False

    @property
    def finished(self):
        return self.skipped or (self.recorder is not None and self.recorder.final is not None)


class RayExecutor:
    """Submits every trial of a batch as a task and writes what comes back into the store (dlbench.runner's
    executor interface: `run(trials, store, suite_id, watcher)` runs a batch to its end, `close()` leaves the
    cluster; `concurrent`: a batch runs at once)."""

    concurrent = True

    def __init__(self, ray):
        self.ray = ray
        self.task = ray.remote(trial_task)
        self.env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIX)}
        self.running = {}  # ObjectRefGenerator -> Attempt
        # How Ray says a task died with its node or its Ray worker process (not that the task's own code raised).
        self.lost_exceptions = tuple(getattr(ray.exceptions, name) for name in (
            "NodeDiedError", "WorkerCrashedError", "LocalRayletDiedError", "ObjectLostError", "OwnerDiedError")
            if hasattr(ray.exceptions, name))

    def run(self, trials, store, suite_id, watcher):
        self.store, self.suite_id = store, suite_id
        self.progress_for, self.on_done = watcher.trial, watcher.done  # trial -> on_event callback; trial ended
        for trial in trials:
            self.submit(Attempt(trial))
        last_check = time.monotonic()
        try:
            while self.running:
                ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=1.0)
                for stream in ready:
                    self.receive(stream)
                if time.monotonic() - last_check > FEASIBILITY_CHECK_SECONDS:
                    self.drop_unrunnable()
                    last_check = time.monotonic()
        except KeyboardInterrupt:
            self.interrupt()
            raise executor.Interrupted() from None

    def close(self):
        self.ray.shutdown()

    def submit(self, attempt):
        options = {"num_returns": "streaming", "max_retries": 0, **resources(attempt.trial)}
        if attempt.avoid:
            from ray.util.scheduling_strategies import NodeLabelSchedulingStrategy, NotIn
            options["scheduling_strategy"] = NodeLabelSchedulingStrategy(
                hard={"ray.io/node-id": NotIn(*attempt.avoid)})
        self.running[self.task.options(**options).remote(attempt.trial, self.env)] = attempt

    def receive(self, stream):
        attempt = self.running[stream]
        try:
            batch = self.ray.get(next(stream))
        except StopIteration:
            del self.running[stream]
            if not attempt.finished:  # not expected: Worker.follow always ends with a final event
                self.fail(attempt, "the Ray task ended before the trial's final event")
            self.on_done(attempt.trial)
            return
        except self.lost_exceptions as exc:
            del self.running[stream]
            self.lost(attempt, exc)
            return
        except Exception as exc:  # the task itself raised on its node (dlbench missing there, a broken env, ...)
            del self.running[stream]
            where = f" on {attempt.node['host']}" if attempt.node else ""
            self.fail(attempt, f"the Ray task failed{where}: {root_cause(exc)}", detail=plain(str(exc)))
            self.on_done(attempt.trial)
            return
        self.take(attempt, batch)

    def take(self, attempt, batch):
        if batch and batch[0]["event"] == NODE_EVENT:
            node_event, batch = batch[0], batch[1:]
            attempt.node = {"host": node_event["host"], "device": node_event["device"],
                            "node_id": node_event["node_id"], "node_ip": node_event["node_ip"]}
            attempt.on_event = self.progress_for(attempt.trial)
            if batch and batch[0]["event"] == FINAL_EVENT and batch[0]["status"] == "skipped":
                self.store.record_skipped(self.suite_id, attempt.trial, attempt.node, batch[0]["error"])
                attempt.skipped = True
                if attempt.on_event:
                    attempt.on_event(batch[0])
                return
            attempt.run_id = self.store.start_run(self.suite_id, attempt.trial, attempt.node)
            attempt.recorder = executor.Recorder(self.store, attempt.run_id, attempt.on_event)
        for event in batch:
            if event["event"] == "env":  # where Ray placed it, beside what the worker read back from the machine
                event["ray"] = {"node_id": attempt.node["node_id"], "node_ip": attempt.node["node_ip"],
                                "attempt": attempt.number}
        if batch:
            attempt.recorder.add(batch)

    def lost(self, attempt, exc):
        """The task died with its node (or its Ray worker process): retry once elsewhere, then fail."""
        if attempt.finished:  # the trial's final event had come: its result stands
            self.on_done(attempt.trial)
            return
        where = attempt.node["host"] if attempt.node else "unknown"
        node_id = attempt.node["node_id"] if attempt.node else _node_id_in(str(exc))
        reason = f"lost with its Ray node ({where}, {node_id or 'id unknown'}): {first_line(exc)}"
        avoid = tuple(dict.fromkeys(attempt.avoid + ((node_id,) if node_id else ())))
        alive = [n for n in self.ray.nodes() if n["Alive"] and n["NodeID"] not in avoid]
        if attempt.number == 1 and fits(resources(attempt.trial), alive):
            if attempt.run_id is not None:  # no result of its own: --resume would run it again too
                self.store.finish_run(attempt.run_id, "interrupted", error=reason + "; retried on another node",
                                      detail=plain(str(exc)))
            if attempt.on_event:
                attempt.on_event({"event": FINAL_EVENT, "status": "interrupted", "error": reason})
            self.submit(Attempt(attempt.trial, number=2, avoid=avoid))
            return
        why = "after a retry on another node" if attempt.number > 1 else "and no other node can run it"
        self.fail(attempt, f"{reason} ({why})", detail=plain(str(exc)))
        self.on_done(attempt.trial)

    def drop_unrunnable(self):
        """Tasks still waiting for a node when no live node can run them any more (nodes were lost) are failed."""
        alive = [n for n in self.ray.nodes() if n["Alive"]]
        for stream, attempt in list(self.running.items()):
            if attempt.node is None and not fits(resources(attempt.trial),
                                                 [n for n in alive if n["NodeID"] not in attempt.avoid]):
                self.ray.cancel(stream)
                del self.running[stream]
                self.fail(attempt, "no live node of the Ray cluster can run it any more (nodes were lost)")
                self.on_done(attempt.trial)

    def fail(self, attempt, error, detail=None):
        if attempt.run_id is None:
            attempt.run_id = self.store.start_run(self.suite_id, attempt.trial, attempt.node or UNKNOWN_NODE,
                                                  status="failed", error=error)
            if detail:
                self.store.finish_run(attempt.run_id, "failed", error=error, detail=detail)
        else:
            self.store.finish_run(attempt.run_id, "failed", error=error, detail=detail)
        if attempt.on_event:
            attempt.on_event({"event": FINAL_EVENT, "status": "failed", "error": error})

    def interrupt(self):
        """Ctrl-C on the driver: cancel every task; the trials in flight are recorded as interrupted."""
        for stream, attempt in self.running.items():
            self.ray.cancel(stream)
            if attempt.run_id is not None and not attempt.finished:
                self.store.finish_run(attempt.run_id, "interrupted", error="interrupted by the user")
        self.running.clear()


def _node_id_in(message):
    found = re.search(r"node ID: ([0-9a-f]{16,})", message)
    return found.group(1) if found else None
