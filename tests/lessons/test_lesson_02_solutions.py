"""Lesson 2 solutions: the messages-key shape, and catching the silent saving failure."""

from __future__ import annotations

from operator import itemgetter

import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableParallel
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import RecordingChatModel
from solutions.lesson_02 import (
    HistoryNotSavedError,
    build_messages_key_chat,
    callback_errors,
    invoke_and_check_saved,
)


@pytest.fixture
def store() -> dict[str, InMemoryChatMessageHistory]:
    return {}


@pytest.fixture
def get_history(store):
    def get_session_history(session_id: str) -> InMemoryChatMessageHistory:
        return store.setdefault(session_id, InMemoryChatMessageHistory())

    return get_session_history


def _config(session_id: str) -> dict:
    return {"configurable": {"session_id": session_id}}


def test_messages_key_chat_remembers(recording_model: RecordingChatModel, store, get_history):
    chat = build_messages_key_chat(recording_model, get_history)
    first = chat.invoke({"messages": "Hi, I'm Fay", "topic": "jazz"}, _config("fay"))
    assert "As your jazz assistant" in first.content
    second = chat.invoke({"messages": "What's my name?", "topic": "jazz"}, _config("fay"))
    assert second.content == "Your name is Fay."
    prompt = recording_model.last_prompt
    assert [type(m) for m in prompt] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert prompt[0].content == "You're an expert in jazz."
    assert [type(m) for m in store["fay"].messages] == [HumanMessage, AIMessage] * 2


def test_messages_key_chat_accepts_message_lists(recording_model, store, get_history):
    chat = build_messages_key_chat(recording_model, get_history)
    chat.invoke({"messages": [HumanMessage("Hi, I'm Gil")], "topic": "go"}, _config("gil"))
    reply = chat.invoke(
        {"messages": [HumanMessage("What's my name?")], "topic": "go"}, _config("gil")
    )
    assert reply.content == "Your name is Gil."


def _dict_chain(llm):
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You're an assistant who's good at {topic}."),
            MessagesPlaceholder("history"),
            ("human", "{input}"),
        ]
    )
    return RunnableParallel(output_message=prompt | llm, topic=itemgetter("topic"))


def _dict_chat(llm, get_history, output_messages_key: str | None = None):
    """`_dict_chain` with a history, told (or not) which output key holds the reply."""
    return RunnableWithMessageHistory(
        _dict_chain(llm),
        get_history,
        input_messages_key="input",
        history_messages_key="history",
        output_messages_key=output_messages_key,
    )


def test_check_catches_the_missing_output_key(recording_model, store, get_history):
    forgetful = _dict_chat(recording_model, get_history)
    with pytest.raises(HistoryNotSavedError, match=r"KeyError\('output'\)"):
        invoke_and_check_saved(forgetful, {"input": "Hi, I'm Dana", "topic": "math"}, _config("d"))
    assert store["d"].messages == []


def test_check_passes_the_fixed_chain_through(recording_model, store, get_history):
    remembering = _dict_chat(recording_model, get_history, output_messages_key="output_message")
    inputs = {"input": "Hi, I'm Eve", "topic": "math"}
    result = invoke_and_check_saved(remembering, inputs, _config("e"))
    assert set(result) == {"output_message", "topic"}
    result = invoke_and_check_saved(
        remembering, {"input": "What's my name?", "topic": "math"}, _config("e")
    )
    assert result["output_message"].content == "Your name is Eve."
    assert len(store["e"].messages) == 4


def test_callback_errors_detaches_its_handler(recording_model, get_history):
    import logging

    logger = logging.getLogger("langchain_core.callbacks.manager")
    handlers = list(logger.handlers)
    with callback_errors() as errors:
        assert len(logger.handlers) == len(handlers) + 1
    assert logger.handlers == handlers
    assert errors == []
