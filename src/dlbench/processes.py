"""Worker processes that cannot outlive dlbench: each dies with its parent (Linux: PR_SET_PDEATHSIG) and leads its
own session, so that what it started can be ended as a group; a group left behind anyway (a parent killed with
SIGKILL on a system without the death signal, or the worker's own children, which the signal does not reach) is
ended by the next run's sweep of abandoned trials, which finds it by the process id and start time recorded with
its trial (Store.set_worker, Store.close_abandoned)."""
from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: the sweep alone ends what is left
    _prctl = None


def die_with_parent():
    """For Popen's preexec_fn: SIGKILL this child when the process that started it ends. A parent that died before
    the call (the child then belongs to another process already) kills the child at once."""
    parent = os.getppid()
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def started(pid):
    """When the process `pid` started (clock ticks since boot, from /proc), or None: with the pid it names one
    process, even after its pid has been reused."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def group_members(pgid):
    """The live processes of process group `pgid` as {pid: start time}."""
    members = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members[int(entry)] = int(fields[19])
    return members


def end_group(pid, start):
    """SIGKILL the process group a worker `pid` (started at `start`) leads, if it is still that worker's group:
    its leader is that very process, or the leader is gone and every member started after it (a pid that is a
    live group's id is never given to a new process). Returns whether it killed anything."""
    if not pid or start is None:
        return False
    members = group_members(pid)
    if not members or (pid in members and members[pid] != start) or any(s < start for s in members.values()):
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True
