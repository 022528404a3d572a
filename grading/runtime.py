"""One grading run's world: its folder, its uids, its zygote and the isolation plans.

The pytest plugin (`grading.plugin`) creates one `GradingRuntime` per run and asks it
for confined processes: a student process (`spawn`) and the service process holding
one test's fakes (`start_services`). Everything here runs in the grading run; the
confined processes get only what their `IsolationPlan` names.

Isolation is judged once, from what the first student process reports it could
apply (`isolation_level`). "strong" needs a network, PID and mount namespace with
the allowlist root; anything less is "weak", which `grade` and `batch` refuse
unless the instructor allows it (`--allow-weak-isolation`).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from grading import confine, defaults
from grading.assignment import Assignment
from grading.collect import prepare
from grading.plan import IsolationPlan, Limits
from grading.sandbox import (
    ServiceProcess,
    SubmissionImportError,
    SubmissionProcess,
    kill_descendants,
)
from grading.zygote import Zygote

__all__ = ["GradingRuntime", "STRONG", "WEAK", "isolation_level", "weak_isolation_gaps"]

GRADING_DIR = Path(__file__).resolve().parent
REPO_DIR = GRADING_DIR.parent
STRONG, WEAK = "strong", "weak"
# What a process reports when each protection of strong isolation is in force.
REQUIRED_FOR_STRONG = {
    "network namespace": "network: the submission can open connections (Python guard only)",
    "pid namespace": "processes: the submission can see and signal the grader's processes",
    "mount namespace": "files: the submission can read what its uid can read (solutions, tests)",
    "allowlist root": "files: the host filesystem is visible (solutions, other submissions, /tmp)",
}


def isolation_level(protections: list[str]) -> str:
    return STRONG if not weak_isolation_gaps(protections) else WEAK


def weak_isolation_gaps(protections: list[str]) -> list[str]:
    """What is not protected, in words, given the protections a process reported."""
    return [
        gap
        for needed, gap in REQUIRED_FOR_STRONG.items()
        if not any(p.startswith(needed) for p in protections)
    ]


def runtime_paths() -> tuple[str, ...]:
    """Host paths a confined process needs: the Python runtime and the support package."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(REPO_DIR / "memory_course")}
    paths |= {os.path.realpath(p) for p in list(paths)}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    return tuple(sorted(p for p in paths if os.path.isdir(p)))


def _harness_source(assignment: Assignment) -> str:
    """The harness's text; bounded so the plan fits one message to the zygote."""
    path = assignment.harness_file
    if path is None:
        return ""
    text = path.read_text(encoding="utf-8")
    if len(text.encode()) > defaults.MAX_HARNESS_BYTES:
        raise ValueError(f"{path}: a harness may hold {defaults.MAX_HARNESS_BYTES} bytes")
    return text


def _dedicated_uids() -> tuple[int, int] | None:
    """Two uids used by nobody else, unique to this run (root only): student, fakes."""
    if os.geteuid() != 0:
        return None
    student = defaults.UID_BASE + 2 * os.getpid()
    try:
        ranges = Path("/proc/self/uid_map").read_text().split("\n")
    except OSError:
        return None
    for line in ranges:
        parts = line.split()
        if (
            len(parts) == 3
            and int(parts[0]) <= student
            and student + 1 < int(parts[0]) + int(parts[2])
        ):
            return student, student + 1
    return None


def _own_tree(path: Path, uid: int) -> None:
    """Only `uid` (and root) may read the submission's copy."""
    for root, _dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        os.chmod(root, 0o500)
        for name in files:
            os.chown(os.path.join(root, name), uid, uid)
            os.chmod(os.path.join(root, name), 0o400)


