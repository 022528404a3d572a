"""MultiSessionManager: ownership, idle cleanup at its boundary, thread-safe creation."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from memory_course.clock import DEFAULT_START, ManualClock
from memory_course.sessions import (
    MultiSessionManager,
    SessionError,
    SessionNotFoundError,
    SessionOwnershipError,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def manager(clock: ManualClock) -> MultiSessionManager:
    counter = itertools.count(1)
    return MultiSessionManager(
        clock=clock,
        idle_timeout=timedelta(minutes=30),
        id_factory=lambda: f"s{next(counter)}",
    )


def test_create_records_owner_and_time(manager: MultiSessionManager) -> None:
    info = manager.create_session("alex")
    assert (info.session_id, info.user_id) == ("s1", "alex")
    assert info.created_at == info.last_active == DEFAULT_START
    assert manager.owner_of("s1") == "alex"
    assert "s1" in manager and len(manager) == 1


def test_default_ids_are_random_and_distinct() -> None:
    manager = MultiSessionManager()
    ids = {manager.create_session("alex").session_id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(session_id) == 32 for session_id in ids)


def test_create_rejects_duplicates_and_empty_values(manager: MultiSessionManager) -> None:
    manager.create_session("alex", "chat")
    with pytest.raises(ValueError, match="already exists"):
        manager.create_session("bo", "chat")
    with pytest.raises(ValueError, match="user_id"):
        manager.create_session("")
    with pytest.raises(ValueError, match="session_id"):
        manager.create_session("alex", "")
    assert manager.owner_of("chat") == "alex"


def test_each_session_has_its_own_history(manager: MultiSessionManager) -> None:
    alex = manager.create_session("alex").session_id
    bo = manager.create_session("bo").session_id
    manager.get_history("alex", alex).add_messages([HumanMessage("Hi, I'm Alex")])
    assert [m.content for m in manager.get_history("alex", alex).messages] == ["Hi, I'm Alex"]
    assert manager.get_history("bo", bo).messages == []


def test_owner_is_enforced(manager: MultiSessionManager) -> None:
    session_id = manager.create_session("alex").session_id
    manager.get_history("alex", session_id).add_messages([HumanMessage("secret")])
    with pytest.raises(SessionOwnershipError) as caught:
        manager.get_history("bo", session_id)
    # The message names neither the owner nor the content.
    assert "alex" not in str(caught.value) and "secret" not in str(caught.value)
    assert isinstance(caught.value, PermissionError)
    with pytest.raises(SessionOwnershipError):
        manager.delete_session("bo", session_id)
    assert session_id in manager


def test_unknown_session_is_not_found(manager: MultiSessionManager) -> None:
    for call in (
        lambda: manager.get_history("alex", "nope"),
        lambda: manager.session_history("nope"),
        lambda: manager.owner_of("nope"),
        lambda: manager.delete_session("alex", "nope"),
    ):
        with pytest.raises(SessionNotFoundError) as caught:
            call()
        assert isinstance(caught.value, SessionError)
        assert isinstance(caught.value, LookupError)
    assert len(manager) == 0


def test_list_sessions_is_per_user_and_oldest_first(manager: MultiSessionManager) -> None:
    manager.create_session("alex")
    manager.create_session("bo")
    manager.create_session("alex")
    assert [s.session_id for s in manager.list_sessions("alex")] == ["s1", "s3"]
    assert [s.session_id for s in manager.list_sessions("bo")] == ["s2"]
    assert manager.list_sessions("nobody") == []


def test_get_or_create(manager: MultiSessionManager) -> None:
    first = manager.get_or_create("alex", "chat")
    assert manager.get_or_create("alex", "chat") is first
    with pytest.raises(SessionOwnershipError):
        manager.get_or_create("bo", "chat")


def test_delete_removes_and_clears(manager: MultiSessionManager) -> None:
    session_id = manager.create_session("alex").session_id
    history = manager.get_history("alex", session_id)
    history.add_messages([HumanMessage("hello"), AIMessage("hi")])
    removed = manager.delete_session("alex", session_id)
    assert removed.session_id == session_id
    assert session_id not in manager
    assert history.messages == []


def test_cleanup_boundary_is_inclusive(manager: MultiSessionManager, clock: ManualClock) -> None:
    manager.create_session("alex")
    clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
    assert manager.cleanup_idle() == []
    clock.advance(timedelta(seconds=1))
    removed = manager.cleanup_idle()
    assert [info.session_id for info in removed] == ["s1"]
    assert len(manager) == 0


def test_use_resets_the_idle_time(manager: MultiSessionManager, clock: ManualClock) -> None:
    active = manager.create_session("alex").session_id
    idle = manager.create_session("bo").session_id
    clock.advance(timedelta(minutes=20))
    manager.get_history("alex", active)
    manager.session_history(active)
    clock.advance(timedelta(minutes=15))  # active: idle 15 min; idle: 35 min
    assert [info.session_id for info in manager.cleanup_idle()] == [idle]
    assert manager.list_sessions("alex")[0].last_active == DEFAULT_START + timedelta(minutes=20)
    clock.advance(timedelta(minutes=15))  # active: idle 30 min
    assert [info.session_id for info in manager.cleanup_idle()] == [active]


def test_listing_does_not_count_as_use(manager: MultiSessionManager, clock: ManualClock) -> None:
    manager.create_session("alex")
    clock.advance(timedelta(minutes=29))
    manager.list_sessions("alex")
    manager.owner_of("s1")
    clock.advance(timedelta(minutes=1))
    assert len(manager.cleanup_idle()) == 1


def test_cleanup_clears_histories(manager: MultiSessionManager, clock: ManualClock) -> None:
    history = manager.get_or_create("alex", "chat")
    history.add_messages([HumanMessage("remember me")])
    clock.advance(timedelta(hours=1))
    manager.cleanup_idle()
    assert history.messages == []
    with pytest.raises(SessionNotFoundError):
        manager.get_history("alex", "chat")


def test_history_factory_receives_the_session_id(clock: ManualClock) -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory

    made: list[str] = []

    def factory(session_id: str) -> InMemoryChatMessageHistory:
        made.append(session_id)
        return InMemoryChatMessageHistory()

    manager = MultiSessionManager(factory, clock=clock)
    manager.create_session("alex", "a1")
    manager.get_or_create("bo", "b1")
    manager.get_or_create("bo", "b1")
    assert made == ["a1", "b1"]


def test_idle_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MultiSessionManager(idle_timeout=timedelta(0))


def test_concurrent_get_or_create_makes_one_session(clock: ManualClock) -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory

    made: list[str] = []

    def slow_factory(session_id: str) -> InMemoryChatMessageHistory:
        made.append(session_id)
        time.sleep(0.001)  # widens the gap between "is it there?" and "store it"
        return InMemoryChatMessageHistory()

    manager = MultiSessionManager(slow_factory, clock=clock)
    workers = 16
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers

    def worker(index: int) -> None:
        barrier.wait()
        for _ in range(20):
            results[index] = manager.get_or_create("alex", "shared")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == ["shared"]
    assert len(manager) == 1
    assert all(result is results[0] for result in results)


def test_concurrent_creates_get_distinct_ids(clock: ManualClock) -> None:
    counter = itertools.count(1)
    manager = MultiSessionManager(clock=clock, id_factory=lambda: f"s{next(counter)}")
    workers, per_worker = 8, 100
    barrier = threading.Barrier(workers)

    def worker(user: str) -> None:
        barrier.wait()
        for _ in range(per_worker):
            manager.create_session(user)

    threads = [threading.Thread(target=worker, args=(f"user{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(manager) == workers * per_worker
    for i in range(workers):
        assert len(manager.list_sessions(f"user{i}")) == per_worker
