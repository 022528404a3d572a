"""Grade one submission: run the graded tests in a forked grading run, under a cap.

`grade(source, options)` forks a grading run (pytest with `grading.plugin`, whose
student processes are forked from its zygote), reads one JSON line per test from a
pipe as results arrive, and kills the whole tree when the wall-clock cap is reached:
results already received are kept, tests not finished are reported as not run. The
score is computed here from those lines, written only by the grader's own code; the
student's processes cannot reach the pipe (their descriptors are closed on start).
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grading import confine
from grading.plugin import GRADING_DIR, runtime_of
from grading.sandbox import kill_descendants
from grading.score import FAILED, NOT_RUN, PASSED, GradingResult, TestOutcome, TestSpec

__all__ = ["GradingOptions", "grade", "hidden_summary"]

TESTS_DIR = GRADING_DIR / "tests"
HIDDEN_SUMMARY = TESTS_DIR / "hidden_summary.json"
# Seconds the grading run may take beyond the tests' own budget (start-up, teardown).
GRACE_SECONDS = 30.0
MESSAGE_LIMIT = 1500
OUTPUT_LIMIT = 1000


@dataclass(frozen=True)
class GradingOptions:
    """How to grade: limits, and whether hidden tests run (`check` does not run them)."""

    test_timeout: float = 5.0
    run_timeout: float = 300.0
    memory_mb: int = 1024
    run_hidden: bool = True
    namespaces: bool = True
    hide_paths: tuple[str, ...] = ()
    tests_dir: Path = field(default=TESTS_DIR)


def _public_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    text = text.strip()
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + " [...]"
    output = dict(report.user_properties).get("student_output")
    if output:
        text += "\n\nYour code printed:\n" + str(output)[:OUTPUT_LIMIT]
    return text


class _ResultStream:
    """Plugin of the grading run: one JSON line per event, written to `fd`."""

    def __init__(self, fd: int, run_hidden: bool):
        self.fd = fd
        self.run_hidden = run_hidden
        self.specs: dict[str, TestSpec] = {}
        self.failed: dict[str, pytest.TestReport] = {}
        self.durations: dict[str, float] = {}

    def _emit(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list) -> None:
        from grading.score import spec_from_item

        for item in items:
            self.specs[item.nodeid] = spec_from_item(item)
        self._emit({"event": "collected", "tests": [vars(s) for s in self.specs.values()]})
        if not self.run_hidden:
            hidden = [item for item in items if self.specs[item.nodeid].hidden]
            items[:] = [item for item in items if not self.specs[item.nodeid].hidden]
            config.hook.pytest_deselected(items=hidden)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = report.nodeid
        self.durations[node] = self.durations.get(node, 0.0) + report.duration
        if (report.failed or report.skipped) and node not in self.failed:
            self.failed[node] = report
        if report.when != "teardown":
            return
        spec = self.specs[node]
        failure = self.failed.get(node)
        if failure is None:
            status, message = PASSED, ""
        elif spec.hidden:
            status, message = FAILED, spec.feedback or ""
        else:
            status, message = FAILED, _public_message(failure)
        event = {"node_id": node, "status": status, "message": message}
        self._emit({"event": "result", **event, "duration": self.durations[node]})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        runtime = runtime_of(session.config)
        self._emit(
            {
                "event": "runtime",
                "protections": runtime.protections,
                "import_error": runtime.import_error,
                "missing": runtime.missing,
            }
        )


def _pytest_args(source: Path, options: GradingOptions, collect_only: bool = False) -> list[str]:
    tests = options.tests_dir
    paths = [str(tests / "public")]
    if (tests / "hidden").is_dir():
        paths.append(str(tests / "hidden"))
    args = [
        "-c",
        str(tests / "pytest.ini"),
        "--rootdir",
        str(tests),
        f"--submission={source}",
        f"--test-timeout={options.test_timeout}",
        f"--run-timeout={options.run_timeout}",
        f"--memory-mb={options.memory_mb}",
        "-p",
        "no:cacheprovider",
        "-q",
        # Only the crash line is reported: skip rendering source in tracebacks (slow).
        "--tb=native",
        *[f"--hide-path={p}" for p in options.hide_paths],
        *(["--no-namespaces"] if not options.namespaces else []),
        *(["--collect-only"] if collect_only else []),
    ]
    return args + paths


def _grading_run(write_fd: int, log_path: Path, source: Path, options: GradingOptions) -> None:
    """The forked grading run: pytest with the result stream; never returns."""
    code = 70
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        stream = _ResultStream(write_fd, options.run_hidden)
        code = int(pytest.main(_pytest_args(source, options), plugins=[stream]))
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _read_events(read_fd: int, deadline: float) -> tuple[list[dict[str, Any]], bool]:
    """JSON events until EOF; `timed_out` is True when the deadline came first."""
    events: list[dict[str, Any]] = []
    buffer = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return events, True
        readable, _, _ = select.select([read_fd], [], [], remaining)
        if not readable:
            return events, True
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return events, False
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        events.extend(json.loads(line) for line in lines if line.strip())


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


def grade(
    source: Path, options: GradingOptions | None = None, name: str | None = None
) -> GradingResult:
    """Grade the submission at `source` (folder or zip); see the module docstring.

    Never raises for a bad submission: problems become notes and failed tests.
    """
    options = options or GradingOptions()
    source = Path(source).resolve()
    result = GradingResult(name or source.name, worker_pid=os.getpid())
    work = Path(tempfile.mkdtemp(prefix="grading-"))
    log_path = work / "grading-run.log"
    children_before = {child.pid for child in _children()}
    was_subreaper = confine.set_child_subreaper()
    started, cpu_before = time.monotonic(), _children_cpu()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _grading_run(write_fd, log_path, source, options)
    os.close(write_fd)
    try:
        deadline = started + options.run_timeout + GRACE_SECONDS
        events, timed_out = _read_events(read_fd, deadline)
    finally:
        os.close(read_fd)
        _end(pid)
        kill_descendants(spare=children_before)
        if was_subreaper:
            confine.set_child_subreaper(False)
    result.execution_time = time.monotonic() - started
    result.cpu_time = _children_cpu() - cpu_before
    _assemble(result, events, timed_out, options)
    if not result.outcomes:
        result.notes.append("internal grader error: no test ran\n" + _tail(log_path))
    shutil.rmtree(work, ignore_errors=True)
    return result


def _assemble(
    result: GradingResult, events: list[dict[str, Any]], timed_out: bool, options: GradingOptions
) -> None:
    specs: list[TestSpec] = []
    finished: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["event"] == "collected":
            specs = [TestSpec.from_dict(test) for test in event["tests"]]
        elif event["event"] == "result":
            finished[event["node_id"]] = event
        elif event["event"] == "runtime":
            result.protections = list(event.get("protections") or [])
            if event.get("import_error"):
                result.notes.append(str(event["import_error"]))
            if event.get("missing"):
                result.notes.append(
                    "missing from chat_application.py: " + ", ".join(event["missing"])
                )
    for spec in specs:
        done = finished.get(spec.node_id)
        if done is not None:
            outcome = TestOutcome(spec, done["status"], done["message"], done["duration"])
        elif spec.hidden and not options.run_hidden:
            outcome = TestOutcome(spec, NOT_RUN, "hidden test: run only by the instructor's grader")
        else:
            reason = (
                "the submission's time budget ran out" if timed_out else "the grading run ended"
            )
            outcome = TestOutcome(spec, FAILED, f"not run: {reason}")
        result.outcomes.append(outcome)
    if timed_out:
        result.notes.append(
            f"grading stopped after {options.run_timeout + GRACE_SECONDS:.0f} s "
            "(the submission's wall-clock cap); unfinished tests count as failed"
        )


def _children() -> list[Any]:
    import psutil

    return psutil.Process().children()


def _end(pid: int) -> None:
    """Reap the grading run, killing it first if it is still running."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hidden_summary(options: GradingOptions | None = None) -> dict[str, Any] | None:
    """Count and points of the hidden tests, per requirement (no names, no code).

    From the hidden tests themselves when present, else from the summary file that
    `release` writes next to the public tests; None when neither exists.
    """
    options = options or GradingOptions()
    hidden_dir = options.tests_dir / "hidden"
    if not hidden_dir.is_dir():
        summary_file = options.tests_dir / HIDDEN_SUMMARY.name
        return json.loads(summary_file.read_text()) if summary_file.is_file() else None
    specs = _collect_specs(options)
    by_requirement: dict[str, dict[str, float]] = {}
    for spec in specs:
        if spec.hidden:
            entry = by_requirement.setdefault(spec.requirement, {"tests": 0, "points": 0.0})
            entry["tests"] += 1
            entry["points"] += spec.points
    return {
        "tests": sum(int(e["tests"]) for e in by_requirement.values()),
        "points": sum(e["points"] for e in by_requirement.values()),
        "by_requirement": by_requirement,
    }


def _collect_specs(options: GradingOptions) -> list[TestSpec]:
    """Collect (without running) every graded test, in a forked process."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        code = 70
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            stream = _ResultStream(write_fd, run_hidden=True)
            args = _pytest_args(Path(os.devnull), options, collect_only=True)
            code = int(pytest.main(args, plugins=[stream]))
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        events, _ = _read_events(read_fd, time.monotonic() + 120)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    for event in events:
        if event["event"] == "collected":
            return [TestSpec.from_dict(test) for test in event["tests"]]
    raise RuntimeError("the graded tests could not be collected")
