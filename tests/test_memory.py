"""The worker's memory probes: the host peak is read from the kernel, and a machine without NVIDIA's driver
library gets no device figure with the reason, never a made-up number."""
import ctypes.util
import subprocess
import sys

from dlbench.worker.memory import DeviceMemory


def test_the_host_peak_grows_with_what_the_process_touches():
    # In a fresh process, from its resident set just before (its peak may already be higher: imports come and go).
    code = ("import os, numpy as np; from dlbench.worker.memory import peak_host_bytes; "
            "resident = int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'); "
            "block = np.ones(128 * 2 ** 20 // 8); print(resident, peak_host_bytes(), block.sum() > 0)")
    resident, peak, touched = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                             check=True).stdout.split()
    assert touched == "True" and int(peak) >= int(resident) + 120 * 2 ** 20, (resident, peak)  # 128 MiB written


def test_without_nvml_the_device_peak_is_absent_and_says_why():
    if ctypes.util.find_library("nvidia-ml"):
        import pytest
        pytest.skip("this machine has NVIDIA's driver library")
    peak, why = DeviceMemory().peak()
    assert peak is None and why.startswith("unavailable: ")


class Collected(object):
    """The worker's event writer, kept in a list: main() itself is under test, not the pipe."""

    def __init__(self):
        self.events = []

    def emit(self, event, **fields):
        self.events.append(dict(fields, event=event))

    def end(self, status, error=None, detail=None, **fields):
        self.emit("end", status=status, error=error, detail=detail, **fields)


def test_a_failed_inference_trial_still_reports_its_host_peak():
    from dlbench.worker import run

    events = Collected()
    settings = {"device": "cpu", "threads": 1, "seed": 0, "precision": "fp32", "compile": "none"}
    run.main(events, {"key": "k", "workload": "resnet50_features", "framework": "no-such-runtime",
                      "settings": settings, "repeat": 0})
    kinds = [e["event"] for e in events.events]
    assert kinds[-2:] == ["memory", "end"] and events.events[-1]["status"] == "failed"
    assert events.events[-2]["peak_host_bytes"] > 10 * 2 ** 20 and events.events[-2]["peak_device_bytes"] is None


class Driver(object):
    """A stand-in for libnvidia-ml: the few functions DeviceMemory calls, as ctypes would pass them (pointers from
    ctypes.byref, arrays of records). It exports only the process queries it is given, as an older driver exports
    no `_v3` symbol; the others are looked up on it and missing."""

    def __init__(self, used=1000, own=None, queries=()):
        self.used, self.own = used, own
        for name in queries:
            setattr(self, name, self._processes)

    def nvmlInit_v2(self):
        return 0

    def nvmlDeviceGetHandleByIndex_v2(self, index, handle):
        return 0

    def nvmlDeviceGetMemoryInfo(self, handle, info):
        info._obj.used = self.used
        return 0

    def _processes(self, handle, count, infos):
        import os
        infos[0].pid, infos[0].usedGpuMemory = os.getpid(), self.own
        count._obj.value = 1
        return 0


def test_an_older_driver_without_the_v3_process_query_falls_back():
    from dlbench.worker import memory

    v2 = Driver(own=5 * 2 ** 20, queries=["nvmlDeviceGetComputeRunningProcesses_v2"])
    assert memory.process_query(v2)[0] == "nvmlDeviceGetComputeRunningProcesses_v2"
    assert DeviceMemory(library=v2).peak() == (5 * 2 ** 20, "nvml per process")
    # The oldest drivers' unversioned query fills the shorter v1 record.
    v1 = Driver(own=7 * 2 ** 20, queries=["nvmlDeviceGetComputeRunningProcesses"])
    assert memory.process_query(v1)[2] is memory._ProcessInfoV1
    assert DeviceMemory(library=v1).peak() == (7 * 2 ** 20, "nvml per process")
    # No process query at all: the device's rise above its baseline, with the reason, and the trial goes on.
    bare = Driver(used=1000)
    assert memory.process_query(bare) is None
    sampler = DeviceMemory(library=bare)
    bare.used = 3000
    peak, method = sampler.peak()
    assert peak == 2000 and "no process query" in method


def test_a_failing_sample_keeps_the_figure_and_never_raises():
    class Broken(Driver):
        def nvmlDeviceGetMemoryInfo(self, handle, info):
            if self.used > 1000:
                raise OSError("the driver went away")
            return Driver.nvmlDeviceGetMemoryInfo(self, handle, info)

    driver = Broken(used=1000, own=2 ** 20, queries=["nvmlDeviceGetComputeRunningProcesses_v3"])
    sampler = DeviceMemory(library=driver)
    driver.used = 2000
    peak, method = sampler.peak()
    assert peak == 2 ** 20 and "the driver went away" in method
