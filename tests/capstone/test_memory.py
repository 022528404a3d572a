"""Memory: each turn's prompt carries the session's history, bounded by the message limit."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from solutions.chat_application import ChatApplication
from tests.capstone.support import stored_messages


def test_second_turn_prompt_carries_the_first_turn(app, recording_model):
    session_id = app.create_session("alice")
    first_reply = app.chat(session_id, "Hi, I'm Alex")
    assert recording_model.last_prompt == [
        SystemMessage("You are a helpful assistant."),
        HumanMessage("Hi, I'm Alex"),
    ]
    reply = app.chat(session_id, "What's my name?")
    assert "Alex" in reply
    prompt = recording_model.last_prompt
    assert [type(m) for m in prompt] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert [m.content for m in prompt[1:]] == ["Hi, I'm Alex", first_reply, "What's my name?"]


def test_sessions_do_not_share_memory(app):
    alex = app.create_session("alice")
    other = app.create_session("alice")
    app.chat(alex, "Hi, I'm Alex")
    assert "Alex" in app.chat(alex, "What's my name?")
    assert "don't know" in app.chat(other, "What's my name?")


def test_reply_text_is_returned_and_stored(app):
    session_id = app.create_session("alice")
    reply = app.chat(session_id, "Hello there")
    assert isinstance(reply, str) and reply
    messages = stored_messages(app, session_id)
    assert [(m.type, m.content) for m in messages] == [("human", "Hello there"), ("ai", reply)]
    assert app.get_session_info(session_id).message_count == 2


def test_system_prompt_is_used_verbatim(fake_redis, recording_model):
    prompt = "You answer as {persona}, an expert in Redis."
    app = ChatApplication(redis_client=fake_redis, llm=recording_model, system_prompt=prompt)
    reply = app.chat(app.create_session("alice"), "Hello")
    assert recording_model.last_prompt[0] == SystemMessage(prompt)
    assert "As your Redis assistant" in reply


def test_message_limit_bounds_storage_and_prompt(fake_redis, recording_model):
    app = ChatApplication(redis_client=fake_redis, llm=recording_model, max_messages=4)
    session_id = app.create_session("alice")
    for turn in range(5):
        app.chat(session_id, f"message {turn}")
        assert app.get_session_info(session_id).message_count == min(2 * (turn + 1), 4)
    humans = [m.content for m in stored_messages(app, session_id) if m.type == "human"]
    assert humans == ["message 3", "message 4"]
    app.chat(session_id, "message 5")
    prompt = recording_model.last_prompt
    assert len(prompt) == 1 + 4 + 1
    assert [m.content for m in prompt if m.type == "human"] == [
        "message 3",
        "message 4",
        "message 5",
    ]
