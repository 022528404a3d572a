"""Lesson 1 solutions: memory within a session, isolation between sessions, reset."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from memory_course import RecordingChatModel
from solutions.lesson_01 import build_chat_with_memory, reply_or_reset


def _config(session_id: str) -> dict:
    return {"configurable": {"session_id": session_id}}


def test_second_turn_sees_the_first(recording_model: RecordingChatModel) -> None:
    store: dict = {}
    chat = build_chat_with_memory(recording_model, store)
    chat.invoke({"input": "Hi, I'm Alex"}, _config("alex"))
    reply = chat.invoke({"input": "What's my name?"}, _config("alex"))
    assert reply.content == "Your name is Alex."
    prompt = recording_model.last_prompt
    assert [type(m) for m in prompt] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert prompt[1].content == "Hi, I'm Alex"
    assert [m.content for m in store["alex"].messages][::2] == ["Hi, I'm Alex", "What's my name?"]


def test_sessions_are_isolated(recording_model: RecordingChatModel) -> None:
    store: dict = {}
    chat = build_chat_with_memory(recording_model, store)
    chat.invoke({"input": "Hi, I'm Alex"}, _config("alex"))
    reply = chat.invoke({"input": "What's my name?"}, _config("bo"))
    assert "don't know your name" in reply.content
    assert len(recording_model.last_prompt) == 2
    assert sorted(store) == ["alex", "bo"]
    assert len(store["alex"].messages) == 2


def test_reset_clears_without_calling_the_model(recording_model: RecordingChatModel) -> None:
    store: dict = {}
    chat = build_chat_with_memory(recording_model, store)
    assert reply_or_reset(chat, "alex", "Hi, I'm Alex").startswith("Nice to meet you, Alex")
    calls = len(recording_model.prompts)
    assert reply_or_reset(chat, "alex", "/reset") == "History cleared."
    assert len(recording_model.prompts) == calls
    assert store["alex"].messages == []
    assert "don't know your name" in reply_or_reset(chat, "alex", "What's my name?")


def test_reset_touches_only_its_session(recording_model: RecordingChatModel) -> None:
    store: dict = {}
    chat = build_chat_with_memory(recording_model, store)
    reply_or_reset(chat, "alex", "Hi, I'm Alex")
    reply_or_reset(chat, "bo", "Hi, I'm Bo")
    reply_or_reset(chat, "alex", "/reset")
    assert reply_or_reset(chat, "bo", "What's my name?") == "Your name is Bo."
