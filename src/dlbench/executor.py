"""The local executor: one fresh worker process per trial, its events streamed into the store as they arrive.

The parent never imports a framework. A worker that crashes, hangs past its timeout or is interrupted costs one
trial; whatever it had reported is kept, and the trial gets a status that says what happened.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlbench import frameworks
from dlbench.worker.protocol import EVENT_FD_VARIABLE, FINAL_EVENT, decode

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder that holds the dlbench package
STDERR_TAIL_LINES = 25
GRACE_SECONDS = 10  # how long a worker asked to stop (SIGTERM) may take to send its final event


class Interrupted(Exception):
    """The user stopped the suite (Ctrl-C or SIGTERM); the trial in flight was recorded as interrupted."""


def worker_command(python=None):
    return [python or sys.executable, "-m", "dlbench.worker"]


def worker_environment(event_fd):
    env = dict(os.environ)
    # The worker may run under another interpreter (a per-framework environment): let it find this dlbench.
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


def run_trial(trial, store, suite_id, node, on_event=None):
    """Run one trial to its end (or its trial.timeout) and record it. Returns the final status."""
    framework = frameworks.get(trial.framework)
    missing = framework.missing()
    if missing:
        reason = f"{trial.framework} is not installed (missing {', '.join(missing)}): {framework.install_hint()}"
        store.record_skipped(suite_id, trial, node, reason)
        if on_event:
            on_event({"event": FINAL_EVENT, "status": "skipped", "error": reason})
        return "skipped"

    run_id = store.start_run(suite_id, trial, node)
    read_fd, write_fd = os.pipe()
    with tempfile.NamedTemporaryFile("w+", prefix="dlbench-worker-", suffix=".log", delete=False) as log:
        log_path = log.name
        try:
            process = subprocess.Popen(
                worker_command(), stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(write_fd,), env=worker_environment(write_fd), start_new_session=True)
        finally:
            os.close(write_fd)
    try:
        process.stdin.write(json.dumps(trial.for_worker()).encode())
        process.stdin.close()
        return _follow(process, read_fd, run_id, store, trial.timeout, on_event, log_path)
    finally:
        _stop(process)
        os.unlink(log_path)


def _follow(process, read_fd, run_id, store, timeout, on_event, log_path):
    """Stream events into the store until the worker's final event, its exit, its timeout or an interruption."""
    deadline = None if timeout is None else time.monotonic() + timeout
    reader = _EventReader(read_fd)
    final = None
    try:
        while final is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                _stop(process)
                store.finish_run(run_id, "timeout", error=f"no result within the {timeout:g} s timeout: stopped",
                                 detail=tail(log_path))
                return "timeout"
            events, closed = reader.read(min(remaining, 1.0) if remaining is not None else 1.0)
            if events:
                store.apply_events(run_id, events)
                for event in events:
                    if on_event:
                        on_event(event)
                    if event["event"] == FINAL_EVENT:
                        final = event
            if closed:
                break
    except KeyboardInterrupt:
        # Ask the worker to stop; it answers with its own `interrupted` final event if it can.
        _stop(process, signal.SIGTERM)
        events, _ = reader.read(0)
        store.apply_events(run_id, [e for e in events if e["event"] != FINAL_EVENT])
        store.finish_run(run_id, "interrupted", error="interrupted by the user", detail=tail(log_path))
        raise Interrupted()
    finally:
        reader.close()

    exit_code = process.wait()
    store.set_exit_code(run_id, exit_code)
    if final is None:
        how = f"was killed by {signal_name(-exit_code)}" if exit_code < 0 else f"exited with code {exit_code}"
        error = f"the worker {how} before its final event"
        if exit_code == -signal.SIGKILL:
            error += " (the kernel's out-of-memory killer does this, and so does kill -9)"
        store.finish_run(run_id, "failed", error=error, detail=tail(log_path), exit_code=exit_code)
        if on_event:
            on_event({"event": FINAL_EVENT, "status": "failed", "error": error})
        return "failed"
    if final["status"] != "ok" and not final.get("detail"):
        store.finish_run(run_id, final["status"], error=final.get("error"), detail=tail(log_path))
    return final["status"]


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
        self.selector.close()
        os.close(self.fd)
