"""The pytest plugin of graded tests: markers, options, isolation runtime, fixtures.

Loaded by `grading/tests/pytest.ini` (`-p grading.plugin`), so graded tests are
ordinary pytest tests that also run alone: `pytest grading/tests/public
--submission exercises`. The grader (`grading.runner`) loads the same plugin.

Fixtures for tests (each test gets fresh ones):

- `redis_store`: the fake Redis (`grading.fakes.FakeRedisService`), to inspect keys;
- `model`: the fake chat model (`grading.fakes.ModelService`), to inspect prompts;
- `app`: the submission's `ChatApplication` with the fakes injected;
- `make_app(**options)`: another one (`new_process=True`: in a new process);
- `make_history(session_id, **options)`: a `LimitedRedisChatHistory`;
- `submission_mro(name)`: the class names in the ancestry of a module attribute.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grading import confine
from grading.collect import prepare
from grading.fakes import FakeRedisService, ModelService
from grading.remote import RemoteApp, RemoteHistory, class_mro
from grading.sandbox import (
    IsolationPlan,
    SubmissionImportError,
    SubmissionProcess,
    Zygote,
    kill_descendants,
)
from grading.score import spec_from_item

__all__ = ["GradingRuntime", "runtime_of"]

MARKERS = [
    "points(n): points earned when the test passes",
    "requirement(name): the requirement the test grades (see grading.score.REQUIREMENTS)",
    "hidden: a hidden test, never shipped to students",
    "feedback(message): what students read about a hidden test",
]
# Imported once here so that every student process, forked from the zygote, has them.
PRELOAD = (
    "httpx",
    "redis",
    "langchain_openai",
    "langchain_core.chat_history",
    "langchain_core.messages",
    "langchain_core.prompts",
    "langchain_core.runnables.history",
    "memory_course.deprecations",
    "memory_course.factories",
    "memory_course.offline_guard",
    "memory_course.offline_model",
)
GRADING_DIR = Path(__file__).resolve().parent
REPO_DIR = GRADING_DIR.parent
_RUNTIME = pytest.StashKey["GradingRuntime"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grading")
    group.addoption(
        "--submission",
        default=os.environ.get("GRADING_SUBMISSION", str(REPO_DIR / "exercises")),
        help="folder holding the chat_application.py under test (default: exercises/)",
    )
    group.addoption("--test-timeout", type=float, default=5.0, help="seconds per test")
    group.addoption("--run-timeout", type=float, default=300.0, help="seconds for the whole run")
    group.addoption("--memory-mb", type=int, default=1024, help="address-space cap (MiB)")
    group.addoption(
        "--hide-path",
        action="append",
        default=[],
        help="a path the submission must not see (repeatable)",
    )
    group.addoption(
        "--no-namespaces",
        action="store_true",
        help="do not use Linux namespaces (shows the fallback isolation)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    config.stash[_RUNTIME] = GradingRuntime(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            spec_from_item(item)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_sessionfinish(session: pytest.Session) -> None:
    session.config.stash[_RUNTIME].close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    output = item.stash.get(_OUTPUT, "")
    if report.failed and output:
        report.user_properties.append(("student_output", output))


_OUTPUT = pytest.StashKey[str]()


def _warm_up() -> None:
    """Import and exercise the usual code paths once, so forked processes start warm.

    A first `ChatOpenAI`, chain and HTTP call cost ~0.3 s of imports and schema
    building; done here, before the zygote forks, no student process pays it again.
    Every thread it starts has ended when it returns (the zygote must fork alone).
    Done once per process tree: a process forked after it inherits the warm state.
    """
    global _warm
    if _warm:
        return
    for module in PRELOAD:
        __import__(module)
    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from grading.child import chat_model, redis_client
    from memory_course.deprecations import silence_known_deprecations

    silence_known_deprecations()
    with tempfile.TemporaryDirectory(prefix="grading-warm-") as folder:
        model = ModelService(Path(folder, "model.sock"))
        store = FakeRedisService(Path(folder, "redis.sock"))
        try:
            prompt = ChatPromptTemplate.from_messages(
                [("system", "warm-up"), MessagesPlaceholder("history"), ("human", "{input}")]
            )
            history = InMemoryChatMessageHistory()
            llm = chat_model(model.socket_path)
            chain = RunnableWithMessageHistory(
                prompt | llm,
                lambda _session: history,
                input_messages_key="input",
                history_messages_key="history",
            )
            chain.invoke({"input": "Hello"}, config={"configurable": {"session_id": "warm"}})
            llm.http_client.close()  # ends the server's keep-alive thread
            client = redis_client(store.socket_path, decode_responses=False)
            client.set("warm", "up")
            client.close()
        finally:
            model.stop()
            store.stop()
    deadline = time.monotonic() + 2
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    _warm = True


_warm = False


def runtime_of(config: pytest.Config) -> GradingRuntime:
    return config.stash[_RUNTIME]


def _dedicated_uid() -> int | None:
    """A uid used by nobody else, unique to this run (root only), or None."""
    if os.geteuid() != 0:
        return None
    candidate = 1_000_000 + os.getpid()
    try:
        ranges = Path("/proc/self/uid_map").read_text().split("\n")
    except OSError:
        return None
    for line in ranges:
        parts = line.split()
        if len(parts) == 3 and int(parts[0]) <= candidate < int(parts[0]) + int(parts[2]):
            return candidate
    return None


class GradingRuntime:
    """Per-run state: the run folder, the isolation plan, the zygote, the deadline."""

    def __init__(self, config: pytest.Config):
        self.submission = Path(config.getoption("submission")).resolve()
        self.test_timeout = float(config.getoption("test_timeout"))
        self.run_timeout = float(config.getoption("run_timeout"))
        self.memory_bytes = int(config.getoption("memory_mb")) * 1024 * 1024
        self.extra_hidden = [str(Path(p).resolve()) for p in config.getoption("hide_path")]
        self.namespaces = not config.getoption("no_namespaces")
        self.started = time.monotonic()
        self.zygote: Zygote | None = None
        self.plan: IsolationPlan | None = None
        self.run_dir: Path | None = None
        self.import_error: str | None = None
        self.problem: str | None = None
        self.protections: list[str] = []
        self.missing: list[str] = []
        self._counter = itertools.count(1)

    @property
    def run_deadline(self) -> float:
        return self.started + self.run_timeout

    def start(self) -> GradingRuntime:
        """Prepare the isolation and import-check the submission (once per run)."""
        if self.zygote is not None:
            return self
        _warm_up()
        confine.set_child_subreaper()
        self.run_dir = Path(tempfile.mkdtemp(prefix="grading-run-"))
        self.run_dir.chmod(0o711)
        uid = _dedicated_uid()
        work = self.run_dir / "work"
        work.mkdir()
        (self.run_dir / "sockets").mkdir(mode=0o755)
        (self.run_dir / "outputs").mkdir(mode=0o700)
        if uid is not None:
            os.chown(work, uid, uid)
        # The submission runs from a copy: its original folder may sit anywhere.
        prepared = prepare(self.submission, self.run_dir / "submission")
        self.problem = prepared.problem
        hide = [str(GRADING_DIR), str(REPO_DIR / "solutions"), str(REPO_DIR / "tests")]
        if self.submission.is_dir():
            hide.append(str(self.submission))
        self.plan = IsolationPlan(
            submission_dir=str(prepared.folder),
            work_dir=str(work),
            hide_paths=[*hide, *self.extra_hidden],
            memory_bytes=self.memory_bytes,
            cpu_seconds=int(self.run_timeout) + 5,
            namespaces=self.namespaces,
            uid=uid,
            gid=uid,
        )
        self.zygote = Zygote().start()
        self._preflight()
        return self

    def _preflight(self) -> None:
        if self.problem:
            self.import_error = f"the submission could not be used: {self.problem}"
            return
        try:
            process = self.spawn("", "", lambda: time.monotonic() + max(self.test_timeout, 10.0))
        except SubmissionImportError as exc:
            self.import_error = str(exc)
        except Exception as exc:
            self.import_error = f"the submission could not be started: {exc}"
        else:
            self.protections, self.missing = process.protections, process.missing
            process.kill()
        self.cleanup()

    def spawn(
        self, redis_socket: str, model_socket: str, deadline: Callable[[], float]
    ) -> SubmissionProcess:
        assert self.zygote is not None and self.plan is not None and self.run_dir is not None
        output = self.run_dir / "outputs" / f"{next(self._counter)}.log"
        spec = self.plan.spec(redis_socket, model_socket)
        return SubmissionProcess(self.zygote, spec, output, deadline)

    def new_socket_dir(self) -> Path:
        assert self.run_dir is not None
        path = self.run_dir / "sockets" / str(next(self._counter))
        path.mkdir(mode=0o755)
        return path

    def cleanup(self) -> int:
        """End every process a submission left behind (between tests and at the end)."""
        spare = {self.zygote.pid} if self.zygote and self.zygote.pid else set()
        uid = self.plan.uid if self.plan else None
        return kill_descendants(spare, uid=uid)

    def close(self) -> None:
        if self.zygote is not None:
            self.cleanup()
            self.zygote.stop()
            self.zygote = None
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None


class _Submission:
    """The student processes of one test; the first is shared by `app`/`make_app`."""

    def __init__(self, runtime: GradingRuntime, redis_store: FakeRedisService, model: ModelService):
        self.runtime = runtime
        self.redis_store = redis_store
        self.model = model
        start = time.monotonic()
        self.deadline = lambda: min(start + runtime.test_timeout, runtime.run_deadline)
        self.processes: list[SubmissionProcess] = []

    def new_process(self) -> SubmissionProcess:
        if self.runtime.import_error:
            raise SubmissionImportError(self.runtime.import_error)
        process = self.runtime.spawn(
            self.redis_store.socket_path, self.model.socket_path, self.deadline
        )
        self.processes.append(process)
        return process

    def default(self) -> SubmissionProcess:
        return self.processes[0] if self.processes else self.new_process()

    def output(self) -> str:
        return "\n".join(text for text in (p.output() for p in self.processes) if text)


@pytest.fixture(scope="session")
def grading_runtime(request: pytest.FixtureRequest) -> GradingRuntime:
    return runtime_of(request.config).start()


@pytest.fixture
def _sockets(grading_runtime: GradingRuntime) -> Path:
    if grading_runtime.import_error:  # fail before starting any fake service
        raise SubmissionImportError(grading_runtime.import_error)
    return grading_runtime.new_socket_dir()


@pytest.fixture
def redis_store(_sockets: Path) -> Iterator[FakeRedisService]:
    service = FakeRedisService(_sockets / "redis.sock")
    yield service
    service.stop()


@pytest.fixture
def model(_sockets: Path) -> Iterator[ModelService]:
    service = ModelService(_sockets / "model.sock")
    yield service
    service.stop()


@pytest.fixture
def submission(
    request: pytest.FixtureRequest,
    grading_runtime: GradingRuntime,
    redis_store: FakeRedisService,
    model: ModelService,
) -> Iterator[_Submission]:
    if time.monotonic() >= grading_runtime.run_deadline:
        pytest.fail(
            f"not run: the time budget of {grading_runtime.run_timeout:.0f} s for this "
            "submission is exhausted",
            pytrace=False,
        )
    handle = _Submission(grading_runtime, redis_store, model)
    yield handle
    for process in handle.processes:
        process.kill()
    grading_runtime.cleanup()
    request.node.stash[_OUTPUT] = handle.output()


@pytest.fixture
def make_app(submission: _Submission) -> Callable[..., RemoteApp]:
    """`make_app(new_process=False, redis_client=True, llm=True, **options)`.

    `options` go to `ChatApplication(...)` (max_messages, session_ttl, system_prompt,
    redis_url); `redis_client`/`llm` inject the grader's fake Redis and fake model.
    """

    def make(
        *,
        new_process: bool = False,
        redis_client: bool = True,
        llm: bool = True,
        decode_responses: bool = False,
        **options: Any,
    ) -> RemoteApp:
        process = submission.new_process() if new_process else submission.default()
        return RemoteApp(
            process,
            options,
            redis_client=redis_client,
            llm=llm,
            decode_responses=decode_responses,
        )

    return make


@pytest.fixture
def app(make_app: Callable[..., RemoteApp]) -> RemoteApp:
    return make_app()


@pytest.fixture
def make_history(submission: _Submission) -> Callable[..., RemoteHistory]:
    """`make_history(session_id, **options)`: a LimitedRedisChatHistory on the fake Redis."""

    def make(session_id: str, *, decode_responses: bool = False, **options: Any) -> RemoteHistory:
        return RemoteHistory(
            submission.default(), session_id, options, decode_responses=decode_responses
        )

    return make


@pytest.fixture
def submission_mro(submission: _Submission) -> Callable[[str], list[str]]:
    return lambda name: class_mro(submission.default(), name)
