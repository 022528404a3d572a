"""The grader's side of process isolation: a zygote, student processes, cleanup.

Process tree of one grading run (each arrow is a fork):

    grading run (pytest + fake Redis + fake model; a child subreaper)
      └─ zygote (forked before any thread exists; langchain already imported)
           └─ launcher (enters new namespaces, forks, waits)
                └─ student process (PID 1 of its namespace; `grading.child.main`)

The zygote makes a fresh student process cheap (no interpreter start, no imports)
and keeps fork away from the grader's threads. Each test gets its own student
process; `SubmissionProcess.request` bounds every answer by the test's deadline and
kills the process on time-out. `kill_descendants` ends everything the submission
started, including processes that detached into a new session: without a PID
namespace they are re-parented to the subreaper, which is us.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from grading import confine
from grading.protocol import MAX_ANSWER_BYTES, ProtocolError, read_frame, write_frame

__all__ = [
    "IsolationPlan",
    "SubmissionCrashed",
    "SubmissionFailure",
    "SubmissionImportError",
    "SubmissionProcess",
    "SubmissionTimeout",
    "Zygote",
    "kill_descendants",
]


class SubmissionFailure(Exception):
    """The student's process did not answer properly (never an expected outcome)."""


class SubmissionTimeout(SubmissionFailure):
    """No answer before the test's deadline; the process was killed."""


class SubmissionCrashed(SubmissionFailure):
    """The process ended (exit, crash, memory limit) or broke the protocol."""


class SubmissionImportError(SubmissionFailure):
    """`chat_application.py` could not be imported."""


@dataclass
class IsolationPlan:
    """How student processes of one grading run are confined (decided by the grader)."""

    submission_dir: str
    work_dir: str
    redis_socket: str = ""
    model_socket: str = ""
    hide_paths: list[str] = field(default_factory=list)
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 1024 * 1024
    cpu_seconds: int = 300
    processes: int = 64
    namespaces: bool = True
    uid: int | None = None
    gid: int | None = None

    def spec(self, redis_socket: str, model_socket: str) -> dict[str, Any]:
        return {
            "submission_dir": self.submission_dir,
            "work_dir": self.work_dir,
            "redis_socket": redis_socket,
            "model_socket": model_socket,
            "hide_paths": self.hide_paths,
            "namespaces": self.namespaces,
            "uid": self.uid,
            "gid": self.gid,
            "limits": {
                "memory_bytes": self.memory_bytes,
                "file_bytes": self.file_bytes,
                "cpu_seconds": self.cpu_seconds,
                "processes": self.processes,
            },
        }


def _close_fds_except(keep: set[int]) -> None:
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _launcher(spec: dict[str, Any], fds: list[int], control: socket.socket) -> None:
    """Enter namespaces, fork the student's process, report its pid, wait for it."""
    from grading import child

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    namespaces = confine.enter_namespaces() if spec["namespaces"] else []
    pid = os.fork()
    if pid == 0:
        control.close()
        child.main(spec, fds[0], fds[1], namespaces)
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"pid": pid}).encode())
    control.close()
    while True:
        try:
            os.waitpid(pid, 0)
            break
        except ChildProcessError:
            break
        except InterruptedError:
            continue


def _zygote_main(control: socket.socket) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    _close_fds_except({control.fileno()})
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    # Objects imported so far are never collected: forked processes then share their
    # pages instead of copying them when the collector walks them.
    gc.collect()
    gc.freeze()
    while True:
        _reap_children()
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 2)
        except OSError:
            return
        if not message:
            return
        pid = os.fork()
        if pid == 0:
            try:
                _launcher(json.loads(message), fds, control)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)


