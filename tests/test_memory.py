"""The worker's memory probes: the host peak is read from the kernel, and a machine without NVIDIA's driver
library gets no device figure with the reason, never a made-up number."""
import ctypes.util
import subprocess
import sys

from dlbench.worker.memory import DeviceMemory


def test_the_host_peak_grows_with_what_the_process_touches():
    # In a fresh process: this one's peak may already be above anything the test allocates.
    code = ("import numpy as np; from dlbench.worker.memory import peak_host_bytes; before = peak_host_bytes(); "
            "block = np.ones(128 * 2 ** 20 // 8); print(before, peak_host_bytes(), block.sum() > 0)")
    before, after, touched = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                            check=True).stdout.split()
    # 128 MiB written; the peak before may have been a moment above the resident set at the allocation
    assert touched == "True" and int(after) >= int(before) + 96 * 2 ** 20, (before, after)


def test_without_nvml_the_device_peak_is_absent_and_says_why():
    if ctypes.util.find_library("nvidia-ml"):
        import pytest
        pytest.skip("this machine has NVIDIA's driver library")
    peak, why = DeviceMemory().peak()
    assert peak is None and why.startswith("unavailable: ")
