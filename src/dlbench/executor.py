"""The local executor: one fresh worker process per trial, its events streamed into the store as they arrive.

The parent never imports a framework. A worker that crashes, hangs past its timeout or is interrupted costs one
trial; whatever it had reported is kept, and the trial gets a status that says what happened.

`Worker` (launch, follow, stop) and `Recorder` (events into the store) are the one code path of every executor:
the Ray executor (ray_executor.py) runs `Worker` inside a task on a node and feeds its batches to `Recorder` on
the driver.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlbench import environments, frameworks, processes
from dlbench import suite as suites
from dlbench.worker.protocol import EVENT_FD_VARIABLE, FINAL_EVENT, decode

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder that holds the dlbench package
STDERR_TAIL_LINES = 25
GRACE_SECONDS = 10  # how long a worker asked to stop (SIGTERM) may take to send its final event
EXIT_EVENT = "exit"  # not the worker's: the parent's note of its exit code and output tail, after its last event


class Interrupted(Exception):
    """The user stopped the suite (Ctrl-C or SIGTERM); the trial in flight was recorded as interrupted."""


def worker_command(framework):
    """The worker runs under dlbench's own interpreter, or its framework's environment's (dlbench.environments)."""
    python = environments.interpreter(framework.id) if framework.environment else sys.executable
    return [python, "-m", "dlbench.worker"]


def worker_environment(event_fd, framework, extra=None):
    env = dict(os.environ, **(extra or {}))
    if framework.environment:
        env.update(environments.worker_variables(framework))
    else:  # started as a module by path, whatever the current folder
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    env[EVENT_FD_VARIABLE] = str(event_fd)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def signal_name(number):
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


def tail(path, lines=STDERR_TAIL_LINES):
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:]).strip()


def skip_reason(trial):
    """Why the trial cannot run here (its framework does not implement the trial's precision, or is not installed),
    or None."""
    refused = suites.precision_refusal(trial.workload, trial.framework, trial.settings.get("precision", "fp32"))
    if refused:
        return refused
    framework = frameworks.get(trial.framework)
    missing = framework.missing()
    if missing:
        return f"{trial.framework} is not installed (missing {', '.join(missing)}): {framework.install_hint()}"
    return None


def run_trial(trial, store, suite_id, node, on_event=None):
    """Run one trial to its end (or its trial.timeout) and record it. Returns the final status."""
    reason = skip_reason(trial)
    if reason:
        store.record_skipped(suite_id, trial, node, reason)
        if on_event:
            on_event({"event": FINAL_EVENT, "status": "skipped", "error": reason})
        return "skipped"

    run_id = store.start_run(suite_id, trial, node)
    worker = Worker(trial)
    recorder = Recorder(store, run_id, on_event)
    try:
        store.set_worker(run_id, worker.process.pid, processes.started(worker.process.pid))
        for batch in worker.follow(trial.timeout):
            recorder.add(batch)
        return recorder.status
    except KeyboardInterrupt:
        # Ask the worker to stop; it answers with its own `interrupted` final event if it can.
        store.apply_events(run_id, [e for e in worker.interrupt() if e["event"] != FINAL_EVENT])
        store.finish_run(run_id, "interrupted", error="interrupted by the user", detail=worker.tail())
        raise Interrupted()
    except sqlite3.Error as exc:
        # The store cannot take the events (a full disk): end the trial as failed while that can still be
        # written; if it cannot, the next run's sweep of abandoned trials records it.
        try:
            store.finish_run(run_id, "failed", error=f"the store could not be written: {exc}", detail=worker.tail())
        except sqlite3.Error:
            pass
        raise
    finally:
        worker.close()


class LocalExecutor:
    """One trial at a time on this machine (dlbench.runner's executor interface: `run(trials, store, suite_id,
    watcher)` runs a batch to its end, `close()` releases what the executor holds; `concurrent`: a batch runs at
    once)."""

    concurrent = False

    def __init__(self, node):
        self.node = node  # this machine: host and device, recorded with every run

    def run(self, trials, store, suite_id, watcher):
        for trial in trials:
            try:
                run_trial(trial, store, suite_id, self.node, on_event=watcher.trial(trial))
            finally:
                watcher.done(trial)

    def close(self):
        pass


