"""Hidden tests: session info of unknown and deleted sessions, message counts."""

import uuid

import pytest


@pytest.mark.points(1)
@pytest.mark.requirement("info")
@pytest.mark.hidden
@pytest.mark.feedback("get_session_info must return None for unknown and deleted sessions.")
def test_unknown_or_deleted_session_has_no_info(app):
    session = app.create_session("alice")
    assert app.get_session_info(session) is not None
    assert app.get_session_info(str(uuid.uuid4())) is None
    app.delete_session(session)
    assert app.get_session_info(session) is None


@pytest.mark.points(1)
@pytest.mark.requirement("info")
@pytest.mark.hidden
@pytest.mark.feedback("message_count must be the number of messages stored for the session.")
def test_message_count_counts_stored_messages(app):
    session = app.create_session("alice")
    counts = [app.get_session_info(session).message_count]
    for text in ("One", "Two", "Three"):
        app.chat(session, text)
        counts.append(app.get_session_info(session).message_count)
    assert counts == [0, 2, 4, 6]
