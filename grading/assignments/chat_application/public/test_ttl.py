"""Public tests: sessions expire after session_ttl idle seconds, and chat slides it.

`redis_store.advance(seconds)` moves the fake Redis clock forward, so these tests
need no waiting.
"""

import pytest

from grading.assignments.chat_application.helpers import (
    assert_expiring,
    marker,
    raises_remote,
    session_ids,
)


@pytest.mark.points(1)
@pytest.mark.requirement("ttl")
def test_session_keys_expire(make_app, redis_store):
    """Every key of a session has a TTL of at most session_ttl."""
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    assert_expiring(redis_store, session, 1, 60)


@pytest.mark.points(2)
@pytest.mark.requirement("ttl")
def test_idle_session_disappears(make_app, redis_store, model):
    """After session_ttl idle seconds the session is gone everywhere."""
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    redis_store.advance(61)
    listed = session_ids(app.list_sessions("alice"))
    assert listed == [], (
        f"61 s after its last chat (TTL 60 s) the session is still listed: {listed}"
    )
    assert redis_store.keys_mentioning(session) == [], (
        "once list_sessions has run, no Redis key may still hold the expired session's id"
    )
    calls = len(model.requests)
    # Any exception will do here: the errors tests check that it is SessionNotFoundError.
    raises_remote(
        lambda: app.chat(session, "Are you there?"), "chat on an expired session should raise"
    )
    assert len(model.requests) == calls, "chat on an expired session must not call the model"


@pytest.mark.points(2)
@pytest.mark.requirement("ttl")
def test_chat_refreshes_expiry(make_app, redis_store):
    """Each chat restarts the countdown of all the session's keys."""
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, f"Hello {marker(1)} there")
    redis_store.advance(40)
    app.chat(session, f"Still {marker(2)} here")
    assert_expiring(redis_store, session, 50, 60)
    redis_store.advance(40)
    stored = redis_store.stored_text()
    for turn in (1, 2):
        assert marker(turn) in stored, (
            f"40 s after the last chat (TTL 60 s) turn {turn} must still be stored: the chat "
            "40 s earlier restarts the countdown of every key of the session"
        )
