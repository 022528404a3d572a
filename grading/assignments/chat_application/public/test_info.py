"""Public tests: get_session_info and the SessionInfo it returns."""

import json
from datetime import datetime

import pytest


@pytest.mark.points(2)
@pytest.mark.requirement("info")
def test_session_info_after_create_and_chat(app):
    """SessionInfo has the ids, datetimes and the number of stored messages."""
    session = app.create_session("alice")
    info = app.get_session_info(session)
    assert info is not None, "a new session has info"
    assert (info.session_id, info.user_id, info.message_count) == (session, "alice", 0)
    assert isinstance(info.created_at, datetime), "created_at must be a datetime"
    assert isinstance(info.last_active, datetime), "last_active must be a datetime"
    assert info.created_at <= info.last_active
    app.chat(session, "Hello there")
    after = app.get_session_info(session)
    assert after.message_count == 2, "one turn stores two messages"
    assert after.created_at == info.created_at, "created_at does not change"
    assert after.last_active >= info.last_active, "chat moves last_active forward"


@pytest.mark.points(1)
@pytest.mark.requirement("info")
def test_session_info_is_a_mapping_and_serializable(app):
    """info["message_count"] works and to_dict() is JSON-ready with ISO 8601 datetimes."""
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    info = app.get_session_info(session)
    assert info["message_count"] == 2 and info["user_id"] == "alice"
    data = info.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["session_id"] == session and data["message_count"] == 2
    assert datetime.fromisoformat(data["created_at"]) == info.created_at
    assert datetime.fromisoformat(data["last_active"]) == info.last_active
