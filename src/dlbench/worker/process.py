"""Process setup shared by every trial process: CPU affinity, which frameworks it really imported, and how a failure
is classified into a final status. Python 3.6-safe, standard library only."""
import os
import sys

from dlbench.frameworks import FRAMEWORK_MODULES

OOM_MARKERS = ("out of memory", "resource_exhausted", "resource exhausted", "oom when allocating",
               "failed to allocate")


def pin_threads(threads):
    """Restrict the process to `threads` CPUs: every framework sizes its pools from the affinity it sees, so this
    equalises frameworks whose thread settings differ (XLA on the CPU has no intra-op knob)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)
    return cpus


def imported_frameworks(names=FRAMEWORK_MODULES):
    """The framework modules in sys.modules, with their versions: which frameworks the worker really imported (Keras
    can pull in frameworks other than its backend; DESIGN.md asks to measure it, not assume it)."""
    found = {}
    for name in names:
        module = sys.modules.get(name)
        if module is not None:
            found[name] = getattr(module, "__version__", "unknown")
    return found


def classify(exc):
    """The status of a trial that raised: a device or host out-of-memory is `oom`, anything else `failed`."""
    if isinstance(exc, MemoryError):
        return "oom"
    text = ("%s: %s" % (type(exc).__name__, exc)).lower()
    return "oom" if any(marker in text for marker in OOM_MARKERS) else "failed"


def one_line(exc):
    message = str(exc).strip().splitlines()
    if getattr(exc, "says_it_all", False):  # written for the user already (a model file's mistake): no class name
        return message[0] if message else type(exc).__name__
    return "%s: %s" % (type(exc).__name__, message[0] if message else "")
