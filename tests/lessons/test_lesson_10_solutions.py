"""The worked solutions of lesson 10 do what the exercises ask."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import OfflineChatModel, RecordingChatModel
from memory_course.chat_service import SESSION_HEADER, SessionStore, create_app
from memory_course.live_server import LiveServer
from solutions.lesson_10 import (
    add_history_endpoint,
    make_pinned_trimmer,
    trim_keeping_first_exchange,
)


@pytest.fixture
def client(fake_redis):
    app = add_history_endpoint(create_app(OfflineChatModel(), fake_redis, key_prefix="chat:"))
    with LiveServer(app) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def test_history_endpoint_returns_the_conversation(client):
    session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
    headers = {SESSION_HEADER: session_id}
    client.post("/chat", json={"message": "What's my name?"}, headers=headers)

    response = client.get("/sessions/messages", headers=headers)
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "human", "ai"]
    assert messages[0]["content"] == "Hi, I'm Alex"
    assert messages[-1]["content"] == "Your name is Alex."


def test_history_endpoint_refuses_bad_and_unknown_ids(client):
    assert client.get("/sessions/messages").status_code == 400
    assert client.get("/sessions/messages", headers={SESSION_HEADER: "x"}).status_code == 400
    unknown = str(uuid.UUID(int=random.Random(2).getrandbits(128), version=4))
    assert client.get("/sessions/messages", headers={SESSION_HEADER: unknown}).status_code == 404


def test_history_endpoint_after_delete_is_a_404(client):
    session_id = client.post("/chat", json={"message": "Hi"}).headers[SESSION_HEADER]
    headers = {SESSION_HEADER: session_id}
    client.delete("/sessions", headers=headers)
    assert client.get("/sessions/messages", headers=headers).status_code == 404


def conversation(turns: int) -> list:
    messages = [SystemMessage("You are a helpful assistant."), HumanMessage("Hi, I'm Alex")]
    messages.append(AIMessage("Nice to meet you, Alex!"))
    for turn in range(turns):
        messages.append(HumanMessage(f"Here is a long remark number {turn} about my garden."))
        messages.append(AIMessage(f"Thanks for remark {turn}."))
    messages.append(HumanMessage("What's my name?"))
    return messages


def test_trim_keeps_system_first_exchange_and_latest_message():
    messages = conversation(20)
    kept = trim_keeping_first_exchange(messages, max_tokens=100)
    assert kept[:3] == messages[:3]
    assert kept[-1] == messages[-1]
    assert isinstance(kept[3], HumanMessage)
    assert count_tokens_approximately(kept) <= 100
    assert len(kept) < len(messages)
    # What follows the pin is a contiguous run of the most recent messages.
    tail = kept[3:]
    assert tail == messages[len(messages) - len(tail) :]


def test_trim_leaves_short_conversations_alone():
    messages = conversation(1)
    assert trim_keeping_first_exchange(messages, max_tokens=1000) == messages
    first_turn = [SystemMessage("Be brief."), HumanMessage("Hi, I'm Alex")]
    assert trim_keeping_first_exchange(first_turn, max_tokens=1000) == first_turn


def test_trim_falls_back_when_the_pin_leaves_no_room():
    messages = conversation(3)
    budget = count_tokens_approximately(messages[:3]) + 2  # no room for the question
    kept = trim_keeping_first_exchange(messages, max_tokens=budget)
    assert kept, "the latest question must still reach the model"
    assert kept[-1] == messages[-1]
    assert count_tokens_approximately(kept) <= budget


def test_pinned_trimmer_keeps_the_name_after_thirty_turns(fake_redis):
    budget = 300
    llm = RecordingChatModel()
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a helpful assistant."),
            MessagesPlaceholder("history"),
            ("human", "{m}"),
        ]
    )
    store = SessionStore(fake_redis, ttl_seconds=600)
    chain = RunnableWithMessageHistory(
        prompt | make_pinned_trimmer(budget) | llm,
        store.history,
        input_messages_key="m",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "alex"}}
    chain.invoke({"m": "Hi, I'm Alex"}, config)
    for turn in range(28):
        chain.invoke({"m": f"Let me tell you about my garden, part {turn}."}, config)
    reply = chain.invoke({"m": "What's my name?"}, config)

    assert reply.content == "Your name is Alex."
    sizes = [count_tokens_approximately(p) for p in llm.prompts]
    assert max(sizes) <= budget
    assert len(llm.last_prompt) < len(store.history("alex").messages)