class Worker:
    """One trial's fresh worker process and the pipe its events come on. `cpus`: the CPUs it may use (it pins its
    threads among them); `env`: variables added to its environment."""

    def __init__(self, trial, cpus=None, env=None):
        framework = frameworks.get(trial.framework)
        read_fd, write_fd = os.pipe()
        with tempfile.NamedTemporaryFile("w+", prefix="dlbench-worker-", suffix=".log", delete=False) as log:
            self.log_path = log.name
            try:
                self.process = subprocess.Popen(
                    worker_command(framework), stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                    pass_fds=(write_fd,), env=worker_environment(write_fd, framework, env),
                    start_new_session=True, preexec_fn=processes.die_with_parent)
            finally:
                os.close(write_fd)
        self.reader = _EventReader(read_fd)
        try:
            if cpus:  # before it reads its trial, so that it pins its threads within these
                os.sched_setaffinity(self.process.pid, cpus)
            self.process.stdin.write(json.dumps(trial.for_worker()).encode())
            self.process.stdin.close()
        except BaseException:
            self.close()
            raise

    def tail(self):
        return tail(self.log_path)

    def follow(self, timeout):
        """Batches of events as the worker sends them, until its final event, its exit or its timeout. The last
        batch holds an `exit` event (exit code, output tail) and, where the worker sent none, the final event that
        says what happened to it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        final = None
        while final is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                _stop(self.process)
                yield [{"event": FINAL_EVENT, "status": "timeout",
                        "error": f"no result within the {timeout:g} s timeout: stopped", "detail": self.tail()}]
                return
            events, closed = self.reader.read(min(remaining, 1.0) if remaining is not None else 1.0)
            if events:
                final = next((e for e in reversed(events) if e["event"] == FINAL_EVENT), None)
                yield events
            if closed:
                break

        exit_code = self.process.wait()
        closing = [{"event": EXIT_EVENT, "exit_code": exit_code, "tail": self.tail()}]
        if final is None:
            how = f"was killed by {signal_name(-exit_code)}" if exit_code < 0 else f"exited with code {exit_code}"
            error = f"the worker {how} before its final event"
            if exit_code == -signal.SIGKILL:
                error += " (the kernel's out-of-memory killer does this, and so does kill -9)"
            closing.append({"event": FINAL_EVENT, "status": "failed", "error": error, "detail": closing[0]["tail"]})
        yield closing

    def interrupt(self):
        """SIGTERM, a grace period for its own `interrupted` final event; returns the events it sent meanwhile."""
        _stop(self.process, signal.SIGTERM)
        return self.reader.read(0)[0]

    def close(self):
        _stop(self.process)
        self.reader.close()
        os.unlink(self.log_path)


class Recorder:
    """Writes one trial's event batches into the store as they arrive, one transaction per batch."""

    def __init__(self, store, run_id, on_event=None):
        self.store, self.run_id, self.on_event = store, run_id, on_event
        self.final = None

    @property
    def status(self):
        return self.final["status"] if self.final else None

    def add(self, batch):
        events = [e for e in batch if e["event"] != EXIT_EVENT]
        if events:
            self.store.apply_events(self.run_id, events)
        for event in batch:
            if event["event"] == EXIT_EVENT:
                self.store.set_exit_code(self.run_id, event["exit_code"])
                if self.final and self.final["status"] != "ok" and not self.final.get("detail"):
                    self.store.finish_run(self.run_id, self.final["status"], error=self.final.get("error"),
                                          detail=event["tail"])
                continue
            if self.on_event:
                self.on_event(event)
            if event["event"] == FINAL_EVENT:
                self.final = event


def _stop(process, first_signal=signal.SIGKILL):
    """End the worker and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, first_signal)
        if first_signal != signal.SIGKILL:
            try:
                process.wait(GRACE_SECONDS)
                return
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


class _EventReader:
    """Reads newline-delimited events from the worker's pipe without blocking past a timeout."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def read(self, timeout):
        """Events available within `timeout` seconds, and whether the pipe has closed (the worker is gone)."""
        closed = False
        if self.selector.select(timeout):
            chunk = os.read(self.fd, 1 << 16)
            closed = not chunk
            self.buffer += chunk
            # Drain whatever else is already there, so a batch of events becomes one transaction.
            while not closed and self.selector.select(0):
                chunk = os.read(self.fd, 1 << 16)
                closed = not chunk
                self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [decode(line) for line in lines if line.strip()], closed

    def close(self):
        if self.fd is not None:
            self.selector.close()
            os.close(self.fd)
            self.fd = None
