"""Hidden tests: size limit, failed turns, deleted sessions."""

import pytest

from grading.assignments.chat_application.helpers import marker, stored_contents
from grading.remote import RemoteError


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "A message over your documented size limit must raise ValueError before reaching "
    "the model or Redis (a 2,000,000-character message was accepted)."
)
def test_oversized_message_is_rejected(app, model, redis_store):
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    before, calls = stored_contents(redis_store), len(model.requests)
    with pytest.raises(ValueError):
        app.chat(session, "x" * 2_000_000)
    assert len(model.requests) == calls
    assert stored_contents(redis_store) == before


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "After a failed model call, the failed message must not appear in later prompts."
)
def test_failed_turn_is_invisible_to_the_next_prompt(app, model):
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    model.fail_next(100)
    with pytest.raises(RemoteError):
        app.chat(session, f"Lost {marker('lost')} message")
    model.fail_next(0)
    app.chat(session, "Are you there?")
    assert not any(marker("lost") in text for text in model.prompts[-1].contents)
    assert len(model.prompts[-1].history) == 2


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "SessionNotFoundError must subclass ValueError and be raised by chat on a deleted session."
)
def test_deleted_session_raises_session_not_found(app, submission_mro):
    assert "ValueError" in submission_mro("SessionNotFoundError")
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    app.delete_session(session)
    with pytest.raises(ValueError) as raised:
        app.chat(session, "Hello again")
    assert raised.value.type_name == "SessionNotFoundError"
