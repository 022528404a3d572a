"""Operating-system confinement for a student's process (Linux; degrades elsewhere).

Each function applies one protection to the calling process and says whether it
worked; the caller records which protections are in force so the grader can report
them honestly. Nothing here decides a score.

Strongest setting (root, Linux): new network, PID, mount, IPC and UTS namespaces (no
network at all, every process of the submission dies with its first one, the grader's
files hidden under empty read-only mounts), a dedicated uid per grading run, no new
privileges, and resource limits. Without root, an unprivileged user namespace gives
the same namespaces where the kernel allows it; otherwise only the resource limits
and the Python-level guards of `grading.child` remain.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "apply_limits",
    "drop_capabilities",
    "drop_privileges",
    "enter_namespaces",
    "hide_paths",
    "mount_private_proc",
    "set_child_subreaper",
    "set_no_new_privs",
    "set_parent_death_signal",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_LINUX = sys.platform.startswith("linux")
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if _LINUX else None


def _call(name: str, *args: object) -> bool:
    if _libc is None:
        return False
    function = getattr(_libc, name, None)
    return function is not None and function(*args) == 0


def set_child_subreaper(enable: bool = True) -> bool:
    """Orphans of our descendants (even ones that left their session) become our children."""
    return _call("prctl", PR_SET_CHILD_SUBREAPER, int(enable), 0, 0, 0)


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Receive `sig` when the parent dies, so nothing outlives a killed grader."""
    return _call("prctl", PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def set_no_new_privs() -> bool:
    """setuid binaries and file capabilities can no longer raise our privileges."""
    return _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def enter_namespaces() -> list[str]:
    """Unshare network, PID, mount, IPC and UTS namespaces; the names of those entered.

    Call in a process that will fork the student's process next: the PID namespace
    applies to children, so that child becomes its PID 1 and, when it dies, the kernel
    kills every process left in the namespace. As root this needs nothing more; as
    another user it first enters a user namespace mapping only the current uid.
    """
    if not _LINUX:
        return []
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() == 0:
        return ["network", "pid", "mount", "ipc", "uts"] if _call("unshare", flags) else []
    uid, gid = os.geteuid(), os.getegid()
    if not _call("unshare", flags | CLONE_NEWUSER):
        return []
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    except OSError:
        return ["user"]
    return ["user", "network", "pid", "mount", "ipc", "uts"]


def hide_paths(paths: Iterable[str | Path]) -> list[str]:
    """Cover each existing path with an empty read-only mount; the paths now hidden.

    Needs a private mount namespace (`enter_namespaces`). Directories get an empty
    tmpfs, files a bind of /dev/null, so the student's code cannot read them (solutions,
    hidden tests) nor write them (results, the grader's code).
    """
    if not _LINUX or not _call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None):
        return []
    hidden: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            continue
        target = os.fsencode(str(path))
        if path.is_dir():
            flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            done = _call("mount", b"tmpfs", target, b"tmpfs", flags, b"size=4k,mode=555")
        else:
            done = _call("mount", b"/dev/null", target, None, MS_BIND, None)
        if done:
            hidden.append(str(path))
    return hidden


def mount_private_proc() -> bool:
    """Mount a /proc that shows only our PID namespace (hides the grader's processes)."""
    return _call("mount", b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def apply_limits(
    *, memory_bytes: int, file_bytes: int, cpu_seconds: int, processes: int | None
) -> list[str]:
    """Resource limits for the calling process and its children; the ones applied."""
    applied: list[str] = []
    wanted = [
        ("memory", getattr(resource, "RLIMIT_AS", None), memory_bytes),
        ("file size", resource.RLIMIT_FSIZE, file_bytes),
        ("cpu time", resource.RLIMIT_CPU, cpu_seconds),
        ("core dumps", resource.RLIMIT_CORE, 0),
        ("open files", resource.RLIMIT_NOFILE, 256),
    ]
    if processes is not None:
        wanted.append(("processes", getattr(resource, "RLIMIT_NPROC", None), processes))
    for name, limit, value in wanted:
        if limit is None:
            continue
        try:
            _soft, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
            applied.append(name)
        except (ValueError, OSError):
            continue
    # Past the file-size limit writes fail with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return applied


def drop_privileges(uid: int, gid: int) -> bool:
    """Become `uid`/`gid` with no supplementary groups (root only); whether it worked."""
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except (OSError, AttributeError):
        return False
    return os.getuid() == uid


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> bool:
    """Clear every capability (the ones a user namespace grants), so mounts stay put."""
    if _libc is None or not hasattr(_libc, "capset"):
        return False
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    return _libc.capset(ctypes.byref(header), data) == 0
