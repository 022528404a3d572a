"""Operating-system confinement of a confined process: student code or the fakes.

Each function applies one protection to the calling process and says whether it
worked; the caller records which protections are in force so the grader can report
them honestly. Nothing here decides a score.

Strongest setting (root, Linux): new network, PID, mount, IPC and UTS namespaces (no
network at all, every process dies with its namespace's first one), an allowlist root
(`enter_world`: the Python runtime and the process's own inputs, nothing else of the
host, with a private size-capped /tmp and /dev/shm), a uid of its own, no new
privileges, and resource limits. Without root, an unprivileged user namespace gives
the same namespaces and root where the kernel allows it; otherwise only the resource
limits and the Python-level guards of `grading.child` remain, and the grader calls
that weak isolation (`grading.isolation`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import resource
import signal
import sys

__all__ = [
    "apply_limits",
    "close_fds_except",
    "confine_process",
    "enter_world",
    "drop_capabilities",
    "drop_privileges",
    "enter_namespaces",
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
MS_REMOUNT = 32
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


def apply_limits(
    *,
    memory_bytes: int,
    file_bytes: int,
    cpu_seconds: int,
    processes: int | None,
    open_files: int = 256,
) -> list[str]:
    """Resource limits for the calling process and its children; the ones applied."""
    applied: list[str] = []
    wanted = [
        ("memory", getattr(resource, "RLIMIT_AS", None), memory_bytes),
        ("file size", resource.RLIMIT_FSIZE, file_bytes),
        ("cpu time", resource.RLIMIT_CPU, cpu_seconds),
        ("core dumps", resource.RLIMIT_CORE, 0),
        ("open files", resource.RLIMIT_NOFILE, open_files),
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


def close_fds_except(keep: set[int]) -> None:
    """Close every descriptor above 2 except `keep` (the only ones a child may hold)."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


# ------------------------------------------------------------ the allowlist root

# Host paths every process needs to run Python: the system's programs and libraries
# (top-level symlinks such as /lib -> usr/lib are copied as symlinks) and the few
# files of /etc the dynamic loader and time zones read.
SYSTEM_PATHS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
)
DEVICES = ("null", "zero", "full", "random", "urandom")
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "ppc64le": 203, "s390x": 217}
_READ_ONLY = MS_RDONLY | MS_NOSUID | MS_NODEV


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None):
    if not _call(
        "mount",
        os.fsencode(source) if source else None,
        os.fsencode(target),
        fstype.encode() if fstype else None,
        flags,
        data.encode() if data else None,
    ):
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _bind(host: str, root: str, inside: str | None = None, read_only: bool = True) -> None:
    """Bind `host` into `root` (at the same path, or at `inside`)."""
    target = root + (inside or host)
    if os.path.isdir(host):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a"):
            pass
    _mount(host, target, None, MS_BIND | MS_REC, None)
    if read_only:
        _mount(None, target, None, MS_BIND | MS_REMOUNT | _READ_ONLY, None)


def _add_system_path(path: str, root: str) -> None:
    if os.path.islink(path) and os.path.dirname(path) == "/":
        os.symlink(os.readlink(path), root + path)
    elif os.path.exists(path):
        _bind(os.path.realpath(path), root, path)


def _pivot_root(root: str) -> None:
    import platform

    number = _PIVOT_ROOT.get(platform.machine())
    if _libc is None or number is None:
        raise OSError("pivot_root is not available on this machine")
    os.chdir(root)
    if _libc.syscall(number, b".", b".") != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"pivot_root: {os.strerror(errno)}")
    # The old root is stacked under the new one: detach it, nothing of the host remains.
    if _libc.umount2(b".", 2) != 0:  # MNT_DETACH
        errno = ctypes.get_errno()
        raise OSError(errno, f"umount old root: {os.strerror(errno)}")
    os.chdir("/")


