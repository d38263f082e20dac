"""The event protocol between a trial process and its parent: one JSON object per line on a dedicated pipe.

stdout and stderr are left to the frameworks (they log freely there); events travel on the file descriptor named
by DLBENCH_EVENT_FD, so nothing a framework prints can corrupt them. Every worker ends with exactly one final
event, `end`, carrying the trial's status; a worker that exits without one did not finish, whatever its exit code.

Every event is declared once below (EVENTS): the worker emits these names and no other, and the parent's store
applies each through its handler (dlbench.store.EVENT_HANDLERS).
"""
import json
import math
import os
import time

EVENT_FD_VARIABLE = "DLBENCH_EVENT_FD"

# Final statuses of a trial (DESIGN.md). "running" is only the state of a trial in flight, never final.
STATUSES = ("ok", "skipped", "failed", "timeout", "oom", "diverged", "interrupted")

# The events, in the order a trial sends them (T: training trials only, I: inference trials only).
START = "start"                # the process began: pid, trial key, Python version
ENV = "env"                    # what the worker read back from its framework and machine
MODEL = "model"                # parameter counts, build seconds (T: FLOPs per sample)
FIRST_RESULT = "first_result"  # I: load + compile + first batch, the time to first result
EPOCH = "epoch"                # T: one per epoch: timings, loss and accuracy, other processes' CPU
INFERENCE = "inference"        # I: one per batch size: timed passes, throughput, latency percentiles
SAMPLE = "sample"              # T: generated text and its check (text workloads only)
KERNEL = "kernel"              # T: the recurrent kernel (and attention_kernel) the framework ran, read from its ops
CHECK = "check"                # I: the feature check against the float64 reference
MEMORY = "memory"              # peak host memory, device memory and the allocator's peak, once, before the end
END = "end"                    # the final event: the trial's status (STATUSES), error and detail
EVENTS = (START, ENV, MODEL, FIRST_RESULT, EPOCH, INFERENCE, SAMPLE, KERNEL, CHECK, MEMORY, END)
FINAL_EVENT = END


def _clean(value):
    """JSON has no NaN or infinity: send them as strings so the parent can still see a diverged loss."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return dict((k, _clean(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def encode(event, fields):
    record = {"event": event, "time": time.time()}
    record.update(fields)
    return json.dumps(_clean(record), sort_keys=True) + "\n"


def decode(line):
    """Parse one event line; numbers sent as strings ('nan', 'inf') come back as floats."""
    record = json.loads(line)
    for key, value in record.items():
        if value in ("nan", "inf", "-inf"):
            record[key] = float(value)
    return record


class EventWriter(object):
    """Writes events to the parent's pipe, flushing each one so that a crash loses nothing already said."""

    def __init__(self, fd=None):
        if fd is None:
            fd = int(os.environ[EVENT_FD_VARIABLE])
        self._stream = os.fdopen(fd, "w", 1)
        self.finished = False

    def emit(self, event, **fields):
        if self.finished:
            raise RuntimeError("no event may follow the final event")
        if event not in EVENTS:
            raise ValueError("undeclared event %r: declare it in dlbench.worker.protocol" % (event,))
        self._stream.write(encode(event, fields))
        self._stream.flush()
        if event == FINAL_EVENT:
            self.finished = True

    def end(self, status, error=None, detail=None, **fields):
        if status not in STATUSES:
            raise ValueError("unknown status %r" % (status,))
        self.emit(FINAL_EVENT, status=status, error=error, detail=detail, **fields)
