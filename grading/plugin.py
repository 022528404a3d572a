"""The pytest plugin of graded tests: markers, options and generic fixtures.

The grader (`grading.runner`) loads it through `grading/pytest.ini` with the
assignment's folder as pytest's rootdir; each assignment's own `pytest.ini` loads it
too, so graded tests also run alone: `pytest grading/assignments/chat_application/public
--submission=exercises`. The assignment is the declaration (`assignment.toml`) in the
rootdir. The run's processes and isolation live in `grading.runtime`.

Generic fixtures (each test gets fresh ones); an assignment's conftest builds its
own on them (the capstone's `app`, `make_app`, `make_history`):

- `assignment`: the declaration (`grading.assignment.Assignment`);
- `redis_store`: the fake Redis (`grading.fakes.FakeRedisService`), to inspect keys;
- `model`: the fake chat model (`grading.fakes.ModelService`), to inspect prompts;
- `submission`: the test's student processes: `.default()` (shared) or
  `.new_process()`, to build objects with `grading.remote.RemoteInstance`;
- `submission_mro(name)`: the class names in the ancestry of a module attribute;
- `harness_scene(name, *args, **options)`: an object of the class `name` of the
  assignment's harness, built in the student's process.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

from grading import defaults
from grading.assignment import Assignment, AssignmentError
from grading.fakes import FakeRedisService, ModelService
from grading.remote import RemoteInstance, class_mro
from grading.runtime import REPO_DIR, GradingRuntime
from grading.sandbox import (
    ServiceProcess,
    SubmissionImportError,
    SubmissionProcess,
    SubmissionTimeout,
)
from grading.score import spec_from_item

__all__ = ["assignment_of", "runtime_of"]

MARKERS = [
    "points(n): points earned when the test passes",
    "requirement(name): the requirement the test grades (one of assignment.toml's keys)",
    "hidden: a hidden test, never shipped to students",
    "feedback(message): what students read about a hidden test",
]
_RUNTIME = pytest.StashKey[GradingRuntime]()
_ASSIGNMENT = pytest.StashKey[Assignment]()
_HANDLE = pytest.StashKey["_Submission"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grading")
    group.addoption(
        "--submission",
        default=os.environ.get("GRADING_SUBMISSION"),
        help="folder holding the entry file under test (default: the folder of the "
        "assignment's stub, exercises/ for the capstone)",
    )
    group.addoption(
        "--test-timeout", type=float, default=defaults.TEST_TIMEOUT_S, help="seconds per test"
    )
    group.addoption(
        "--run-timeout",
        type=float,
        default=defaults.RUN_TIMEOUT_S,
        help="seconds for the whole run",
    )
    group.addoption(
        "--memory-mb", type=int, default=defaults.MEMORY_MB, help="address-space cap (MiB)"
    )
    group.addoption(
        "--no-namespaces",
        action="store_true",
        help="do not use Linux namespaces (shows the weak isolation)",
    )
    group.addoption(
        "--zygote-fd",
        type=int,
        default=None,
        help="control socket of the runner's zygote (set by grading.runner)",
    )
    group.addoption(
        "--refuse-weak-isolation",
        action="store_true",
        help="fail every test when isolation is weak (the grader's default for grade/batch)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    try:
        assignment = Assignment.from_folder(config.rootpath)
    except AssignmentError as exc:
        raise pytest.UsageError(f"graded tests run with an assignment as rootdir: {exc}") from None
    config.stash[_ASSIGNMENT] = assignment
    submission = config.getoption("submission") or (
        str((REPO_DIR / assignment.stub).parent) if assignment.stub else "."
    )
    config.stash[_RUNTIME] = GradingRuntime(
        Path(submission),
        assignment,
        test_timeout=float(config.getoption("test_timeout")),
        run_timeout=float(config.getoption("run_timeout")),
        memory_mb=int(config.getoption("memory_mb")),
        namespaces=not config.getoption("no_namespaces"),
        allow_weak=not config.getoption("refuse_weak_isolation"),
        zygote_control=_control_socket(config.getoption("zygote_fd")),
    )


def _control_socket(fd: int | None) -> socket.socket | None:
    return socket.socket(fileno=fd) if fd is not None else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    assignment = assignment_of(config)
    for item in items:
        try:
            spec_from_item(item, assignment)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_sessionfinish(session: pytest.Session) -> None:
    session.config.stash[_RUNTIME].close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        assertion = call.when == "call" and call.excinfo.errisinstance(AssertionError)
        kind = "failure" if assertion else "error"
        if call.excinfo.errisinstance(SubmissionTimeout):
            kind = "timeout"  # an error the runner may run again (see grading.shards)
        report.user_properties.append(("outcome_kind", kind))
    handle = item.stash.get(_HANDLE, None)
    # Read now, while the test's processes are known: the report is built before teardown.
    if report.failed and handle is not None:
        output = handle.output()
        if output:
            report.user_properties.append(("student_output", output))


# A comparison that failed, in words: the values in full (pytest's own summary cuts long
# values in the middle, session ids included, and adds hints about -v). By convention
# graded tests write `assert actual OP expected`.
COMPARISONS = {
    "==": "expected {right}, got {left}",
    "is": "expected {right}, got {left}",
    "!=": "expected a value other than {right}, got {left}",
    "is not": "expected a value other than {right}, got {left}",
    "in": "expected {left} to be in {right}",
    "not in": "expected {left} not to be in {right}",
    "<": "expected a value below {right}, got {left}",
    "<=": "expected a value of at most {right}, got {left}",
    ">": "expected a value above {right}, got {left}",
    ">=": "expected a value of at least {right}, got {left}",
}
_VALUE_SHOWN_CHARS = 600


def _shown(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a value the student's code built: its repr may fail
        text = f"<{type(value).__name__} object>"
    if len(text) > _VALUE_SHOWN_CHARS:
        hidden = len(text) - _VALUE_SHOWN_CHARS
        text = f"{text[:_VALUE_SHOWN_CHARS]} [and {hidden} more characters]"
    return text


@pytest.hookimpl(tryfirst=True)
def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    template = COMPARISONS.get(op)
    if template is None:
        return None
    return [template.format(left=_shown(left), right=_shown(right))]


def runtime_of(config: pytest.Config) -> GradingRuntime:
    return config.stash[_RUNTIME]


def assignment_of(config: pytest.Config) -> Assignment:
    return config.stash[_ASSIGNMENT]


class _Submission:
    """The student processes of one test; `default()` is the one tests share."""

    def __init__(self, runtime: GradingRuntime, services: ServiceProcess):
        self.runtime = runtime
        self.socket_dir = services.socket_dir
        start = time.monotonic()
        self.deadline = lambda: min(start + runtime.test_timeout, runtime.run_deadline)
        self.processes: list[SubmissionProcess] = []

    def new_process(self) -> SubmissionProcess:
        if self.runtime.import_error:
            raise SubmissionImportError(self.runtime.import_error)
        process = self.runtime.spawn(self.socket_dir, self.deadline)
        self.processes.append(process)
        return process

    def default(self) -> SubmissionProcess:
        return self.processes[0] if self.processes else self.new_process()

    def output(self) -> str:
        return "\n".join(text for text in (p.output() for p in self.processes) if text)


@pytest.fixture(scope="session")
def assignment(request: pytest.FixtureRequest) -> Assignment:
    return assignment_of(request.config)


@pytest.fixture(scope="session")
def grading_runtime(request: pytest.FixtureRequest) -> GradingRuntime:
    return runtime_of(request.config).start()


@pytest.fixture
def _services(grading_runtime: GradingRuntime) -> Iterator[ServiceProcess]:
    if grading_runtime.import_error:  # fail before starting any fake service
        raise SubmissionImportError(grading_runtime.import_error)
    services = grading_runtime.start_services(grading_runtime.new_socket_dir())
    yield services
    services.kill()


@pytest.fixture
def redis_store(_services: ServiceProcess) -> FakeRedisService:
    return FakeRedisService(_services)


@pytest.fixture
def model(_services: ServiceProcess) -> ModelService:
    return ModelService(_services)


@pytest.fixture
def submission(
    request: pytest.FixtureRequest,
    grading_runtime: GradingRuntime,
    _services: ServiceProcess,
) -> Iterator[_Submission]:
    if time.monotonic() >= grading_runtime.run_deadline:
        pytest.fail(
            f"not run: the time budget of {grading_runtime.run_timeout:.0f} s for this "
            "submission is exhausted",
            pytrace=False,
        )
    handle = _Submission(grading_runtime, _services)
    request.node.stash[_HANDLE] = handle
    yield handle
    for process in handle.processes:
        process.kill()


@pytest.fixture(autouse=True)
def _end_processes(grading_runtime: GradingRuntime) -> Iterator[None]:
    """After each test: nothing the submission or its fakes started survives."""
    yield
    grading_runtime.cleanup()


@pytest.fixture
def submission_mro(submission: _Submission) -> Callable[[str], list[str]]:
    return lambda name: class_mro(submission.default(), name)


@pytest.fixture
def harness_scene(submission: _Submission) -> Callable[..., RemoteInstance]:
    """`harness_scene(name, *args, inject=None, label=None, new_process=False, **kwargs)`:
    `name(*args, **kwargs)` of the assignment's harness (`harness.py`), with the resources
    `inject` names, in the test's default student process (`new_process=True`: a new one).
    """

    def build(name: str, *args: Any, new_process: bool = False, **options: Any) -> RemoteInstance:
        process = submission.new_process() if new_process else submission.default()
        return RemoteInstance(process, name, *args, harness=True, **options)

    return build
