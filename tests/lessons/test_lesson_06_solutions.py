"""Lesson 6 solutions: a bounded file history, and listing the sessions in a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from memory_course.file_history import FileChatMessageHistory
from solutions.lesson_06 import BoundedFileChatMessageHistory, list_sessions
from tests.lessons.history_support import append_from_threads


def test_bounded_history_keeps_the_newest_messages(tmp_path: Path) -> None:
    history = BoundedFileChatMessageHistory("alex", tmp_path, max_messages=4)
    for n in range(10):
        history.add_messages([HumanMessage(f"q{n}"), AIMessage(f"a{n}")])
    assert [m.content for m in history.messages] == ["q8", "a8", "q9", "a9"]
    # The limit holds on disk: a plain reader sees the same four messages.
    assert len(FileChatMessageHistory("alex", tmp_path).messages) == 4


def test_bounded_history_trims_a_batch_larger_than_the_limit(tmp_path: Path) -> None:
    history = BoundedFileChatMessageHistory("alex", tmp_path, max_messages=3)
    history.add_messages([HumanMessage(str(n)) for n in range(7)])
    assert [m.content for m in history.messages] == ["4", "5", "6"]


def test_bounded_history_under_concurrent_writers(tmp_path: Path) -> None:
    history = BoundedFileChatMessageHistory("shared", tmp_path, max_messages=10)
    append_from_threads(history, workers=3, each=15)
    contents = [m.content for m in history.messages]
    assert len(contents) == 10
    assert {c.split(":")[0] for c in contents} <= {"0", "1", "2"}
    assert any(c.endswith(":14") for c in contents), "the newest messages survive"


@pytest.mark.parametrize("limit", [0, -1])
def test_bounded_history_rejects_a_useless_limit(tmp_path: Path, limit: int) -> None:
    with pytest.raises(ValueError):
        BoundedFileChatMessageHistory("alex", tmp_path, max_messages=limit)


def test_bounded_history_still_validates_session_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        BoundedFileChatMessageHistory("../x", tmp_path, max_messages=5)


def test_list_sessions_lists_only_valid_histories(tmp_path: Path) -> None:
    for session in ["sam", "alex", "user-42"]:
        FileChatMessageHistory(session, tmp_path).add_messages([HumanMessage("hi")])
    (tmp_path / ".alex.json.k3j2.tmp").write_text("[", encoding="utf-8")
    (tmp_path / "Notes.json").write_text("{}", encoding="utf-8")
    (tmp_path / "readme.txt").write_text("not a session", encoding="utf-8")
    (tmp_path / "folder.json").mkdir()
    assert list_sessions(tmp_path) == ["alex", "sam", "user-42"]


def test_list_sessions_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list_sessions(tmp_path / "nothing-here") == []
