"""Lesson 7 · worked solutions: concurrent sessions, and a stream that survives cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableConfig

__all__ = ["ask_all", "stream_and_save"]


async def ask_all(
    chat: Runnable, conversations: Mapping[str, Sequence[str]], *, input_key: str = "question"
) -> dict[str, list[str]]:
    """Exercise 1: every session concurrently, the questions of one session in order.

    `chat` is a `RunnableWithMessageHistory` keyed by `session_id` whose output is a string
    (or a message, whose `.content` is taken). Returns `{session_id: [reply, ...]}` with
    the sessions in the order of `conversations`.
    """

    async def one_session(session_id: str, questions: Sequence[str]) -> list[str]:
        config: RunnableConfig = {"configurable": {"session_id": session_id}}
        replies = []
        for question in questions:  # a turn starts only after the previous one was saved
            reply = await chat.ainvoke({input_key: question}, config)
            replies.append(reply if isinstance(reply, str) else reply.content)
        return replies

    results = await asyncio.gather(
        *(one_session(session_id, questions) for session_id, questions in conversations.items())
    )
    return dict(zip(conversations, results, strict=True))


async def stream_and_save(
    chain: Runnable,
    history: BaseChatMessageHistory,
    question: str,
    on_chunk: Callable[[str], object] | None = None,
) -> str:
    """Exercise 2: stream `chain`, hand each chunk to `on_chunk`, and always save the turn.

    `chain` takes `{"history": [...], "question": str}` and streams strings. The question
    and the reply are added to `history` when the stream ends, and also when the task is
    cancelled or `on_chunk` raises: then the reply holds the chunks received so far and
    carries `response_metadata={"interrupted": True}`, and the exception propagates.
    """
    earlier = await history.aget_messages()
    parts: list[str] = []
    finished = False
    try:
        stream = chain.astream({"history": earlier, "question": question})
        # Closed right here, also on an exception. astream() makes an async generator,
        # which its annotation (AsyncIterator) does not say.
        async with aclosing(stream):  # type: ignore[type-var]  # an async generator
            async for chunk in stream:
                parts.append(chunk)
                if on_chunk is not None:
                    on_chunk(chunk)
        finished = True
    finally:
        metadata = {} if finished else {"interrupted": True}
        text = "".join(parts)
        reply = AIMessage(text, response_metadata=metadata)
        # Shielded, so a second cancellation cannot lose the turn halfway through the save.
        await asyncio.shield(history.aadd_messages([HumanMessage(question), reply]))
    return text
