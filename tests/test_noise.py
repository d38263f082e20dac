"""The worker's noise sampler: the CPU time other processes take during a timed stretch, read from /proc/stat, and
not the trial's own. Checked against what the kernel says each process used, so that other load on the machine
(tests running beside these) cannot make them fail."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from dlbench.worker.noise import Sampler, cpu_counters

pytestmark = pytest.mark.skipif(cpu_counters() is None, reason="no /proc/stat here")

SPIN = "import time\nend = time.time() + {s}\nwhile time.time() < end: pass\n"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def test_another_process_spinning_counts_as_other_cpus():
    sampler = Sampler()
    child = subprocess.Popen([sys.executable, "-c", SPIN.format(s=2.0)])
    time.sleep(0.3)  # past the interpreter's start
    before, wall = cpu_seconds(child.pid), time.perf_counter()
    sampler.start()
    time.sleep(1.0)
    found = sampler.stop()
    share = (cpu_seconds(child.pid) - before) / (time.perf_counter() - wall)
    child.wait()
    assert found["other_cpus"] >= share - 0.1, (found, share)  # the child's CPU is in it, whatever else ran
    assert share > 0.2 and 0.0 <= found["steal"] <= 1.0


def test_the_trials_own_work_is_not_counted_as_others():
    a = np.random.default_rng(0).random((1500, 1500))
    sampler = Sampler()
    sampler.start()
    own, wall = time.process_time(), time.perf_counter()
    while time.perf_counter() < wall + 1.0:  # the trial's own work, on every CPU (BLAS threads)
        a @ a
    found = sampler.stop()
    own_share = (time.process_time() - own) / (time.perf_counter() - wall)
    # Counted as someone else's too, the trial's CPU would make others + own exceed the machine's CPUs.
    assert found["other_cpus"] + own_share <= os.cpu_count() + 0.15, (found, own_share)


def test_without_a_start_nothing_is_reported():
    assert Sampler().stop() == {}