class Zygote:
    """A pre-imported process that forks student processes on request.

    Start it before the grading run starts any thread. `spawn` hands it the two
    descriptors the new process keeps (its end of the protocol socket, its output
    file) and returns the new process's pid as seen from here.
    """

    def __init__(self) -> None:
        self.pid: int | None = None
        self._control: socket.socket | None = None

    def start(self) -> Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                _zygote_main(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self._control = pid, ours
        return self

    def spawn(self, spec: dict[str, Any], fds: list[int], timeout: float = 10.0) -> int:
        if self._control is None:
            raise RuntimeError("the zygote is not running")
        socket.send_fds(self._control, [json.dumps(spec).encode()], fds)
        self._control.settimeout(timeout)
        try:
            reply = json.loads(self._control.recv(1 << 16))
        except (OSError, ValueError) as exc:
            raise SubmissionCrashed(f"could not start the submission's process: {exc}") from None
        return int(reply["pid"])

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None


def _children_of(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc (fast), or through psutil elsewhere."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        try:
            return [child.pid for child in psutil.Process(pid).children()]
        except psutil.Error:
            return []
    children: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children += [int(value) for value in handle.read().split()]
        except (OSError, ValueError):
            continue
    return children


def _descendants_of(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        for child in _children_of(queue.pop()):
            found.append(child)
            queue.append(child)
    return found


def _processes_of_uid(uid: int) -> list[int]:
    found = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info.get("uids")
        if uids is not None and uid in (uids.real, uids.effective):
            found.append(proc.pid)
    return found


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True


def kill_descendants(spare: set[int] | None = None, uid: int | None = None) -> int:
    """SIGKILL every descendant of this process except the processes in `spare`; reap them.

    A spared process is kept but its descendants are not. With `uid`, also every
    process running as that uid wherever it is (the uid is dedicated to one grading
    run). Processes are stopped before they are killed and the walk repeats until
    nothing is left, so a process that forks meanwhile is caught on the next pass.
    Returns how many were killed.
    """
    spare = spare or set()
    me = os.getpid()
    killed = 0
    for _ in range(50):
        victims = [pid for pid in _descendants_of(me) if pid not in spare]
        if uid is not None:
            victims += _processes_of_uid(uid)
        live = [pid for pid in dict.fromkeys(victims) if pid != me and not _is_zombie(pid)]
        for pid in live:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)  # a stopped process cannot fork again
        for pid in live:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        _reap_our_children(spare)
        if not live:
            return killed
        time.sleep(0.005)
    return killed


def _reap_our_children(spare: set[int]) -> None:
    for pid in _children_of(os.getpid()):
        if pid not in spare:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def _read_with_deadline(sock: socket.socket, deadline: float) -> Any:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    readable, _, _ = select.select([sock], [], [], remaining)
    if not readable:
        raise TimeoutError
    sock.settimeout(max(deadline - time.monotonic(), 0.001))
    return read_frame(sock, MAX_ANSWER_BYTES)  # socket.timeout is TimeoutError


class SubmissionProcess:
    """One student process, driven through the protocol under a deadline.

    `deadline` is a callable returning the `time.monotonic()` instant after which
    the current test has run out of time.
    """

    def __init__(self, zygote: Zygote, spec: dict[str, Any], output_path: Path, deadline):
        self.output_path = output_path
        self.deadline = deadline
        self.protections: list[str] = []
        self.missing: list[str] = []
        self._dead: str | None = None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        output_fd = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.pid = zygote.spawn(spec, [theirs.fileno(), output_fd])
        finally:
            theirs.close()
            os.close(output_fd)
        self._sock = ours
        hello = self._receive("starting and importing chat_application.py")
        if "import_error" in hello:
            error = hello["import_error"]
            self.kill()
            raise SubmissionImportError(
                f"chat_application.py could not be imported: {error['type']}: {error['message']}"
            )
        if "ready" not in hello:
            self.kill()
            raise SubmissionCrashed("the submission's process sent an unexpected greeting")
        self.protections = list(hello["ready"].get("protections", []))
        self.missing = list(hello["ready"].get("missing", []))

    def _receive(self, doing: str) -> dict[str, Any]:
        try:
            answer = _read_with_deadline(self._sock, self.deadline())
        except TimeoutError:
            self.kill()
            self._dead = f"timed out earlier, while {doing}"
            raise SubmissionTimeout(f"no answer in time while {doing} (killed)") from None
        except (ProtocolError, OSError) as exc:
            self.kill()
            self._dead = f"ended earlier, while {doing}"
            raise SubmissionCrashed(
                f"the submission's process ended or broke the protocol while {doing} "
                f"(it exited, crashed or exceeded a limit: {exc})"
            ) from None
        if not isinstance(answer, dict):
            self.kill()
            raise SubmissionCrashed(f"invalid answer while {doing}")
        return answer

    def request(self, payload: dict[str, Any], doing: str) -> dict[str, Any]:
        """Send one request and return the raw answer (`{"ok": ...}` or `{"error": ...}`)."""
        if self._dead is not None:
            raise SubmissionCrashed(f"the submission's process {self._dead}")
        try:
            write_frame(self._sock, payload)
        except OSError:
            self.kill()
            self._dead = f"ended before {doing}"
            raise SubmissionCrashed(f"the submission's process ended before {doing}") from None
        answer = self._receive(doing)
        if "ok" not in answer and "error" not in answer:
            self.kill()
            raise SubmissionCrashed(f"invalid answer while {doing}")
        return answer

    def output(self, limit: int = 2000) -> str:
        """The start of what the process printed (its output is never interpreted)."""
        try:
            with open(self.output_path, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError:
            return ""
        text = data[:limit].decode("utf-8", errors="replace")
        return text + ("\n[... output truncated]" if len(data) > limit else "")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        self._sock.close()
