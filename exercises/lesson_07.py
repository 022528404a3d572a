"""Lesson 7 · Your turn: concurrent sessions, and a stream that survives cancellation.

Write the two exercises of notebook 7's "Your turn" here, then check them from the
notebook's check cell or with `python -m grading check lesson_07`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.runnables import Runnable

__all__ = ["ask_all", "stream_and_save"]


async def ask_all(
    chat: Runnable, conversations: Mapping[str, Sequence[str]], *, input_key: str = "question"
) -> dict[str, list[str]]:
    """Exercise 1: every session concurrently, the questions of one session in order.

    `chat` is a `RunnableWithMessageHistory` keyed by `session_id` (the config's
    `{"configurable": {"session_id": ...}}`), whose input is `{input_key: question}` and
    whose output is a string or a message (then its `.content` is the reply).
    `conversations` maps each session id to its questions, in the order they are asked.

    - The sessions run concurrently (`ainvoke`, not `invoke`): a slow session does not
      hold up the others.
    - The questions of one session are asked one after the other: a turn starts only
      once the previous turn of that session has ended (and so was saved), so each
      question is answered from the session's whole earlier conversation.
    - Returns `{session_id: [reply, ...]}`: the replies of each session in the order of
      its questions, the sessions in the order of `conversations` (whichever finishes
      first); a session without questions gets `[]`.
    """
    raise NotImplementedError


async def stream_and_save(
    chain: Runnable,
    history: BaseChatMessageHistory,
    question: str,
    on_chunk: Callable[[str], object] | None = None,
) -> str:
    """Exercise 2: stream `chain`, hand each chunk to `on_chunk`, and always save the turn.

    `chain` takes `{"history": [earlier messages], "question": str}` and streams strings;
    `history` is the session's chat history (use its async methods).

    - The chain gets the messages `history` held before this turn.
    - Every chunk goes to `on_chunk` (when given) as it arrives; the complete reply (all
      chunks joined) is returned.
    - The turn is saved as two messages added to `history` in one call: a
      `HumanMessage(question)` and an `AIMessage` of the reply. A reply that streamed to
      the end carries no `"interrupted"` flag.
    - The turn is also saved when the stream ends early: the task is cancelled, or
      `on_chunk` raises. Then the `AIMessage` holds the chunks received so far (the one
      `on_chunk` failed on included) and `response_metadata={"interrupted": True}`, and
      the exception (`asyncio.CancelledError`, or `on_chunk`'s) propagates.
    - A second cancellation that arrives while the turn is being saved does not stop
      the save (`asyncio.shield`).
    """
    raise NotImplementedError