class GradingRuntime:
    """Per-run state: the run folder, the isolation plans, the zygote, the deadline."""

    def __init__(
        self,
        submission: Path,
        assignment: Assignment,
        *,
        test_timeout: float = defaults.TEST_TIMEOUT_S,
        run_timeout: float = defaults.RUN_TIMEOUT_S,
        memory_mb: int = defaults.MEMORY_MB,
        namespaces: bool = True,
        allow_weak: bool = True,
        zygote_control: socket.socket | None = None,
    ):
        self.submission = Path(submission).resolve()
        self.assignment = assignment
        self.test_timeout = test_timeout
        self.run_timeout = run_timeout
        self.memory_bytes = memory_mb * 1024 * 1024
        self.namespaces = namespaces
        self.allow_weak = allow_weak
        self.zygote_control = zygote_control
        self.started = time.monotonic()
        self.zygote: Zygote | None = None
        self.student_plan: IsolationPlan | None = None
        self.service_plan: IsolationPlan | None = None
        self.run_dir: Path | None = None
        self.uids: tuple[int, ...] = ()
        self.import_error: str | None = None
        self.refusal: str | None = None
        self.protections: list[str] = []
        self.missing: list[str] = []
        self._counter = itertools.count(1)

    @property
    def run_deadline(self) -> float:
        return self.started + self.run_timeout

    @property
    def isolation(self) -> str:
        return isolation_level(self.protections)

    def start(self) -> GradingRuntime:
        """Prepare the run's folder, plans and zygote; import-check the submission."""
        if self.zygote is not None:
            return self
        confine.set_child_subreaper()
        uids = _dedicated_uids()
        self.uids = uids or ()
        student_uid, service_uid = uids if uids else (None, None)
        self.run_dir = Path(tempfile.mkdtemp(prefix="grading-run-"))
        for folder in ("root", "work", "sockets", "outputs"):
            (self.run_dir / folder).mkdir(mode=0o700)
        entry_file = self.assignment.entry_file
        prepared = prepare(self.submission, self.run_dir / "submission", entry_file)
        if student_uid is not None:
            # Weak isolation (no new root) reaches its files through the run folder.
            self.run_dir.chmod(0o711)
            (self.run_dir / "sockets").chmod(0o711)
            os.chown(self.run_dir / "work", student_uid, student_uid)
            _own_tree(self.run_dir / "submission", student_uid)
        paths = runtime_paths()
        self.student_plan = IsolationPlan(
            role="student",
            root_dir=str(self.run_dir / "root"),
            runtime_paths=paths,
            limits=Limits(memory_bytes=self.memory_bytes, cpu_seconds=int(self.run_timeout) + 5),
            namespaces=self.namespaces,
            uid=student_uid,
            gid=student_uid,
            submission_dir=str(prepared.folder),
            work_dir=str(self.run_dir / "work"),
            entry_file=entry_file,
            required_names=self.assignment.required_names,
            described_fields=self.assignment.described_fields,
            harness_source=_harness_source(self.assignment),
        )
        self.service_plan = IsolationPlan(
            role="service",
            root_dir=str(self.run_dir / "root"),
            runtime_paths=paths,
            limits=Limits(
                memory_bytes=defaults.SERVICE_MEMORY_MB * 1024 * 1024,
                cpu_seconds=defaults.SERVICE_CPU_S,
            ),
            namespaces=self.namespaces,
            uid=service_uid,
            gid=service_uid,
            work_dir="/",
        )
        if self.zygote_control is not None:  # the runner's zygote, shared by its shards
            self.zygote = Zygote().attach(self.zygote_control)
        else:
            self.zygote = Zygote().start()
        self._preflight(prepared.problem)
        return self

    def _probe_isolation(self) -> list[str]:
        """The protections a confined process gets here, from one that runs no student
        code (its submission folder is empty, so its import fails at once)."""
        assert self.zygote is not None and self.student_plan is not None and self.run_dir
        empty = self.run_dir / "probe"
        empty.mkdir(mode=0o755)
        plan = replace(self.student_plan, submission_dir=str(empty))
        deadline = time.monotonic() + 30
        try:
            SubmissionProcess(self.zygote, plan, self._output_path(), lambda: deadline).kill()
        except SubmissionImportError as exc:
            return exc.protections
        except Exception:
            return []
        return []

    def _preflight(self, problem: str | None) -> None:
        self.protections = self._probe_isolation()
        if self.isolation != STRONG and not self.allow_weak:
            # Refused before any student code runs.
            gaps = "; ".join(weak_isolation_gaps(self.protections))
            self.refusal = self.import_error = (
                "refused: isolation is weak on this machine (" + gaps + "). Grade as root on "
                "Linux, or pass --allow-weak-isolation to grade anyway (results are labelled)."
            )
            return
        try:
            process = self.spawn(None, lambda: time.monotonic() + max(self.test_timeout, 10.0))
        except SubmissionImportError as exc:
            self.import_error = str(exc)
        except Exception as exc:
            self.import_error = f"the submission could not be started: {exc}"
        else:
            self.missing = process.missing
            process.kill()
        if problem:
            self.import_error = f"the submission could not be used: {problem}"
        self.cleanup()

    def _output_path(self) -> Path:
        assert self.run_dir is not None
        return self.run_dir / "outputs" / f"{next(self._counter)}.log"

    def spawn(self, socket_dir: Path | None, deadline: Callable[[], float]) -> SubmissionProcess:
        assert self.zygote is not None and self.student_plan is not None
        plan = replace(self.student_plan, socket_dir=str(socket_dir) if socket_dir else None)
        return SubmissionProcess(self.zygote, plan, self._output_path(), deadline)

    def start_services(self, socket_dir: Path) -> ServiceProcess:
        assert self.zygote is not None and self.service_plan is not None
        student_uid = self.student_plan.uid if self.student_plan else None
        return ServiceProcess(self.zygote, self.service_plan, socket_dir, student_uid)

    def new_socket_dir(self) -> Path:
        """A folder for one test's sockets that only the student's uid may enter."""
        assert self.run_dir is not None
        path = self.run_dir / "sockets" / str(next(self._counter))
        path.mkdir(mode=0o700)
        if self.student_plan is not None and self.student_plan.uid is not None:
            os.chown(path, self.student_plan.uid, self.student_plan.uid)
        return path

    def cleanup(self) -> int:
        """End every process a submission left behind (between tests and at the end)."""
        spare = {self.zygote.pid} if self.zygote and self.zygote.pid else set()
        return kill_descendants(spare, uids=self.uids)

    def close(self) -> None:
        if self.zygote is not None:
            self.cleanup()
            self.zygote.stop()
            self.zygote = None
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
