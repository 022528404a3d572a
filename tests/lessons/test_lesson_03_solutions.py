"""Lesson 3 solutions: least-recently-used eviction per user, and uniform 404s."""

from __future__ import annotations

import itertools
import threading

import pytest
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import RecordingChatModel
from memory_course.clock import ManualClock
from memory_course.sessions import MultiSessionManager, SessionNotFoundError
from solutions.lesson_03 import NOT_FOUND, LimitedSessionManager, respond


def _limited(clock: ManualClock, limit: int) -> LimitedSessionManager:
    counter = itertools.count(1)
    return LimitedSessionManager(
        clock=clock, id_factory=lambda: f"s{next(counter)}", max_sessions_per_user=limit
    )


def test_least_recently_used_session_is_evicted() -> None:
    clock = ManualClock()
    manager = _limited(clock, 2)
    first = manager.create_session("alex").session_id
    clock.advance(60)
    second = manager.create_session("alex").session_id
    clock.advance(60)
    manager.get_history("alex", first)  # first is now the most recently used
    clock.advance(60)
    third = manager.create_session("alex").session_id
    assert [info.session_id for info in manager.list_sessions("alex")] == [first, third]
    assert [info.session_id for info in manager.evicted] == [second]
    with pytest.raises(SessionNotFoundError):
        manager.get_history("alex", second)


def test_limit_is_per_user() -> None:
    manager = _limited(ManualClock(), 1)
    manager.create_session("alex")
    manager.create_session("bo")
    assert len(manager) == 2
    assert manager.evicted == []


def test_evicted_history_is_cleared() -> None:
    manager = _limited(ManualClock(), 1)
    history = manager.get_or_create("alex", "old")
    history.add_user_message("remember me")
    manager.create_session("alex", "new")
    assert history.messages == []
    assert "old" not in manager


def test_limit_holds_under_parallel_creation() -> None:
    manager = _limited(ManualClock(), 3)
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(25):
            manager.create_session("alex")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(manager.list_sessions("alex")) == 3
    assert len(manager.evicted) == 8 * 25 - 3


def test_invalid_limit_is_rejected() -> None:
    with pytest.raises(ValueError):
        LimitedSessionManager(max_sessions_per_user=0)


@pytest.fixture
def app():
    counter = itertools.count(1)
    manager = MultiSessionManager(clock=ManualClock(), id_factory=lambda: f"s{next(counter)}")
    llm = RecordingChatModel()
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
    )
    chat = RunnableWithMessageHistory(
        prompt | llm,
        manager.session_history,
        input_messages_key="input",
        history_messages_key="history",
    )
    return manager, chat, llm


def test_respond_answers_the_owner(app) -> None:
    manager, chat, _ = app
    session_id = manager.create_session("alex").session_id
    assert respond(manager, chat, "alex", session_id, "Hi, I'm Alex")[0] == 200
    assert respond(manager, chat, "alex", session_id, "What's my name?") == (
        200,
        "Your name is Alex.",
    )


def test_respond_hides_whether_a_session_exists(app) -> None:
    manager, chat, llm = app
    session_id = manager.create_session("alex").session_id
    respond(manager, chat, "alex", session_id, "Hi, I'm Alex")
    calls = len(llm.prompts)
    not_yours = respond(manager, chat, "bo", session_id, "What's my name?")
    missing = respond(manager, chat, "bo", "s404", "What's my name?")
    assert not_yours == missing == NOT_FOUND
    assert len(llm.prompts) == calls
    assert len(manager.get_history("alex", session_id).messages) == 2
