"""Hidden tests: expiry of unused sessions, of the history class, of deletion."""

from contextlib import suppress

import pytest

from grading.assignments.chat_application.helpers import assert_expiring, marker, session_ids
from grading.remote import RemoteError, message


@pytest.mark.points(1)
@pytest.mark.requirement("ttl")
@pytest.mark.hidden
@pytest.mark.feedback(
    "A session that is created but never used must expire after session_ttl seconds "
    "too, and reading it with get_session_info must not extend it."
)
def test_unused_session_expires(make_app, redis_store):
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    assert_expiring(redis_store, session, 1, 60)
    redis_store.advance(30)
    with suppress(RemoteError):  # what it returns is graded by the info tests
        app.get_session_info(session)
    assert_expiring(redis_store, session, 1, 30)
    redis_store.advance(31)
    assert session_ids(app.list_sessions("alice")) == []
    assert redis_store.keys_mentioning(session) == []


@pytest.mark.points(1)
@pytest.mark.requirement("ttl")
@pytest.mark.hidden
@pytest.mark.feedback(
    "LimitedRedisChatHistory.add_messages must set the TTL (ttl_seconds) and refresh it "
    "on every call."
)
def test_history_class_sets_the_ttl(make_history, redis_store):
    history = make_history("history-ttl", max_messages=10, ttl_seconds=30)
    history.add_messages([message("human", "Hello"), message("ai", "Hi")])
    assert_expiring(redis_store, "history-ttl", 1, 30)
    redis_store.advance(20)
    history.add_messages([message("human", "Again")])
    assert_expiring(redis_store, "history-ttl", 25, 30)


@pytest.mark.points(1)
@pytest.mark.requirement("ttl")
@pytest.mark.hidden
@pytest.mark.feedback("delete_session must return False for a session that has expired.")
def test_expired_session_cannot_be_deleted(make_app, redis_store):
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    redis_store.advance(61)
    assert app.delete_session(session) is False
    app.list_sessions("alice")
    assert redis_store.keys_mentioning(session) == []


@pytest.mark.points(1)
@pytest.mark.requirement("ttl")
@pytest.mark.hidden
@pytest.mark.feedback(
    "A session kept busy must keep its whole history, even long after it was created."
)
def test_busy_session_keeps_its_memory(make_app, redis_store):
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, f"Hi, I'm {marker('first')}")
    for turn in range(1, 4):
        redis_store.advance(50)
        app.chat(session, f"Still {marker(turn)} here")
    stored = redis_store.stored_text()
    for label in ("first", 1, 2, 3):
        assert marker(label) in stored, f"turn {label!r} was lost while the session was busy"
