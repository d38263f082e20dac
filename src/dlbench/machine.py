"""Facts about this machine, read without any framework. Python 3.6-safe: the worker uses it too."""
import os
import platform
import socket


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except (IOError, OSError):
        pass
    return platform.processor() or platform.machine()


def available_cpus():
    """CPUs this process may run on (its affinity), which is what the frameworks size their thread pools from."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def memory_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (IOError, OSError, ValueError):
        pass
    return None


def hostname():
    return socket.gethostname()


def describe():
    return {
        "hostname": hostname(), "platform": platform.platform(), "python": platform.python_version(),
        "cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "cpus_available": available_cpus(),
        "memory_bytes": memory_bytes(),
    }


def gpus():
    """NVIDIA GPUs as nvidia-smi sees them (name, driver, memory), without importing any framework."""
    import subprocess
    fields = ("name", "driver_version", "memory.total")
    try:
        out = subprocess.check_output(["nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv,noheader"],
                                      stderr=subprocess.DEVNULL, timeout=20).decode()
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) == len(fields):
            found.append(dict(zip(("name", "driver", "memory"), values)))
    return found