def enter_world(plan, namespaces: list[str]) -> list[str]:
    """Replace the filesystem with an allowlist root; the protections now in force.

    Needs a private mount namespace (and a PID namespace for /proc). The new root is
    an empty tmpfs holding, read-only: the system's programs and libraries, the
    Python runtime and the support package (`plan.runtime_paths`), the submission
    (at `/submission`) and the test's socket folder (at `/run/grader`); plus a fresh
    size-capped `/tmp` and `/dev/shm`, five device nodes and a private `/proc`.
    Everything else of the host (the grader, the hidden tests, the solutions, other
    students' runs, the host's `/tmp`) is simply not there. Raises `WorldUnavailable`
    when the root cannot be built or entered: the process is then still in the host's
    filesystem (with private mounts only), and the caller reports weak isolation.
    """
    root = plan.root_dir
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        _build_root(plan, namespaces)
        _pivot_root(root)
    except OSError as exc:
        raise WorldUnavailable(str(exc)) from None
    applied = ["allowlist root (runtime, support package and own submission only)"]
    applied.append(
        f"private /tmp ({plan.tmp_bytes >> 20} MiB) and /dev/shm ({plan.shm_bytes >> 20} MiB)"
    )
    if "pid" in namespaces:
        applied.append("private /proc")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | _READ_ONLY, None)
    return applied


class WorldUnavailable(OSError):
    """The allowlist root could not be built here (for example, mounts refused in a
    restricted user namespace); the process is still in the host's filesystem."""


def _build_root(plan, namespaces: list[str]) -> None:
    from grading.plan import SOCKET_MOUNT, SUBMISSION_MOUNT

    root = plan.root_dir
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    # The private /tmp and /dev/shm first: a runtime path below the host's /tmp (a
    # checkout there) is then bound on top of them, not hidden under them.
    for folder, size in (("/tmp", plan.tmp_bytes), ("/dev/shm", plan.shm_bytes)):
        os.makedirs(root + folder, exist_ok=True)
        _mount("tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for path in SYSTEM_PATHS:
        _add_system_path(path, root)
    for path in plan.runtime_paths:
        if os.path.exists(path):
            _bind(path, root)
    if plan.submission_dir:
        _bind(plan.submission_dir, root, SUBMISSION_MOUNT)
    if plan.socket_dir:
        _bind(plan.socket_dir, root, SOCKET_MOUNT)
    for device in DEVICES:
        _bind(f"/dev/{device}", root, read_only=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, f"{root}/dev/{name}")
    os.symlink("/proc/self/fd/1", f"{root}/dev/stdout")
    os.symlink("/proc/self/fd/2", f"{root}/dev/stderr")
    if "pid" in namespaces:
        os.makedirs(root + "/proc", exist_ok=True)
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def confine_process(plan, namespaces: list[str]) -> list[str]:
    """Apply `plan` to the calling process (forked by the zygote's launcher, which
    entered `namespaces`); the names of the protections in force.

    With a mount namespace the filesystem becomes the allowlist root; a failure there
    raises, so nothing runs half-confined. Then: resource limits, the run's own uid
    (root) or no capabilities (user namespace), no new privileges, death with the
    parent, and a working folder of its own.
    """
    applied = [f"{name} namespace" for name in namespaces]
    os.setsid()  # its own session and process group: kill(0, ...) reaches no one else
    work_dir = plan.work_dir or "/"
    if "mount" in namespaces:
        try:
            applied += enter_world(plan, namespaces)
            work_dir = "/tmp"
        except WorldUnavailable as exc:  # weak isolation: reported, refused by `grade`
            applied.append(f"no allowlist root ({exc})")
    limits = plan.limits
    applied += [
        f"limit: {name}"
        for name in apply_limits(
            memory_bytes=limits.memory_bytes,
            file_bytes=limits.file_bytes,
            cpu_seconds=limits.cpu_seconds,
            processes=limits.processes if plan.uid is not None else None,
            open_files=limits.open_files,
        )
    ]
    if plan.uid is not None and drop_privileges(plan.uid, plan.gid if plan.gid else plan.uid):
        applied.append(f"dedicated uid {plan.uid}")
    elif "user" in namespaces and drop_capabilities():
        applied.append("no capabilities")
    if set_no_new_privs():
        applied.append("no new privileges")
    set_parent_death_signal()
    os.chdir(work_dir)
    return applied
