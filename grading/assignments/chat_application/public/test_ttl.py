"""Public tests: sessions expire after session_ttl idle seconds, and chat slides it.

`redis_store.advance(seconds)` moves the fake Redis clock forward, so these tests
need no waiting.
"""

import pytest

from grading.assignments.chat_application.helpers import assert_expiring
from grading.remote import RemoteError


@pytest.mark.points(2)
@pytest.mark.requirement("ttl")
def test_session_keys_expire(make_app, redis_store):
    """Every key of a session has a TTL of at most session_ttl."""
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    assert_expiring(redis_store, session, 1, 60)


@pytest.mark.points(2)
@pytest.mark.requirement("ttl")
def test_idle_session_disappears(make_app, redis_store):
    """After session_ttl idle seconds the session is gone everywhere."""
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    redis_store.advance(61)
    assert app.get_session_info(session) is None, "an expired session has no info"
    assert app.list_sessions("alice") == [], "an expired session is not listed"
    assert redis_store.keys_mentioning(session) == [], (
        "once list_sessions has run, no Redis key may still hold the expired session's id"
    )
    with pytest.raises(RemoteError) as raised:
        app.chat(session, "Are you there?")
    assert "SessionNotFoundError" in raised.value.mro_names, "chat on an expired session"


@pytest.mark.points(2)
@pytest.mark.requirement("ttl")
def test_chat_refreshes_expiry(make_app, redis_store):
    """Each chat restarts the countdown of all the session's keys."""
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    redis_store.advance(40)
    app.chat(session, "Still here")
    assert_expiring(redis_store, session, 50, 60)
    redis_store.advance(40)
    info = app.get_session_info(session)
    assert info is not None, "40 s after the last chat (TTL 60 s) the session must still exist"
    assert info.message_count == 4
