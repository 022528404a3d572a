"""Lesson 4 solutions: defaults filled only where they are safe; three-key isolation."""

from __future__ import annotations

import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import ConfigurableFieldSpec
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import RecordingChatModel
from solutions.lesson_04 import build_tenant_chat, with_spec_defaults


@pytest.fixture
def chat_with_main_default(recording_model: RecordingChatModel):
    store: dict[tuple[str, str], InMemoryChatMessageHistory] = {}

    def get_session_history(user_id: str, conversation_id: str) -> InMemoryChatMessageHistory:
        return store.setdefault((user_id, conversation_id), InMemoryChatMessageHistory())

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
    )
    chat = RunnableWithMessageHistory(
        prompt | recording_model,
        get_session_history,
        input_messages_key="input",
        history_messages_key="history",
        history_factory_config=[
            ConfigurableFieldSpec(id="user_id", annotation=str, default="", is_shared=True),
            ConfigurableFieldSpec(
                id="conversation_id", annotation=str, default="main", is_shared=True
            ),
        ],
    )
    return chat, store


def test_the_wrapper_itself_ignores_the_default(chat_with_main_default) -> None:
    chat, _ = chat_with_main_default
    with pytest.raises(ValueError, match=r"Missing keys \['conversation_id'\]"):
        chat.invoke({"input": "Hi"}, {"configurable": {"user_id": "alex"}})


def test_missing_key_is_filled_from_a_real_default(chat_with_main_default) -> None:
    chat, store = chat_with_main_default
    original = {"configurable": {"user_id": "alex"}, "tags": ["demo"]}
    config = with_spec_defaults(chat, original)
    assert config == {
        "configurable": {"user_id": "alex", "conversation_id": "main"},
        "tags": ["demo"],
    }
    assert original == {"configurable": {"user_id": "alex"}, "tags": ["demo"]}
    chat.invoke({"input": "Hi, I'm Alex"}, config)
    reply = chat.invoke({"input": "What's my name?"}, with_spec_defaults(chat, original))
    assert reply.content == "Your name is Alex."
    assert list(store) == [("alex", "main")]


def test_given_values_are_kept(chat_with_main_default) -> None:
    chat, _ = chat_with_main_default
    config = {"configurable": {"user_id": "alex", "conversation_id": "trip"}}
    assert with_spec_defaults(chat, config) == config


def test_an_empty_default_is_refused(chat_with_main_default) -> None:
    chat, store = chat_with_main_default
    with pytest.raises(ValueError, match="'user_id'"):
        with_spec_defaults(chat, {"configurable": {"conversation_id": "trip"}})
    with pytest.raises(ValueError, match="'user_id'"):
        with_spec_defaults(chat, {})
    assert store == {}


def _ids(tenant: str, user: str, conversation: str) -> dict:
    return {"configurable": {"tenant_id": tenant, "user_id": user, "conversation_id": conversation}}


def test_tenants_are_isolated(recording_model: RecordingChatModel) -> None:
    store: dict = {}
    chat = build_tenant_chat(recording_model, store)
    chat.invoke({"input": "Hi, I'm Alex"}, _ids("acme", "u1", "c1"))
    chat.invoke({"input": "Hi, I'm Bo"}, _ids("globex", "u1", "c1"))
    assert chat.invoke({"input": "What's my name?"}, _ids("acme", "u1", "c1")).content == (
        "Your name is Alex."
    )
    assert chat.invoke({"input": "What's my name?"}, _ids("globex", "u1", "c1")).content == (
        "Your name is Bo."
    )
    assert sorted(store) == [("acme", "u1", "c1"), ("globex", "u1", "c1")]


def test_tenant_chat_requires_every_key(recording_model: RecordingChatModel) -> None:
    chat = build_tenant_chat(recording_model, {})
    config = {"configurable": {"user_id": "u1", "conversation_id": "c1"}}
    with pytest.raises(ValueError, match=r"Missing keys \['tenant_id'\]"):
        chat.invoke({"input": "Hi"}, config)
