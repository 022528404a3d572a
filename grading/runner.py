"""Grade one submission: run the graded tests in a forked grading run, under a cap.

`grade(source, options)` forks a grading run (pytest with `grading.plugin`, whose
student processes are forked from its zygote), reads one JSON line per test from a
pipe as results arrive, and kills the whole tree when the wall-clock cap is reached:
results already received are kept, tests not finished are reported as not run. The
score is computed here from those lines, written only by the grader's own code; the
student's processes cannot reach the pipe (their descriptors are closed on start).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grading import confine, defaults, shards
from grading.assignment import DEFAULT_ASSIGNMENT, Assignment, load
from grading.report import IMPORT_NOT_RUN, safe_text
from grading.sandbox import SubmissionImportError, kill_descendants
from grading.score import FAILED, NOT_RUN, PASSED, GradingResult, TestOutcome, TestSpec
from grading.zygote import ZygoteProcess

__all__ = ["GradingOptions", "grade", "hidden_summary"]

GRADING_DIR = Path(__file__).resolve().parent
REPO_DIR = GRADING_DIR.parent
PYTEST_INI = GRADING_DIR / "pytest.ini"
# The environment of a grading run: nothing of the caller's (API keys, tokens).
RUN_ENVIRONMENT_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR")


@dataclass(frozen=True)
class GradingOptions:
    """How to grade: limits, whether hidden tests run (`check` does not run them), and
    whether weak isolation is accepted (`check` accepts it; `grade`/`batch` refuse it
    unless told)."""

    test_timeout: float = defaults.TEST_TIMEOUT_S
    run_timeout: float = defaults.RUN_TIMEOUT_S
    memory_mb: int = defaults.MEMORY_MB
    run_hidden: bool = True
    namespaces: bool = True
    allow_weak_isolation: bool = False
    # Shards a run starts with (more start while tests wait on deadlines); see
    # `grading.shards`. A batch grades submissions in parallel, so one each there.
    shards: int = 2
    # The assignment graded: a name under grading/assignments/ or a folder's path.
    assignment: str = DEFAULT_ASSIGNMENT

    def load_assignment(self) -> Assignment:
        return load(self.assignment)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> GradingOptions:
        return cls(**json.loads(text))


_IMPORT_ERROR = f"{SubmissionImportError.__module__}.{SubmissionImportError.__qualname__}: "
# Hints pytest adds for someone at its command line, meaningless in feedback.
_PYTEST_HINT = re.compile(r"^\W*(Use -v+ to get|Full output truncated|Omitting \d+ identical)")
_DID_NOT_RAISE = re.compile(r"^Failed: DID NOT RAISE (?:any of \()?([\w., ]*)")


def _public_message(report: pytest.TestReport) -> str:
    """A failure as the student reads it: the test's own sentence and, for a comparison,
    what was expected and what came back (`grading.plugin` words it), never pytest's
    introspection of the assert statement or its command-line hints."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = safe_text(_in_words(crash.message if crash is not None else str(report.longrepr)))
    if len(text) > defaults.MESSAGE_LIMIT:
        cut = len(text) - defaults.MESSAGE_LIMIT
        text = f"{text[: defaults.MESSAGE_LIMIT]} [cut: {cut} more characters]"
    output = dict(report.user_properties).get("student_output")
    if output:
        text += "\n\nYour code printed:\n" + safe_text(str(output)[: defaults.OUTPUT_SHOWN_CHARS])
    return text


