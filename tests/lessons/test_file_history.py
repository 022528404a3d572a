"""The hardened file history: safe names, atomic writes, cross-process locking, UTF-8."""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from pathlib import Path

import pytest
from filelock import FileLock, Timeout
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from memory_course.file_history import (
    MAX_SESSION_ID_LENGTH,
    CorruptHistoryError,
    FileChatMessageHistory,
    validate_session_id,
)
from memory_course.subprocess_demo import run_and_kill, run_in_parallel, run_python
from tests.lessons.history_support import append_from_threads

NON_ASCII = "Café ☕, naïve Zoë, 日本語, emoji 🎉"


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- session ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "session_id",
    [
        "..",
        "../x",
        "../../x",
        "a/../../b",
        "/etc/passwd",
        "/tmp/x",
        "C:\\Windows\\x",
        "a/b",
        "a\\b",
        "a\x00b",
        "\x00",
        "x" * (MAX_SESSION_ID_LENGTH + 1),
        "x" * 10_000,
        "",
        ".hidden",
        "-starts-with-dash",
        "Alex",
        "alex.json",
        "nul",
        "com1",
        "alex\n",
        "al ex",
    ],
)
def test_unsafe_session_ids_are_rejected_and_nothing_is_written(
    tmp_path: Path, session_id: str
) -> None:
    storage = tmp_path / "sandbox" / "histories"
    with pytest.raises(ValueError):
        FileChatMessageHistory(session_id, storage)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("session_id", [None, 42, b"alex"])
def test_non_string_session_ids_are_rejected(tmp_path: Path, session_id: object) -> None:
    with pytest.raises(ValueError, match="must be a str"):
        FileChatMessageHistory(session_id, tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "session_id",
    ["alex", "user-42_trip", "0", str(uuid.UUID(int=7, version=4)), "x" * MAX_SESSION_ID_LENGTH],
)
def test_safe_session_ids_are_accepted_and_stay_inside_the_folder(
    tmp_path: Path, session_id: str
) -> None:
    assert validate_session_id(session_id) == session_id
    history = FileChatMessageHistory(session_id, tmp_path)
    history.add_messages([HumanMessage("hello")])
    assert history.path.resolve().parent == tmp_path.resolve()
    assert f"{session_id}.json" in _files(tmp_path)


def test_over_long_id_error_does_not_echo_the_whole_id() -> None:
    with pytest.raises(ValueError) as caught:
        validate_session_id("x" * 10_000)
    assert len(str(caught.value)) < 200


# --- basic contract ----------------------------------------------------------------------


def test_round_trip_through_a_new_instance(tmp_path: Path) -> None:
    turns = [SystemMessage("Be brief."), HumanMessage("Hi, I'm Alex"), AIMessage("Hello, Alex!")]
    FileChatMessageHistory("alex", tmp_path).add_messages(turns)
    again = FileChatMessageHistory("alex", tmp_path).messages
    assert [(type(m), m.content) for m in again] == [(type(m), m.content) for m in turns]


def test_missing_file_means_empty_history_and_folder_is_created(tmp_path: Path) -> None:
    history = FileChatMessageHistory("new", tmp_path / "a" / "b")
    assert history.messages == []
    assert (tmp_path / "a" / "b").is_dir()


def test_clear_empties_the_session_only(tmp_path: Path) -> None:
    alex = FileChatMessageHistory("alex", tmp_path)
    sam = FileChatMessageHistory("sam", tmp_path)
    alex.add_messages([HumanMessage("a")])
    sam.add_messages([HumanMessage("s")])
    alex.clear()
    assert alex.messages == []
    assert [m.content for m in sam.messages] == ["s"]
    assert json.loads(alex.path.read_text(encoding="utf-8")) == []


