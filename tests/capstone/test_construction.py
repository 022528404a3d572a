"""Construction: client or URL, bounded timeouts, the default model, settings checked."""

from __future__ import annotations

import json

import fakeredis
import pytest

from memory_course import OfflineChatModel
from solutions.chat_application import ChatApplication, StorageUnavailableError


def test_redis_client_wins_over_redis_url(fake_redis, recording_model):
    app = ChatApplication("redis://127.0.0.1:1/0", redis_client=fake_redis, llm=recording_model)
    assert app.redis is fake_redis
    app.chat(app.create_session("alice"), "Hello")


def test_client_built_from_the_url_has_bounded_timeouts():
    app = ChatApplication("redis://127.0.0.1:1/0", llm=OfflineChatModel())
    options = app.redis.connection_pool.connection_kwargs
    assert 0 < options["socket_connect_timeout"] <= 5
    assert 0 < options["socket_timeout"] <= 10
    with pytest.raises(StorageUnavailableError):
        app.create_session("alice")


def test_default_llm_comes_from_the_course_factory(fake_redis, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app = ChatApplication(redis_client=fake_redis)
    assert isinstance(app.llm, OfflineChatModel)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    assert "Alex" in app.chat(session_id, "What's my name?")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_messages": 0}, ValueError),
        ({"max_messages": "5"}, TypeError),
        ({"max_messages": True}, TypeError),
        ({"session_ttl": 0}, ValueError),
        ({"session_ttl": 1.5}, TypeError),
        ({"system_prompt": None}, TypeError),
        ({"key_prefix": ""}, ValueError),
    ],
)
def test_invalid_settings(fake_redis, options, error):
    with pytest.raises(error):
        ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), **options)


def test_decoded_responses_client_works(recording_model):
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    app = ChatApplication(redis_client=client, llm=recording_model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex 🙂")
    assert "Alex" in app.chat(session_id, "What's my name?")
    assert [i.session_id for i in app.list_sessions("alice")] == [session_id]
    fork = app.fork_session(session_id, "bob", 2)
    assert app.get_session_info(fork).message_count == 2
    assert json.loads(app.export_session(fork))["messages"][0]["content"] == "Hi, I'm Alex 🙂"
