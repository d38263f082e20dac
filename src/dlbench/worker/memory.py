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
    """nvmlProcessInfo_t, which the _v3 and _v2 process queries fill."""
    _fields_ = [("pid", ctypes.c_uint), ("usedGpuMemory", ctypes.c_ulonglong), ("gpuInstanceId", ctypes.c_uint),
                ("computeInstanceId", ctypes.c_uint)]


class _ProcessInfoV1(ctypes.Structure):
    """nvmlProcessInfo_v1_t, which the unversioned query of older drivers fills."""
    _fields_ = [("pid", ctypes.c_uint), ("usedGpuMemory", ctypes.c_ulonglong)]


# The per-process query, newest first: a driver exports the versions it knows (the _v3 symbol came with newer
# drivers), and the record each fills differs (v1 has no instance ids).
PROCESS_QUERIES = (("nvmlDeviceGetComputeRunningProcesses_v3", _ProcessInfo),
                   ("nvmlDeviceGetComputeRunningProcesses_v2", _ProcessInfo),
                   ("nvmlDeviceGetComputeRunningProcesses", _ProcessInfoV1))


def process_query(library):
    """(name, function, record type) of the newest per-process query the driver's library exports, or None: a
    missing symbol is looked up with getattr, so an old driver costs the per-process figure, never the trial."""
    for name, record in PROCESS_QUERIES:
        function = getattr(library, name, None)
        if function is not None:
            return name, function, record
    return None


class DeviceMemory(object):
    """Samples one GPU's memory in a daemon thread; `peak()` returns (bytes, method) or (None, why not)."""

    INTERVAL = float(os.environ.get("DLBENCH_NVML_INTERVAL", "0.2"))

    def __init__(self, index=0, library=None):
        """library: the loaded libnvidia-ml (None: load it); tests pass a stand-in."""
        self.own, self.delta, self.method = None, 0, None
        self._stop = threading.Event()
        try:
            self.nvml = library if library is not None else ctypes.CDLL("libnvidia-ml.so.1")
            if self.nvml.nvmlInit_v2() != 0:
                raise OSError("nvmlInit failed")
            self.handle = ctypes.c_void_p()
            if self.nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(self.handle)) != 0:
                raise OSError("no NVML device %d" % index)
        except (OSError, AttributeError) as exc:
            self.nvml, self.method = None, "unavailable: %s" % exc
            return
        self.query = process_query(self.nvml)
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
        if self.query is None:
            return None
        _, function, record = self.query
        count = ctypes.c_uint(64)
        infos = (record * 64)()
        if function(self.handle, ctypes.byref(count), infos) != 0:
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
        try:
            while not self._stop.wait(self.INTERVAL):
                self.sample()
        except Exception as exc:  # a probe never fails the trial: the figure so far stands, with the reason
            self.method = "sampling stopped: %s" % exc

    def peak(self):
        if self.nvml is None:
            return None, self.method
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        try:
            self.sample()
        except Exception as exc:
            self.method = "last sample failed: %s" % exc
        note = "" if self.method is None else " (%s)" % self.method
        if self.own is not None:
            return self.own, "nvml per process" + note
        why = "no per-process figure" if self.query is not None else "this driver's NVML has no process query"
        return self.delta, "nvml device used minus the baseline before the trial (%s)%s" % (why, note)


def visible_index():
    """The NVML index of the first GPU this process may use (CUDA_VISIBLE_DEVICES counts physical indices)."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip()
    return int(first) if first.isdigit() else 0
