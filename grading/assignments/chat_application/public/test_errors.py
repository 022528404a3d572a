"""Public tests: errors are raised where they belong, and a failed turn stores nothing."""

import uuid

import pytest

from grading.assignments.chat_application.helpers import marker, stored_contents
from grading.remote import RemoteError


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
def test_chat_on_unknown_session_raises(app):
    """chat on an unknown session raises SessionNotFoundError, a ValueError."""
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    with pytest.raises(ValueError) as raised:
        app.chat(str(uuid.uuid4()), "Hello?")
    assert "SessionNotFoundError" in raised.value.mro_names, (
        f"chat on an unknown session id raised {raised.value.type_name}; it must raise "
        "SessionNotFoundError (a subclass of ValueError)"
    )


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
def test_empty_message_is_rejected_and_nothing_stored(app, model, redis_store):
    """An empty or whitespace-only message raises ValueError and changes nothing."""
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    before, calls = stored_contents(redis_store), len(model.requests)
    for text in ("", "   ", "\n\t"):
        with pytest.raises(ValueError) as raised:
            app.chat(session, text)
        assert raised.value.type_name != "SessionNotFoundError", "the session exists"
    assert len(model.requests) == calls, "a rejected message must not reach the model"
    assert stored_contents(redis_store) == before, "a rejected message must store nothing"


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
def test_model_failure_stores_nothing(app, model, redis_store):
    """When the model call fails, nothing of that turn is stored."""
    session = app.create_session("alice")
    app.chat(session, f"Hello {marker('kept')} there")
    model.fail_next(100)
    with pytest.raises(RemoteError):
        app.chat(session, f"This {marker('failed')} turn fails")
    model.fail_next(0)
    stored = redis_store.stored_text()
    assert marker("failed") not in stored, "the message of the failed turn was stored"
    assert marker("kept") in stored, "the earlier turn must stay stored after a failed turn"
