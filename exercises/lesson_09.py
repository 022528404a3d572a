"""Lesson 9 · Your turn: window memory as `trim_messages`, and carrying conversations over.

Write the two exercises of notebook 9's "Your turn" here, then check them with
`python -m grading check lesson_09`.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

__all__ = ["PROMPT", "SUMMARY_PREFIX", "build_windowed_chat", "legacy_to_history"]

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a friendly assistant."),
        MessagesPlaceholder("history"),
        ("human", "{input}"),
    ]
)
SUMMARY_PREFIX = "Summary of the earlier conversation: "


def build_windowed_chat(
    model: BaseChatModel,
    k: int,
    get_session_history: Callable[[str], BaseChatMessageHistory],
    prompt: ChatPromptTemplate = PROMPT,
) -> RunnableWithMessageHistory:
    """Exercise 1: the modern twin of `ConversationChain` + `ConversationBufferWindowMemory(k)`.

    Invoke with `{"input": text}` and `{"configurable": {"session_id": ...}}`; the
    session's history comes from `get_session_history(session_id)`. `prompt` is the
    template to fill: its `history` placeholder and its `{input}` (by default `PROMPT`).
    On every turn the model receives what the legacy chain would send: the prompt's
    system message, the last `k` turns of that session (a turn is the user's message and
    the reply to it, so 2k messages; fewer while the session is younger) and the new
    input. Only the prompt is trimmed: the history keeps every message, and sessions never
    mix.
    """
    raise NotImplementedError


def legacy_to_history(memory: object) -> InMemoryChatMessageHistory:
    """Exercise 2: a legacy memory's conversation as a new `InMemoryChatMessageHistory`.

    - `ConversationSummaryMemory`: only its summary (`memory.buffer`), as one
      `SystemMessage` reading `SUMMARY_PREFIX` + the summary (the model never saw more; its
      message log is not carried over); no message at all when the summary is empty;
    - `ConversationSummaryBufferMemory`: that `SystemMessage` for its summary
      (`memory.moving_summary_buffer`, if any), then the messages it keeps, in order;
    - any other memory with a `chat_memory` (buffer, window, token buffer): every stored
      message (`memory.chat_memory.messages`) in order, not only the window, since
      trimming now happens in the chain;
    - anything else (no `chat_memory`) raises `TypeError`.
    """
    raise NotImplementedError
