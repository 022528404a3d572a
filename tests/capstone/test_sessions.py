"""Sessions: a fresh UUID4 per valid user, listed most recent first, deleted without a trace."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime

import pytest

from memory_course.redis_metrics import measure
from solutions.chat_application import MAX_USER_ID_CHARS, SessionInfo, SessionNotFoundError
from tests.capstone.support import keys_under, primaries, traces_of


def test_create_session_returns_distinct_uuid4_strings(app):
    first, second = app.create_session("alice"), app.create_session("alice")
    assert first != second
    for session_id in (first, second):
        assert isinstance(session_id, str)
        assert uuid.UUID(session_id).version == 4
        assert str(uuid.UUID(session_id)) == session_id


def test_new_session_info(app):
    session_id = app.create_session("alice")
    info = app.get_session_info(session_id)
    assert isinstance(info, SessionInfo)
    assert (info.session_id, info.user_id, info.message_count) == (session_id, "alice", 0)
    assert info.created_at == info.last_active
    assert info.created_at.tzinfo is not None


def test_session_info_is_a_dataclass_readable_as_a_mapping(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hello")
    info = app.get_session_info(session_id)
    assert dataclasses.is_dataclass(info)
    assert [f.name for f in dataclasses.fields(info)] == [
        "session_id",
        "user_id",
        "created_at",
        "last_active",
        "message_count",
    ]
    assert info["message_count"] == info.message_count == 2
    assert info["user_id"] == "alice"
    with pytest.raises(KeyError):
        info["owner"]
    data = json.loads(json.dumps(info.to_dict()))
    assert data["session_id"] == session_id
    assert data["message_count"] == 2
    assert datetime.fromisoformat(data["created_at"]) == info.created_at
    assert datetime.fromisoformat(data["last_active"]) == info.last_active


def test_get_session_info_of_unknown_ids_is_none(app):
    assert app.get_session_info(str(uuid.uuid4())) is None
    assert app.get_session_info("not-a-session") is None
    assert app.get_session_info("") is None
    with pytest.raises(TypeError):
        app.get_session_info(None)


def test_uppercase_or_braced_forms_of_an_id_are_not_the_session(app):
    session_id = app.create_session("alice")
    for variant in (session_id.upper(), "{" + session_id + "}", session_id.replace("-", "")):
        assert app.get_session_info(variant) is None
        with pytest.raises(SessionNotFoundError):
            app.chat(variant, "Hello")


@pytest.mark.parametrize(
    "user_id", ["", "   ", "\t\n", "x" * (MAX_USER_ID_CHARS + 1), "a\nb", "a\x00b", "\ud800"]
)
def test_invalid_user_ids_raise_value_error(app, user_id):
    with pytest.raises(ValueError):
        app.create_session(user_id)
    with pytest.raises(ValueError):
        app.list_sessions(user_id)


@pytest.mark.parametrize("user_id", [None, 42, b"alice", ["alice"]])
def test_non_str_user_ids_raise_type_error(app, user_id):
    with pytest.raises(TypeError):
        app.create_session(user_id)


def test_longest_allowed_user_id_and_unicode_user_ids_work(app):
    for user_id in ("x" * MAX_USER_ID_CHARS, "Zoë 🙂", "משתמש", "user:with:colons"):
        session_id = app.create_session(user_id)
        assert [i.session_id for i in app.list_sessions(user_id)] == [session_id]


# --- listing -------------------------------------------------------------------------


def test_list_sessions_most_recently_active_first(app):
    first, second, third = (app.create_session("alice") for _ in range(3))
    app.create_session("bob")
    assert [i.session_id for i in app.list_sessions("alice")] == [third, second, first]
    app.chat(first, "Hello")
    listed = app.list_sessions("alice")
    assert [i.session_id for i in listed] == [first, third, second]
    assert [i.message_count for i in listed] == [2, 0, 0]
    assert all(i.user_id == "alice" for i in listed)
    assert app.list_sessions("nobody") == []


@pytest.mark.parametrize("count", [1, 10, 100])
def test_list_sessions_round_trips_do_not_depend_on_the_number_of_sessions(
    make_app, any_redis, count
):
    app = make_app()
    created = {app.create_session("alice") for _ in range(count)}
    any_redis.ping()
    with measure(any_redis) as metrics:
        listed = app.list_sessions("alice")
    assert {i.session_id for i in listed} == created
    # The index, then every session's metadata in one pipeline: on a cluster one round
    # trip per node holding some of them, sent together.
    assert 2 <= metrics.round_trips <= 1 + primaries(any_redis)


def test_list_sessions_prunes_dead_ids_in_one_more_round_trip(make_app, any_redis, redis_prefix):
    app = make_app()
    keep = app.create_session("alice")
    dead = [app.create_session("alice") for _ in range(5)]
    for session_id in dead:  # as if they expired
        any_redis.delete(f"{redis_prefix}{{{redis_prefix}{session_id}}}:info")
    with measure(any_redis) as metrics:
        assert [i.session_id for i in app.list_sessions("alice")] == [keep]
    assert 3 <= metrics.round_trips <= 2 + primaries(any_redis)
    assert metrics.commands[-1] == "ZREM"
    for session_id in dead:
        assert traces_of(any_redis, session_id, redis_prefix) == []
    with measure(any_redis) as metrics:
        app.list_sessions("alice")
    assert metrics.round_trips == 2  # the index, then the one live session's metadata


# --- deletion ------------------------------------------------------------------------


def test_delete_session_leaves_no_key(make_app, any_redis, redis_prefix):
    app = make_app()
    session_id = app.create_session("alice")
    other = app.create_session("alice")
    app.chat(session_id, "Hello")
    app.share_session(session_id, "alice", "bob")
    assert app.delete_session(session_id) is True
    assert traces_of(any_redis, session_id, redis_prefix) == []
    assert app.get_session_info(session_id) is None
    assert [i.session_id for i in app.list_sessions("alice")] == [other]
    assert app.list_sessions("bob") == []
    assert app.delete_session(session_id) is False


def test_delete_unknown_session_is_false_and_writes_nothing(app, fake_redis):
    assert app.delete_session(str(uuid.uuid4())) is False
    assert app.delete_session("whatever") is False
    assert keys_under(fake_redis) == []
    with pytest.raises(TypeError):
        app.delete_session(123)
