"""The grader's side of process isolation: confined processes and cleanup.

Every confined process is forked by the run's zygote (`grading.zygote`), which
never held grader state. `SubmissionProcess` is one student process driven through
`grading.codec` under the test's deadline (killed on time-out); `ServiceProcess` is
the confined process serving one test's fakes (`grading.services`). Both receive
exactly the descriptors they need and nothing else. `kill_descendants` ends
everything a submission started, including processes that detached into a new
session: without a PID namespace they are re-parented to the subreaper, which is us.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from grading import codec, defaults
from grading.codec import Op, ProtocolError
from grading.plan import IsolationPlan
from grading.zygote import Zygote, ZygoteError

__all__ = [
    "ServiceProcess",
    "SubmissionCrashed",
    "SubmissionFailure",
    "SubmissionImportError",
    "SubmissionProcess",
    "SubmissionTimeout",
    "kill_descendants",
]


class SubmissionFailure(Exception):
    """The student's process did not answer properly (never an expected outcome)."""


class SubmissionTimeout(SubmissionFailure):
    """No answer before the test's deadline; the process was killed."""


class SubmissionCrashed(SubmissionFailure):
    """The process ended (exit, crash, memory limit) or broke the protocol."""


class SubmissionImportError(SubmissionFailure):
    """The entry file could not be imported (`protections`: what was in force)."""

    def __init__(self, message: str, protections: list[str] | None = None):
        super().__init__(message)
        self.protections = protections or []


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


def kill_descendants(spare: set[int] | None = None, uids: tuple[int, ...] = ()) -> int:
    """SIGKILL every descendant of this process except the processes in `spare`; reap them.

    A spared process is kept but its descendants are not. With `uids`, also every
    process running as one of them wherever it is (they are dedicated to one grading
    run). Processes are stopped before they are killed and the walk repeats until
    nothing is left, so a process that forks meanwhile is caught on the next pass.
    Returns how many were killed.
    """
    spare = spare or set()
    me = os.getpid()
    killed = 0
    for _ in range(50):
        victims = [pid for pid in _descendants_of(me) if pid not in spare]
        for uid in uids:
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


def _spawn(zygote: Zygote, plan: IsolationPlan, fds: list[int]) -> int:
    try:
        return zygote.spawn(plan, fds)
    except ZygoteError as exc:
        raise SubmissionCrashed(str(exc)) from None


class SubmissionProcess:
    """One student process, driven through the codec under a deadline.

    `deadline` is a callable returning the `time.monotonic()` instant after which
    the current test has run out of time; it bounds every answer end to end.
    """

    def __init__(
        self, zygote: Zygote, plan: IsolationPlan, output_path: Path, deadline: Callable[[], float]
    ):
        self.output_path = output_path
        self.deadline = deadline
        self.protections: list[str] = []
        self.missing: list[str] = []
        self._dead: str | None = None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        output_fd = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.pid = _spawn(zygote, plan, [theirs.fileno(), output_fd])
        finally:
            theirs.close()
            os.close(output_fd)
        self._sock = ours
        entry = plan.entry_file or "the submission"
        hello = self._receive(f"starting and importing {entry}")
        if "fatal" in hello:
            self.kill()
            raise SubmissionCrashed(f"the grader could not confine the process: {hello['fatal']}")
        if "import_error" in hello:
            error = codec.remote_error(hello["import_error"])
            self.kill()
            raise SubmissionImportError(
                f"{entry} could not be imported: {error.type_name}: {error.remote_message}",
                [str(p) for p in hello.get("protections", [])][:64],
            )
        ready = hello.get("ready")
        if not isinstance(ready, dict):
            self.kill()
            raise SubmissionCrashed("the submission's process sent an unexpected greeting")
        self.protections = [str(p) for p in ready.get("protections", [])][:64]
        self.missing = [str(m) for m in ready.get("missing", [])][:16]

    def _receive(self, doing: str) -> dict[str, Any]:
        try:
            answer = codec.read_frame(self._sock, defaults.MAX_ANSWER_BYTES, self.deadline())
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
            self._sock.settimeout(max(self.deadline() - time.monotonic(), 0.001))
            codec.write_frame(self._sock, payload)
        except TimeoutError:
            self.kill()
            self._dead = f"stopped reading before {doing}"
            raise SubmissionTimeout(f"no answer in time while {doing} (killed)") from None
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


class ServiceUnavailable(SubmissionFailure):
    """The fakes of this test stopped answering (the submission may have exhausted them)."""


class ServiceProcess:
    """The confined process serving one test's fake Redis and fake model.

    It is handed two listening sockets (bound here, in a folder only the student's
    uid may enter) and a control socket that only the grader holds.
    """

    def __init__(self, zygote: Zygote, plan: IsolationPlan, socket_dir: Path, uid: int | None):
        self.socket_dir = socket_dir
        listeners = []
        for name in ("redis.sock", "model.sock"):
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(socket_dir / name))
            listener.listen(64)
            if uid is not None:
                os.chown(socket_dir / name, uid, uid)
            os.chmod(socket_dir / name, 0o600 if uid is not None else 0o666)
            listeners.append(listener)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.pid = _spawn(zygote, plan, [theirs.fileno(), *(s.fileno() for s in listeners)])
        finally:
            theirs.close()
            for listener in listeners:
                listener.close()
        self._sock = ours
        # Not awaited here: the sockets already listen, so the student's process can
        # start (and connect) while the fakes get ready; the first request waits.
        self._ready = False
        self.protections: list[str] = []

    def _await_ready(self) -> None:
        hello = self._answer(time.monotonic() + 30, "starting the fake Redis and model")
        if "fatal" in hello or not isinstance(hello.get("ready"), dict):
            self.kill()
            raise ServiceUnavailable(f"the fakes could not start: {hello.get('fatal', hello)}")
        self.protections = [str(p) for p in hello["ready"].get("protections", [])][:64]
        self._ready = True

    def _answer(self, deadline: float, doing: str) -> dict[str, Any]:
        try:
            answer = codec.read_frame(self._sock, defaults.MAX_ANSWER_BYTES, deadline)
        except (TimeoutError, ProtocolError, OSError) as exc:
            self.kill()
            raise ServiceUnavailable(
                f"the fake Redis and model stopped answering while {doing} ({exc or 'time-out'})"
            ) from None
        if not isinstance(answer, dict):
            self.kill()
            raise ServiceUnavailable(f"invalid answer from the fakes while {doing}")
        return answer

    def request(self, op: Op, timeout: float = 10.0, **arguments: Any) -> Any:
        doing = f"reading the fakes ({op.value})"
        if not self._ready:
            self._await_ready()
        try:
            self._sock.settimeout(timeout)
            codec.write_frame(self._sock, {"op": op.value, **arguments})
        except OSError:
            self.kill()
            raise ServiceUnavailable(f"the fakes ended before {doing}") from None
        answer = self._answer(time.monotonic() + timeout, doing)
        if "error" in answer:
            raise ServiceUnavailable(f"the fakes failed while {doing}: {answer['error']}")
        return answer.get("ok")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        self._sock.close()