def test_add_messages_is_one_locked_read_modify_write(tmp_path: Path, monkeypatch) -> None:
    history = FileChatMessageHistory("alex", tmp_path)
    history.add_messages([HumanMessage("first")])
    writes: list[int] = []
    original = FileChatMessageHistory._write

    def counting_write(self, messages):
        assert self._lock.is_locked, "writes must happen under the session lock"
        writes.append(len(messages))
        return original(self, messages)

    monkeypatch.setattr(FileChatMessageHistory, "_write", counting_write)
    history.add_messages([HumanMessage("2"), AIMessage("3"), HumanMessage("4")])
    assert writes == [4]
    assert [m.content for m in history.messages] == ["first", "2", "3", "4"]


def test_update_applies_a_change_atomically(tmp_path: Path) -> None:
    history = FileChatMessageHistory("alex", tmp_path)
    history.add_messages([HumanMessage(str(n)) for n in range(5)])
    kept = history.update(lambda current: current[-2:])
    assert [m.content for m in kept] == ["3", "4"]
    assert [m.content for m in history.messages] == ["3", "4"]


def test_a_failing_change_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    history = FileChatMessageHistory("alex", tmp_path)
    history.add_messages([HumanMessage("keep me")])
    before = history.path.read_bytes()

    def broken(current):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        history.update(broken)
    assert history.path.read_bytes() == before


def test_a_message_that_cannot_be_serialised_leaves_the_file_intact(tmp_path: Path) -> None:
    history = FileChatMessageHistory("alex", tmp_path)
    history.add_messages([HumanMessage("Hi, I'm Alex")])
    before = history.path.read_bytes()
    bad = HumanMessage("hello", additional_kwargs={"sent_at": datetime.datetime(2024, 1, 1)})
    with pytest.raises(TypeError):
        history.add_messages([bad])
    assert history.path.read_bytes() == before
    assert [p for p in _files(tmp_path) if p.endswith(".tmp")] == []


def test_lock_timeout_raises_instead_of_waiting_forever(tmp_path: Path) -> None:
    history = FileChatMessageHistory("alex", tmp_path, lock_timeout=0.05)
    other = FileLock(tmp_path / "alex.json.lock")
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with other:
            holder_ready.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    holder_ready.wait()
    try:
        with pytest.raises(Timeout):
            history.add_messages([HumanMessage("blocked")])
    finally:
        release.set()
        holder.join()
    history.add_messages([HumanMessage("after")])
    assert [m.content for m in history.messages] == ["after"]


