"""Lesson 7 solutions: concurrent sessions keep their turns in order; streams always save."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import OfflineChatModel
from solutions.lesson_07 import ask_all, stream_and_save

PROMPT = ChatPromptTemplate.from_messages(
    [("system", "You are helpful."), MessagesPlaceholder("history"), ("human", "{question}")]
)


async def _pause(value):
    await asyncio.sleep(0.02)  # long enough that overlapping turns would read stale history
    return value


def _chat(store: dict[str, InMemoryChatMessageHistory], *, slow: bool = False):
    steps = PROMPT | RunnableLambda(_pause) if slow else PROMPT
    return RunnableWithMessageHistory(
        steps | OfflineChatModel() | StrOutputParser(),
        lambda session_id: store.setdefault(session_id, InMemoryChatMessageHistory()),
        input_messages_key="question",
        history_messages_key="history",
    )


CONVERSATIONS = {
    "ana": ["Hi, I'm Ana", "My favorite color is red", "What's my favorite color?"],
    "ben": ["Hi, I'm Ben", "What's my name?"],
    "cy": ["What's my name?"],
}


@pytest.mark.parametrize("slow", [False, True])
async def test_ask_all_answers_each_session_from_its_own_history(slow: bool) -> None:
    store: dict[str, InMemoryChatMessageHistory] = {}
    replies = await ask_all(_chat(store, slow=slow), CONVERSATIONS)

    assert list(replies) == list(CONVERSATIONS)
    assert replies["ana"][-1] == "Your favorite color is red."
    assert replies["ben"][-1] == "Your name is Ben."
    assert replies["cy"] == [
        "I don't know your name yet. You haven't told me in this conversation."
    ]
    for session_id, questions in CONVERSATIONS.items():
        said = [m.content for m in store[session_id].messages if isinstance(m, HumanMessage)]
        assert said == questions  # every turn stored, in the order asked


async def test_stream_and_save_stores_the_complete_turn() -> None:
    chain = PROMPT | OfflineChatModel() | StrOutputParser()
    history = InMemoryChatMessageHistory()
    seen: list[str] = []

    reply = await stream_and_save(chain, history, "Hi, I'm Alex", on_chunk=seen.append)
    answer = await stream_and_save(chain, history, "What's my name?")

    assert reply == "".join(seen) and len(seen) > 3
    assert answer == "Your name is Alex."
    messages = history.messages
    assert [type(m) for m in messages] == [HumanMessage, AIMessage] * 2
    assert messages[1].content == reply
    assert "interrupted" not in messages[3].response_metadata


async def test_stream_and_save_keeps_the_partial_reply_when_cancelled() -> None:
    chain = PROMPT | OfflineChatModel() | StrOutputParser()
    history = InMemoryChatMessageHistory()
    seen: list[str] = []

    def client_goes_away_after_two(chunk: str) -> None:
        seen.append(chunk)
        if len(seen) == 2:
            task.cancel()  # delivered at the task's next await: fetching the third chunk

    task = asyncio.create_task(
        stream_and_save(chain, history, "Hi, I'm Alex", on_chunk=client_goes_away_after_two)
    )
    with pytest.raises(asyncio.CancelledError):
        await task

    question, partial = history.messages
    assert question.content == "Hi, I'm Alex"
    assert partial.content == "".join(seen) == "Nice to "
    assert partial.response_metadata == {"interrupted": True}


async def test_stream_and_save_saves_and_reraises_when_sending_fails() -> None:
    chain = PROMPT | OfflineChatModel() | StrOutputParser()
    history = InMemoryChatMessageHistory()

    def broken_pipe(chunk: str) -> None:
        raise ConnectionResetError("client disconnected")

    with pytest.raises(ConnectionResetError):
        await stream_and_save(chain, history, "Hi, I'm Alex", on_chunk=broken_pipe)

    question, partial = history.messages
    assert partial.content == "Nice "
    assert partial.response_metadata == {"interrupted": True}
