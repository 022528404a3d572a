"""Hidden tests: what SessionInfo reports, its type, its datetimes, and when there is none."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from grading.assignments.chat_application.helpers import SESSION_INFO_FIELDS, marker
from grading.codec import MISSING_KEY
from grading.remote import RemoteObject


def _described(info, doing):
    assert isinstance(info, RemoteObject), (
        f"{doing} should return a SessionInfo; it returned {type(info).__name__}"
    )
    return info


@pytest.mark.points(1)
@pytest.mark.requirement("info")
@pytest.mark.hidden
@pytest.mark.feedback(
    "get_session_info must return None for unknown, deleted and expired sessions."
)
def test_unknown_deleted_or_expired_session_has_no_info(make_app, redis_store):
    app = make_app(session_ttl=60)
    session = app.create_session("alice")
    assert app.get_session_info(session) is not None
    assert app.get_session_info(str(uuid.uuid4())) is None, "an unknown session has no info"
    app.delete_session(session)
    assert app.get_session_info(session) is None, "a deleted session has no info"
    expired = app.create_session("alice")
    app.chat(expired, "Hello there")
    redis_store.advance(61)
    if not redis_store.keys_named_with(expired):  # the TTL tests grade whether it expired
        assert app.get_session_info(expired) is None, "an expired session has no info"


@pytest.mark.points(1)
@pytest.mark.requirement("info")
@pytest.mark.hidden
@pytest.mark.feedback(
    "message_count must be the number of messages stored for the session: 0, then 2 per "
    "turn, and no more than are kept under max_messages."
)
def test_message_count_counts_stored_messages(make_app, redis_store):
    app = make_app(max_messages=4)
    session = app.create_session("alice")
    counts, stored = [app.get_session_info(session).message_count], [0]
    for turn in (1, 2, 3):
        app.chat(session, f"Turn {marker(turn)}")
        counts.append(app.get_session_info(session).message_count)
        # Two messages per turn still stored (a turn is kept or dropped whole: 4 is even).
        text = redis_store.stored_text()
        stored.append(2 * sum(marker(t) in text for t in range(1, turn + 1)))
    assert counts == stored, f"message_count was {counts}; the session held {stored} messages"


@pytest.mark.points(1)
@pytest.mark.requirement("info")
@pytest.mark.hidden
@pytest.mark.feedback(
    "SessionInfo.created_at and last_active must be timezone-aware datetimes in UTC "
    "(datetime.now(UTC), not datetime.now()), in get_session_info and list_sessions."
)
def test_session_info_datetimes_are_utc(app):
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    infos = [_described(app.get_session_info(session), "get_session_info")]
    infos += [_described(info, "list_sessions") for info in app.list_sessions("alice")]
    now = datetime.now(UTC)
    for info in infos:
        for name in ("created_at", "last_active"):
            value = getattr(info, name)
            assert isinstance(value, datetime), f"{name} is a {type(value).__name__}"
            assert value.tzinfo is not None, f"{name} is a naive datetime: {value}"
            assert value.utcoffset() == timedelta(0), f"{name} is not in UTC: {value}"
            assert abs(value - now) < timedelta(minutes=10), f"{name} is not now: {value}"


@pytest.mark.points(1)
@pytest.mark.requirement("info")
@pytest.mark.hidden
@pytest.mark.feedback(
    "get_session_info and list_sessions must return SessionInfo dataclasses whose five "
    "fields are also readable as info[name] (any other key raises KeyError), and whose "
    "to_dict() holds the five fields (datetimes as ISO 8601 strings)."
)
def test_session_info_is_the_documented_dataclass(app):
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    listed = app.list_sessions("alice")
    assert isinstance(listed, list) and len(listed) == 1
    for info, doing in ((app.get_session_info(session), "get_session_info"), (listed[0], "list")):
        info = _described(info, doing)
        assert info.type_name == "SessionInfo" and info.is_dataclass, (
            f"{doing} returned a {info.type_name}, not the SessionInfo dataclass"
        )
        values = {name: getattr(info, name) for name in SESSION_INFO_FIELDS}
        assert (values["session_id"], values["user_id"], values["message_count"]) == (
            session,
            "alice",
            2,
        )
        assert {name: info[name] for name in SESSION_INFO_FIELDS} == values
        data = info.to_dict()
        assert isinstance(data, dict) and set(SESSION_INFO_FIELDS) <= set(data)
        for name in ("created_at", "last_active"):
            assert datetime.fromisoformat(data[name]) == values[name], f"to_dict()[{name!r}]"
        for name in ("session_id", "user_id", "message_count"):
            assert data[name] == values[name], f"to_dict()[{name!r}]"
        with pytest.raises(KeyError):
            info[MISSING_KEY]
