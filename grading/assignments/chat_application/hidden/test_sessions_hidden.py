"""Hidden tests: sessions live in Redis and deletion is complete."""

import pytest

from grading.assignments.chat_application.helpers import marker


@pytest.mark.points(2)
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
    assert [info.session_id for info in second.list_sessions("alice")] == [session]
    assert second.get_session_info(session).user_id == "alice"


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
    assert app.get_session_info(kept).message_count == 2
