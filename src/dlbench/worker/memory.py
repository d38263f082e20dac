"""Peak memory of a trial, measured the same way for every framework. Python 3.6-safe (stdlib only), like the
worker.

- Host: the process's peak resident set (VmHWM on Linux, else getrusage ru_maxrss), read once at the end.
- Device: NVML, read through ctypes from the driver's libnvidia-ml (no Python package needed), sampled by a
  background thread every 0.2 s (DLBENCH_NVML_INTERVAL seconds; 0: only at the start and the end, to check
  whether sampling costs a launch-bound loop time): this process's own used memory where NVML lists it, else (a
  container whose pids NVML cannot see) the device's used memory minus what was in use before the trial began.
  The method goes with the figure.
- The framework allocator's own peak (torch.cuda.max_memory_allocated, JAX's peak_bytes_in_use, TensorFlow's
  get_memory_info peak) comes from the trainer and is reported beside it: NVML also counts the CUDA context,
  cuDNN workspaces and whatever the allocator keeps cached.
"""
import ctypes
import os
import resource
import sys
import threading


def peak_host_bytes():
    """The process's peak resident set. On Linux from VmHWM, which belongs to this program's address space:
    getrusage's ru_maxrss is inherited across fork and kept across exec, so a worker would start at its parent's
    peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


class _MemoryInfo(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class _ProcessInfo(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_uint), ("usedGpuMemory", ctypes.c_ulonglong), ("gpuInstanceId", ctypes.c_uint),
                ("computeInstanceId", ctypes.c_uint)]


class DeviceMemory(object):
    """Samples one GPU's memory in a daemon thread; `peak()` returns (bytes, method) or (None, why not)."""

    INTERVAL = float(os.environ.get("DLBENCH_NVML_INTERVAL", "0.2"))

    def __init__(self, index=0):
        self.own, self.delta, self.method = None, 0, None
        self._stop = threading.Event()
        try:
            self.nvml = ctypes.CDLL("libnvidia-ml.so.1")
            if self.nvml.nvmlInit_v2() != 0:
                raise OSError("nvmlInit failed")
            self.handle = ctypes.c_void_p()
            if self.nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(self.handle)) != 0:
                raise OSError("no NVML device %d" % index)
        except (OSError, AttributeError) as exc:
            self.nvml, self.method = None, "unavailable: %s" % exc
            return
        self.baseline = self._device_used()
        self._thread = threading.Thread(target=self._sample, name="dlbench-nvml")
        self._thread.daemon = True
        if self.INTERVAL > 0:
            self._thread.start()

    def _device_used(self):
        info = _MemoryInfo()
        self.nvml.nvmlDeviceGetMemoryInfo(self.handle, ctypes.byref(info))
        return info.used

    def _process_used(self):
        """This process's bytes on the device, or None if NVML does not list it (another pid namespace)."""
        count = ctypes.c_uint(64)
        infos = (_ProcessInfo * 64)()
        if self.nvml.nvmlDeviceGetComputeRunningProcesses_v3(self.handle, ctypes.byref(count), infos) != 0:
            return None
        for info in infos[:count.value]:
            if info.pid == os.getpid():
                return info.usedGpuMemory
        return None

    def sample(self):
        own = self._process_used()
        if own is not None:
            self.own = max(self.own or 0, own)
        self.delta = max(self.delta, self._device_used() - self.baseline)

    def _sample(self):
        while not self._stop.wait(self.INTERVAL):
            self.sample()

    def peak(self):
        if self.nvml is None:
            return None, self.method
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.sample()
        if self.own is not None:
            return self.own, "nvml per process"
        return self.delta, "nvml device used minus the baseline before the trial (no per-process figure)"


def visible_index():
    """The NVML index of the first GPU this process may use (CUDA_VISIBLE_DEVICES counts physical indices)."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip()
    return int(first) if first.isdigit() else 0
