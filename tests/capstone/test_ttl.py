"""Sliding expiry: every turn pushes every key's TTL back; reads do not; expired means gone."""

from __future__ import annotations

import time

import pytest

from memory_course import OfflineChatModel
from solutions.chat_application import ChatApplication, SessionNotFoundError
from tests.capstone.support import keys_under, traces_of


def test_every_turn_pushes_every_expiry_back(make_app, any_redis, redis_prefix):
    app = make_app(session_ttl=300)
    session_id = app.create_session("alice")
    app.share_session(session_id, "alice", "bob")
    app.chat(session_id, "Hello")
    keys = keys_under(any_redis, redis_prefix)
    assert len(keys) == 4  # messages, info, and the two users' indexes
    for key in keys:  # pretend the session has been idle for almost its whole TTL
        any_redis.expire(key, 5)
    app.chat(session_id, "Still there?")
    for key in keys:
        assert 290 <= any_redis.ttl(key) <= 300, key


def test_sliding_expiry(fake_redis, redis_time):
    app = ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), session_ttl=100)
    session_id = app.create_session("alice")
    redis_time.advance(60)
    app.chat(session_id, "Hi, I'm Alex")
    redis_time.advance(60)  # 120 s after creation, 60 s after the turn
    assert app.get_session_info(session_id).message_count == 2
    assert "Alex" in app.chat(session_id, "What's my name?")
    redis_time.advance(99)
    assert [i.session_id for i in app.list_sessions("alice")] == [session_id]
    redis_time.advance(2)
    assert app.get_session_info(session_id) is None
    with pytest.raises(SessionNotFoundError):
        app.chat(session_id, "Hello?")
    assert app.list_sessions("alice") == []
    assert traces_of(fake_redis, session_id) == []


def test_reads_do_not_extend_the_session(fake_redis, redis_time):
    app = ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), session_ttl=100)
    session_id = app.create_session("alice")
    for _ in range(3):
        redis_time.advance(30)
        assert app.get_session_info(session_id) is not None
        assert len(app.list_sessions("alice")) == 1
        app.export_session(session_id)
    redis_time.advance(11)  # 101 s after creation: reads did not count as activity
    assert app.get_session_info(session_id) is None


def test_expired_session_is_gone_everywhere(make_app, any_redis, redis_prefix):
    app = make_app(session_ttl=1)
    expired = app.create_session("alice")
    app.chat(expired, "Hello")
    app.share_session(expired, "alice", "bob")
    time.sleep(1.5)
    live = app.create_session("alice")  # keeps alice's index alive
    assert app.get_session_info(expired) is None
    with pytest.raises(SessionNotFoundError):
        app.chat(expired, "Hello")
    assert [i.session_id for i in app.list_sessions("alice")] == [live]
    assert app.list_sessions("bob") == []
    assert traces_of(any_redis, expired, redis_prefix) == []