def _in_words(text: str) -> str:
    text = text.strip()
    if text.startswith(_IMPORT_ERROR):
        reason = text[len(_IMPORT_ERROR) :]
        return reason if reason.startswith("refused:") else IMPORT_NOT_RUN
    # The grader's own exceptions by their name only (`SubmissionTimeout: ...`).
    text = re.sub(r"^grading\.(?:\w+\.)+(?=\w+: )", "", text)
    lines = [line for line in text.splitlines() if not _PYTEST_HINT.match(line)]
    text = "\n".join(lines).strip()
    raised = _DID_NOT_RAISE.match(text)
    if raised:
        names = raised.group(1).strip()
        names = "an exception" if names.startswith("any exception") or not names else names
        return f"expected {names} to be raised, but nothing was raised"
    if text.startswith("Failed: "):  # pytest.fail(...) in a test: its message is the reason
        return text[len("Failed: ") :]
    if "(raised by your code while " in text or not text.startswith("AssertionError"):
        return text  # an exception of the student's code, or a crash: name and message
    lines = text.removeprefix("AssertionError").removeprefix(":").strip().splitlines()
    # A rewritten assert: the test's message, then `assert <explanation>` and `where`
    # lines naming the code's sub-expressions.
    start = next((i for i, line in enumerate(lines) if line.startswith("assert ")), len(lines))
    message = "\n".join(lines[:start]).strip()
    explanation = lines[start].removeprefix("assert ").strip() if start < len(lines) else ""
    words = explanation if explanation.startswith("expected ") else ""
    if message and words and not _values_shown(message, words):
        return f"{message}\n{words}"
    if message or words:
        return message or words
    where = [line.strip().lstrip("+ ").strip() for line in lines[start + 1 :]]
    detail = "; ".join(part for part in [explanation, *where] if part)
    return "a check of this test did not hold" + (f": {detail}" if detail else "")


def _values_shown(message: str, words: str) -> bool:
    """Whether the test's message already shows both values of the comparison."""
    from grading.plugin import COMPARISONS

    for template in COMPARISONS.values():
        pattern = re.escape(template).replace(r"\{left\}", "(.+)").replace(r"\{right\}", "(.+)")
        match = re.fullmatch(pattern, words, re.DOTALL)
        if match:  # each value as a whole: `4` is not shown by "after 40 s"
            return all(
                re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", message)
                for value in match.groups()
            )
    return False