# --- corrupt files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'[{"type": "human", "data": {"content": "Hi', "invalid JSON"),
        (b"", "invalid JSON"),
        (b'{"type": "human"}', "expected a JSON list"),
        (b'[{"nope": 1}]', "not a list of messages"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_corrupt_files_raise_a_clear_error_and_are_not_overwritten(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    (tmp_path / "alex.json").write_bytes(content)
    history = FileChatMessageHistory("alex", tmp_path)
    with pytest.raises(CorruptHistoryError, match=reason) as caught:
        history.messages  # noqa: B018
    assert "'alex'" in str(caught.value)
    assert "alex.json" in str(caught.value)
    assert caught.value.path == history.path
    with pytest.raises(CorruptHistoryError):
        history.add_messages([HumanMessage("more")])
    assert history.path.read_bytes() == content


# --- crashes, concurrency and encodings, in real processes ------------------------------

WRITER_LOOP = """
from langchain_core.messages import HumanMessage
from memory_course.file_history import FileChatMessageHistory

history = FileChatMessageHistory("crash", ".")
for n in range(100_000):
    history.add_messages([HumanMessage(f"message {n}")])
    if n == 9:
        print("ready", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_sigkill_mid_write_loop_leaves_a_parseable_prefix(tmp_path: Path, delay: float) -> None:
    result = run_and_kill(WRITER_LOOP, after=delay, cwd=tmp_path)
    assert result.returncode != 0, "the writer was supposed to be killed, not to finish"
    text = (tmp_path / "crash.json").read_text(encoding="utf-8")
    contents = [item["data"]["content"] for item in json.loads(text)]
    assert len(contents) >= 10
    assert contents == [f"message {n}" for n in range(len(contents))]
    assert [m.content for m in FileChatMessageHistory("crash", tmp_path).messages] == contents


CONCURRENT_WRITER = """
from langchain_core.messages import HumanMessage
from memory_course.file_history import FileChatMessageHistory
from memory_course.subprocess_demo import wait_for_start

worker = wait_for_start()
history = FileChatMessageHistory("shared", ".")
for n in range({per_worker}):
    history.add_messages([HumanMessage(f"{{worker}}:{{n}}")])
"""


@pytest.mark.slow
def test_four_processes_appending_fifty_messages_each_keep_all_two_hundred(
    tmp_path: Path,
) -> None:
    run_in_parallel(CONCURRENT_WRITER.format(per_worker=50), 4, cwd=tmp_path)
    contents = [m.content for m in FileChatMessageHistory("shared", tmp_path).messages]
    assert len(contents) == 200
    for worker in range(4):
        mine = [c for c in contents if c.startswith(f"{worker}:")]
        assert mine == [f"{worker}:{n}" for n in range(50)], "each writer's order is kept"


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    """Watch the file without taking the lock while another thread keeps rewriting it."""
    history = FileChatMessageHistory("watched", tmp_path)
    history.add_messages([HumanMessage("seed " + "x" * 2000)])
    done = threading.Event()
    observations: list[bool] = []

    def watch() -> None:
        while not done.is_set():
            try:
                json.loads(history.path.read_text(encoding="utf-8"))
                observations.append(True)
            except ValueError:
                observations.append(False)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for n in range(60):
            history.add_messages([HumanMessage(f"{n} " + "y" * 2000)])
    finally:
        done.set()
        watcher.join()
    assert observations, "the watcher never ran"
    assert all(observations)


def test_threads_sharing_one_instance_lose_nothing(tmp_path: Path) -> None:
    history = FileChatMessageHistory("threads", tmp_path)
    append_from_threads(history, workers=4, each=20)
    assert len(history.messages) == 80


ROUND_TRIP = """
import locale, sys
from langchain_core.messages import HumanMessage
from memory_course.file_history import FileChatMessageHistory

print(locale.getpreferredencoding(False))
history = FileChatMessageHistory("zoe", ".")
history.add_messages([HumanMessage({text!r})])
print(FileChatMessageHistory("zoe", ".").messages[0].content == {text!r})
"""

NON_UTF8_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}


def test_non_ascii_round_trips_under_a_non_utf8_locale(tmp_path: Path) -> None:
    result = run_python(ROUND_TRIP.format(text=NON_ASCII), cwd=tmp_path, env=NON_UTF8_LOCALE)
    encoding, same = result.lines
    if encoding.lower().replace("-", "") in {"utf8", "utf_8"}:
        pytest.skip("this platform forces UTF-8; the locale test would prove nothing")
    assert same == "True"
    raw = (tmp_path / "zoe.json").read_bytes()
    assert NON_ASCII.encode("utf-8") in raw
    # And the file written under that locale reads back in this (UTF-8) process.
    assert FileChatMessageHistory("zoe", tmp_path).messages[0].content == NON_ASCII


def test_the_naive_version_fails_under_the_same_locale(tmp_path: Path) -> None:
    """The control experiment: without an explicit encoding the same write breaks."""
    source = ROUND_TRIP.format(text=NON_ASCII).replace(
        'FileChatMessageHistory("zoe", ".")', 'NaiveFileChatMessageHistory("zoe", ".")'
    )
    source = source.replace("import FileChatMessageHistory", "import NaiveFileChatMessageHistory")
    result = run_python(source, cwd=tmp_path, env=NON_UTF8_LOCALE, check=False)
    if result.lines and result.lines[0].lower().replace("-", "") in {"utf8", "utf_8"}:
        pytest.skip("this platform forces UTF-8")
    assert result.returncode != 0
    assert "UnicodeEncodeError" in result.stderr
