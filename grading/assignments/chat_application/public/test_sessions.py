"""Public tests: creating, listing and deleting sessions."""

import time
import uuid

import pytest

from grading.assignments.chat_application.helpers import is_uuid4, session_ids


@pytest.mark.points(1)
@pytest.mark.requirement("sessions")
def test_create_session_returns_new_uuid4(app):
    """create_session returns a new UUID4 string each time."""
    first = app.create_session("alice")
    second = app.create_session("alice")
    assert is_uuid4(first), f"create_session should return a UUID4 string, got {first!r}"
    assert is_uuid4(second), f"create_session should return a UUID4 string, got {second!r}"
    assert first != second, "two sessions must get different ids"


@pytest.mark.points(2)
@pytest.mark.requirement("sessions")
def test_list_sessions_returns_only_that_users_sessions(app):
    """list_sessions(user) lists exactly that user's sessions."""
    alice = {app.create_session("alice"), app.create_session("alice")}
    bob = {app.create_session("bob")}
    listed_alice = session_ids(app.list_sessions("alice"))
    listed_bob = session_ids(app.list_sessions("bob"))
    assert sorted(listed_alice) == sorted(alice), "alice should see her two sessions, once each"
    assert listed_bob == list(bob), "bob should see only his own session"
    assert app.list_sessions("carol") == [], "a user without sessions gets an empty list"


@pytest.mark.points(2)
@pytest.mark.requirement("sessions")
def test_delete_session_removes_it(app, redis_store):
    """delete_session returns True, and the session is gone from Redis and from the list."""
    kept = app.create_session("alice")
    doomed = app.create_session("alice")
    assert redis_store.keys_mentioning(doomed), "create_session should store the session in Redis"
    assert app.delete_session(doomed) is True, "deleting an existing session returns True"
    listed = session_ids(app.list_sessions("alice"))
    assert listed == [kept], f"after the delete alice should see only {[kept]}; she sees {listed}"
    assert redis_store.keys_mentioning(doomed) == [], (
        "after delete_session no Redis key may still hold the session id"
    )
    assert app.delete_session(doomed) is False, "deleting it a second time returns False"
    assert app.delete_session(str(uuid.uuid4())) is False, "deleting an unknown id returns False"


@pytest.mark.points(1)
@pytest.mark.requirement("sessions")
def test_list_sessions_most_recent_first(app):
    """list_sessions orders sessions by last activity, newest first."""
    first = app.create_session("alice")
    time.sleep(0.01)
    second = app.create_session("alice")
    time.sleep(0.01)
    app.chat(first, "Hello again")
    listed = session_ids(app.list_sessions("alice"))
    assert listed == [first, second], (
        "list_sessions('alice') should list the session chatted in last first: after a chat "
        f"in the older of two sessions, expected {[first, second]}; it listed {listed}"
    )
    time.sleep(0.01)
    app.chat(second, "Me too")
    listed = session_ids(app.list_sessions("alice"))
    assert listed == [second, first], (
        "list_sessions('alice') should list the session chatted in last first: after a chat "
        f"in the newer session, expected {[second, first]}; it listed {listed}"
    )
