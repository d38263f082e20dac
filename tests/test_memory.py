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