class _ResultStream:
    """Plugin of the grading run: one JSON line per event, written to `fd`."""

    def __init__(self, fd: int, run_hidden: bool, queue_fd: int | None = None):
        self.fd = fd
        self.run_hidden = run_hidden
        self.queue_fd = queue_fd
        self.specs: dict[str, TestSpec] = {}
        self.failed: dict[str, pytest.TestReport] = {}
        self.durations: dict[str, float] = {}

    def _emit(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list) -> None:
        from grading.plugin import assignment_of
        from grading.score import spec_from_item

        assignment = assignment_of(config)
        for item in items:
            self.specs[item.nodeid] = spec_from_item(item, assignment)
        if not self.run_hidden:
            hidden = [item for item in items if self.specs[item.nodeid].hidden]
            items[:] = [item for item in items if not self.specs[item.nodeid].hidden]
            config.hook.pytest_deselected(items=hidden)
        self._emit(
            {
                "event": "collected",
                "tests": [vars(s) for s in self.specs.values()],
                "selected": [item.nodeid for item in items],
            }
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Run the tests the runner hands out, one at a time, until it says stop."""
        if self.queue_fd is None or session.config.option.collectonly:
            return None
        from grading.plugin import runtime_of

        runtime_of(session.config).start()  # ready before the first test is asked for
        items = {item.nodeid: item for item in session.items}
        with open(self.queue_fd, "rb", buffering=0, closefd=False) as queue:
            while True:
                self._emit({"event": "next"})
                node = queue.readline().decode().strip()
                if not node:
                    return True
                item = items.get(node)
                if item is not None:
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = report.nodeid
        self.durations[node] = self.durations.get(node, 0.0) + report.duration
        if (report.failed or report.skipped) and node not in self.failed:
            self.failed[node] = report
        if report.when != "teardown":
            return
        spec = self.specs[node]
        failure = self.failed.get(node)
        kind = ""
        if failure is None:
            status, message = PASSED, ""
        else:
            kind = str(dict(failure.user_properties).get("outcome_kind", "error"))
            status, message = FAILED, _public_message(failure)
            # A hidden test shows only its feedback (never its own text), unless it could
            # not run at all: then it says so, like every other test.
            if spec.hidden and message != IMPORT_NOT_RUN:
                message = spec.feedback or ""
        event = {"node_id": node, "status": status, "message": message, "kind": kind}
        self._emit({"event": "result", **event, "duration": self.durations[node]})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from grading.plugin import runtime_of
        from grading.runtime import weak_isolation_gaps

        runtime = runtime_of(session.config)
        self._emit(
            {
                "event": "runtime",
                "protections": runtime.protections,
                "import_error": None if runtime.refusal else runtime.import_error,
                "refusal": runtime.refusal,
                "missing": runtime.missing,
                "isolation": runtime.isolation,
                "gaps": weak_isolation_gaps(runtime.protections),
            }
        )


def _pytest_args(source: Path, options: GradingOptions, collect_only: bool = False) -> list[str]:
    assignment = options.load_assignment()
    paths = [str(assignment.public_dir)]
    if assignment.hidden_dir.is_dir():
        paths.append(str(assignment.hidden_dir))
    args = [
        "-c",
        str(PYTEST_INI),
        "--rootdir",
        str(assignment.folder),
        f"--submission={source}",
        f"--test-timeout={options.test_timeout}",
        f"--run-timeout={options.run_timeout}",
        f"--memory-mb={options.memory_mb}",
        "-p",
        "no:cacheprovider",
        "-q",
        # Only the crash line is reported: skip rendering source in tracebacks (slow).
        "--tb=native",
        *(["--no-namespaces"] if not options.namespaces else []),
        *(["--refuse-weak-isolation"] if not options.allow_weak_isolation else []),
        *(["--collect-only"] if collect_only else []),
    ]
    return args + paths


_SHARED_ZYGOTE: ZygoteProcess | None = None


def share_zygote() -> None:
    """Grade every later submission of this process with one zygote (batch workers)."""
    global _SHARED_ZYGOTE
    if _SHARED_ZYGOTE is None or not _SHARED_ZYGOTE.alive:
        _SHARED_ZYGOTE = ZygoteProcess()


def _run_environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in RUN_ENVIRONMENT_KEEP if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def _run_command(source: Path, options: GradingOptions, mode: str) -> list[str]:
    return [sys.executable, "-m", "grading.runner", mode, str(source), options.to_json()]


def _run_main(argv: list[str]) -> None:
    """A grading run (shard): pytest with the result stream; exits with pytest's status.

    `argv`: mode ("run" or "collect"), source, options as JSON, then `--events-fd=N`,
    `--queue-fd=N` and `--zygote-fd=N` (see `grading.shards`).
    """
    mode, source, options_json = argv[0], Path(argv[1]), argv[2]
    fds = dict(arg[2:].split("=", 1) for arg in argv[3:])
    options = GradingOptions.from_json(options_json)
    code = os.EX_SOFTWARE
    try:
        queue_fd = int(fds["queue-fd"]) if mode == "run" else None
        stream = _ResultStream(int(fds["events-fd"]), options.run_hidden, queue_fd)
        args = _pytest_args(source, options, collect_only=mode == "collect")
        if "zygote-fd" in fds:
            args.insert(0, f"--zygote-fd={fds['zygote-fd']}")
        code = int(pytest.main(args, plugins=[stream]))
    finally:
        sys.stdout.flush()
        os._exit(code)


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
    zygote = _SHARED_ZYGOTE if _SHARED_ZYGOTE and _SHARED_ZYGOTE.alive else ZygoteProcess()
    controls = zygote.controls(shards.MAX_SHARDS)
    command, environment = _run_command(source, options, "run"), _run_environment()

    def start_another() -> shards.Shard | None:
        if not controls:
            return None
        return shards.start_shard(command, environment, controls.pop(0), log_path)

    running: list[shards.Shard] = []
    try:
        for _ in range(max(1, min(options.shards, shards.MAX_SHARDS))):
            running.append(start_another())  # type: ignore[arg-type]
        deadline = started + options.run_timeout + defaults.GRACE_S
        events, timed_out = shards.drive(
            running, start_another, deadline, retries=defaults.TIMEOUT_RETRIES
        )
    finally:
        for control in controls:
            control.close()
        for shard in running:
            shard.close()
            _end(shard.process)
        if zygote is not _SHARED_ZYGOTE:
            zygote.stop()  # it holds nothing to flush
        kill_descendants(spare=children_before)  # a shared zygote is spared, not its children
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
            # In the order of the assignment's requirement table, public before hidden.
            specs.sort(key=lambda spec: (spec.requirement_rank, spec.hidden))
        elif event["event"] == "result":
            finished[event["node_id"]] = event
        elif event["event"] == "runtime":  # one per shard: the weakest one counts
            if event.get("protections") and (
                not result.protections or event.get("isolation") == "weak"
            ):
                result.protections = list(event["protections"])
                result.isolation = event.get("isolation")
                result.isolation_gaps = list(event.get("gaps") or [])
            if event.get("refusal"):
                result.refusal = str(event["refusal"])
            notes = []
            if event.get("import_error"):
                notes.append(safe_text(str(event["import_error"])))
            if event.get("missing"):
                entry = options.load_assignment().entry_file
                notes.append(f"missing from {entry}: " + ", ".join(event["missing"]))
            result.notes += [note for note in notes if note not in result.notes]
    for spec in specs:
        done = finished.get(spec.node_id)
        if done is not None:
            outcome = TestOutcome(
                spec, done["status"], done["message"], done["duration"], done.get("kind", "")
            )
        elif spec.hidden and not options.run_hidden:
            outcome = TestOutcome(spec, NOT_RUN, "hidden test: run only by the instructor's grader")
        else:
            reason = (
                "the submission's time budget ran out" if timed_out else "the grading run ended"
            )
            outcome = TestOutcome(spec, FAILED, f"not run: {reason}", kind="error")
        result.outcomes.append(outcome)
    if timed_out:
        result.notes.append(
            f"grading stopped after {options.run_timeout + defaults.GRACE_S:.0f} s "
            "(the submission's wall-clock cap); unfinished tests count as failed"
        )


def _children() -> list[Any]:
    import psutil

    return psutil.Process().children()


def _end(run: subprocess.Popen[bytes]) -> None:
    """Reap the grading run, killing it first if it is still running."""
    if run.poll() is None:
        try:
            run.wait(timeout=5)
        except subprocess.TimeoutExpired:
            run.send_signal(signal.SIGKILL)
            run.wait()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hidden_summary(options: GradingOptions | None = None) -> dict[str, Any] | None:
    """Count and points of the hidden tests, per requirement (no names, no code).

    From the hidden tests themselves when present, else from the summary file that
    `release` writes next to the public tests; None when neither exists.
    """
    options = options or GradingOptions()
    assignment = options.load_assignment()
    if not assignment.hidden_dir.is_dir():
        summary_file = assignment.hidden_summary_file
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
    """Collect (without running) every graded test, in a grading run of its own."""
    work = Path(tempfile.mkdtemp(prefix="grading-collect-"))
    command = _run_command(Path(os.devnull), options, "collect")
    shard = shards.start_shard(command, _run_environment(), None, work / "log")
    try:
        events, _ = shards.drive([shard], lambda: None, time.monotonic() + 120)
    finally:
        shard.close()
        _end(shard.process)
        shutil.rmtree(work, ignore_errors=True)
    for event in events:
        if event["event"] == "collected":
            return [TestSpec.from_dict(test) for test in event["tests"]]
    raise RuntimeError("the graded tests could not be collected")


if __name__ == "__main__":
    _run_main(sys.argv[1:])
