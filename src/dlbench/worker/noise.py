"""What else the machine did while a trial was timed: the CPUs other processes kept busy, and the share of CPU time
the hypervisor stole, read from /proc/stat around each timed stretch (an epoch, a batch size's passes). The load
average a trial starts with says little about the seconds it measures; these cover exactly them.

Linux only: elsewhere nothing is reported (None). Python 3.6-safe, standard library only, like the worker.
"""
import os
import time


def cpu_counters():
    """(busy, steal, total) clock ticks of every CPU together since boot, or None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except (IOError, OSError):
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = ([int(v) for v in fields[1:9]] + [0] * 8)[:8]
    # guest time is already inside user and nice
    return user + nice + system + irq + softirq, steal, user + nice + system + idle + iowait + irq + softirq + steal


class Sampler(object):
    """start() before a timed stretch, stop() after it: {"other_cpus": CPUs kept busy by other processes on
    average, "steal": the stolen share of all CPU time}, or {} where the counters are not available."""

    def __init__(self):
        self.ticks = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
        self.begin = None

    def start(self):
        self.begin = (cpu_counters(), time.process_time(), time.perf_counter())

    def stop(self):
        counters, own, wall = cpu_counters(), time.process_time(), time.perf_counter()
        if self.begin is None or counters is None or self.begin[0] is None:
            return {}
        (busy0, steal0, total0), own0, wall0 = self.begin
        busy, steal, total = counters
        seconds = wall - wall0
        if seconds <= 0:
            return {}
        # this process's own CPU time (every thread) is the trial's; the rest of the busy time is someone else's
        others = max(0.0, (busy - busy0) / self.ticks - (own - own0)) / seconds
        return {"other_cpus": round(others, 3),
                "steal": round((steal - steal0) / float(total - total0), 4) if total > total0 else None}
