"""Lesson 2 · Your turn: the `input_messages_key`-only shape, and a saving check.

Write the two exercises of notebook 2's "Your turn" here, then check them with
`python -m grading check lesson_02`. `HistoryNotSavedError` and `callback_errors` are
given: use them as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory

__all__ = [
    "HistoryNotSavedError",
    "build_messages_key_chat",
    "callback_errors",
    "invoke_and_check_saved",
]

CALLBACK_LOGGER = "langchain_core.callbacks.manager"


def build_messages_key_chat(
    llm: BaseChatModel, get_session_history: Callable[[str], BaseChatMessageHistory]
) -> RunnableWithMessageHistory:
    """Exercise 1: history and new messages share one key, `"messages"`.

    The prompt is the system message `"You're an expert in {topic}."` followed by
    `MessagesPlaceholder("messages")`; `prompt | llm` is wrapped with
    `get_session_history` and `input_messages_key="messages"`, and no
    `history_messages_key` (nor `output_messages_key`).

    Invoke it with `{"messages": text_or_messages, "topic": ...}` and
    `{"configurable": {"session_id": ...}}`; `"messages"` is a string (one human message)
    or a list of messages. The wrapper puts the session's stored history in front of the
    new messages under `"messages"`, so the model sees the system message with this
    call's topic, every earlier message of the session in order, then the new ones; the
    call returns the reply (an `AIMessage`). Only the new messages and the reply are
    stored: the system message comes from the template, so it is never stored, and
    neither is the topic.
    """
    raise NotImplementedError


class HistoryNotSavedError(RuntimeError):
    """A call succeeded but the wrapper did not add the turn to the session's history."""


@contextmanager
def callback_errors() -> Iterator[list[logging.LogRecord]]:
    """Collect what LangChain logs when a callback fails (callbacks never raise)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    # Handler.handle() calls self.emit(record) positionally, which list.append accepts.
    handler.emit = records.append  # type: ignore[method-assign,assignment]  # called positionally
    logger = logging.getLogger(CALLBACK_LOGGER)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def invoke_and_check_saved(
    chat: RunnableWithMessageHistory, inputs: Any, config: RunnableConfig
) -> Any:
    """Exercise 2: invoke `chat`; raise `HistoryNotSavedError` if the history did not grow.

    `chat` is any `RunnableWithMessageHistory` with the default `session_id`
    configuration: `config["configurable"]["session_id"]` names the session, and
    `chat.get_session_history(session_id)` gives its history. Invoke `chat` once, with
    `inputs` and `config`. If afterwards the session's history holds no more messages
    than it did before the call (whatever it held before, and whether or not anything
    was logged), raise `HistoryNotSavedError`, with what LangChain logged about the
    failed callback in its message (collect it with `callback_errors()`), for instance
    `KeyError('output')` or the history's own exception. Otherwise return the chain's
    output unchanged. An exception of the chain itself (the model failing) reaches the
    caller as it is.

    Concurrent calls on the same session could mask a failure, so use it in tests and
    single-user tools.
    """
    raise NotImplementedError
