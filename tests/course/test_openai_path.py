"""The ChatOpenAI branch of the model factory, run for real against a local
OpenAI-compatible server (HTTP, JSON and server-sent events on 127.0.0.1)."""

from __future__ import annotations

import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI

from memory_course.factories import DEFAULT_OPENAI_MODEL, get_chat_model
from memory_course.offline.offline_model import OfflineChatModel
from memory_course.offline.openai_stub import OpenAICompatibleServer


@pytest.fixture
def server():
    with OpenAICompatibleServer() as running:
        yield running


@pytest.fixture
def openai_env(server) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}


def test_factory_is_offline_without_a_key():
    assert isinstance(get_chat_model(env={}), OfflineChatModel)


def test_factory_builds_chat_openai_from_the_environment(openai_env):
    model = get_chat_model(env={**openai_env, "OPENAI_MODEL": "gpt-test"})
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-test"
    assert get_chat_model(env=openai_env).model_name == DEFAULT_OPENAI_MODEL


def test_invoke_goes_over_http(server, openai_env):
    reply = get_chat_model(env=openai_env, max_retries=0).invoke("Hi, I'm Alex")
    assert "Alex" in reply.content
    assert server.requests[-1]["messages"] == [{"role": "user", "content": "Hi, I'm Alex"}]
    assert reply.usage_metadata["total_tokens"] > 0


def test_stream_arrives_in_chunks(server, openai_env):
    model = get_chat_model(env=openai_env, max_retries=0)
    chunks = list(model.stream("hello there"))
    text = "".join(c.content for c in chunks)
    assert len([c for c in chunks if c.content]) > 1
    assert text == OfflineChatModel().invoke("hello there").content
    assert server.requests[-1]["stream"] is True


def test_history_reaches_the_second_request(server, openai_env):
    histories: dict[str, InMemoryChatMessageHistory] = {}
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
    )
    chain = RunnableWithMessageHistory(
        prompt | get_chat_model(env=openai_env, max_retries=0),
        lambda session_id: histories.setdefault(session_id, InMemoryChatMessageHistory()),
        input_messages_key="input",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "s1"}}
    chain.invoke({"input": "Hi, I'm Alex"}, config=config)
    second = chain.invoke({"input": "What's my name?"}, config=config)

    sent = server.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "Hi, I'm Alex"
    assert "Alex" in second.content
    assert len(histories["s1"].messages) == 4


def test_server_errors_surface_to_the_client(server, openai_env):
    import openai

    server.fail_next(1)
    with pytest.raises(openai.InternalServerError):
        get_chat_model(env=openai_env, max_retries=0).invoke("hello")
    assert get_chat_model(env=openai_env, max_retries=0).invoke("hello").content
