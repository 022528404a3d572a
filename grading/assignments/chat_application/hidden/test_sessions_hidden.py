"""Hidden tests: sessions live in Redis under the app's prefix, and deletion is complete."""

import pytest

from grading.assignments.chat_application.helpers import attribute, marker, session_ids


@pytest.mark.points(1)
@pytest.mark.requirement("sessions")
@pytest.mark.hidden
@pytest.mark.feedback(
    "Sessions must be stored in Redis, not in Python memory: a second ChatApplication, "
    "in another process sharing the same Redis, could not list your session."
)
def test_sessions_are_visible_from_another_process(make_app):
    first = make_app()
    session = first.create_session("alice")
    second = make_app(new_process=True)
    assert session_ids(second.list_sessions("alice")) == [session]


@pytest.mark.points(1)
@pytest.mark.requirement("sessions")
@pytest.mark.hidden
@pytest.mark.feedback(
    "delete_session must remove the session's messages as well, and nothing of the "
    "user's other sessions."
)
def test_delete_removes_the_messages_and_only_them(app, redis_store):
    kept = app.create_session("alice")
    doomed = app.create_session("alice")
    app.chat(kept, f"Keep {marker('kept')} safe")
    app.chat(doomed, f"Forget {marker('doomed')} now")
    assert app.delete_session(doomed) is True
    stored = redis_store.stored_text()
    assert marker("doomed") not in stored and doomed not in stored
    assert marker("kept") in stored
    assert session_ids(app.list_sessions("alice")) == [kept]


@pytest.mark.points(1)
@pytest.mark.requirement("sessions")
@pytest.mark.hidden
@pytest.mark.feedback(
    "Every key the app writes must start with its key_prefix, and the settings must be "
    "kept as the attributes redis, llm, max_messages, session_ttl and key_prefix."
)
def test_key_prefix_holds_every_key_and_settings_are_kept(make_app, redis_store):
    app = make_app(key_prefix="tenant7:", max_messages=7, session_ttl=99)
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    assert session_ids(app.list_sessions("alice")) == [session]
    names = [state.name for state in redis_store.dump()]
    assert names, "nothing was stored"
    outside = [name for name in names if not name.startswith("tenant7:")]
    assert outside == [], f"keys written outside the prefix 'tenant7:': {outside}"
    settings = {name: attribute(app, name) for name in ("max_messages", "session_ttl")}
    assert settings == {"max_messages": 7, "session_ttl": 99}
    assert attribute(app, "key_prefix") == "tenant7:"
    assert attribute(app, "redis") is not None and attribute(app, "llm") is not None
