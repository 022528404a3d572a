"""A turn that fails (the model, the session deleted meanwhile, Redis down) stores nothing."""

from __future__ import annotations

import pytest

from solutions.chat_application import (
    ChatApplication,
    SessionNotFoundError,
    StorageUnavailableError,
)
from tests.capstone.support import (
    CallbackModel,
    FailingModel,
    keys_under,
    stored_messages,
    traces_of,
)


def test_model_failure_stores_nothing(fake_redis):
    model = FailingModel()
    app = ChatApplication(redis_client=fake_redis, llm=model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    before = app.get_session_info(session_id)
    model.fail = True
    with pytest.raises(RuntimeError, match="the model is down"):
        app.chat(session_id, "What's my name?")
    assert app.get_session_info(session_id) == before
    assert [m.content for m in stored_messages(app, session_id)][0] == "Hi, I'm Alex"
    assert len(stored_messages(app, session_id)) == 2


def test_model_failure_on_the_first_turn_creates_no_history_key(fake_redis):
    app = ChatApplication(redis_client=fake_redis, llm=FailingModel(fail=True))
    session_id = app.create_session("alice")
    with pytest.raises(RuntimeError):
        app.chat(session_id, "Hello")
    assert f"chat:{session_id}" not in keys_under(fake_redis)


def test_session_deleted_while_the_model_answers(fake_redis):
    model = CallbackModel()
    app = ChatApplication(redis_client=fake_redis, llm=model)
    session_id = app.create_session("alice")
    app.share_session(session_id, "alice", "bob")
    model.on_call = lambda: app.delete_session(session_id)
    with pytest.raises(SessionNotFoundError):
        app.chat(session_id, "Hello")
    assert traces_of(fake_redis, session_id) == []
    assert app.list_sessions("alice") == [] and app.list_sessions("bob") == []


def test_storage_failure_during_the_write_raises_and_stores_nothing(fake_redis):
    """The fake server refuses connections while the model answers the second turn."""
    server = fake_redis.connection_pool.connection_kwargs["server"]
    model = CallbackModel()
    app = ChatApplication(redis_client=fake_redis, llm=model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")

    def cut() -> None:
        server.connected = False

    model.on_call = cut
    with pytest.raises(StorageUnavailableError) as raised:
        app.chat(session_id, "What's my name?")
    assert raised.value.__cause__ is not None
    server.connected = True
    model.on_call = None
    assert len(stored_messages(app, session_id)) == 2
    assert "Alex" in app.chat(session_id, "What's my name?")
    assert app.get_session_info(session_id).message_count == 4


def test_storage_failure_before_the_turn_never_calls_the_model(fake_redis, recording_model):
    server = fake_redis.connection_pool.connection_kwargs["server"]
    app = ChatApplication(redis_client=fake_redis, llm=recording_model)
    session_id = app.create_session("alice")
    server.connected = False
    for call in (
        lambda: app.chat(session_id, "Hello"),
        lambda: app.get_session_info(session_id),
        lambda: app.list_sessions("alice"),
        lambda: app.create_session("alice"),
        lambda: app.delete_session(session_id),
        lambda: app.export_session(session_id),
    ):
        with pytest.raises(StorageUnavailableError):
            call()
    assert recording_model.prompts == []
    server.connected = True
    assert app.get_session_info(session_id).message_count == 0
