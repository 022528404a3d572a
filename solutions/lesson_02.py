"""Lesson 2 · worked solutions: the `input_messages_key`-only shape, and a saving check."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
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

    Invoke with `{"messages": text_or_messages, "topic": ...}`. With no
    `history_messages_key`, the wrapper puts the stored history in front of the new
    messages under `"messages"`; the system message comes from the template, so it is
    never stored.
    """
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You're an expert in {topic}."), MessagesPlaceholder("messages")]
    )
    return RunnableWithMessageHistory(
        prompt | llm, get_session_history, input_messages_key="messages"
    )


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

    Works with the default `session_id` configuration. Concurrent calls on the same
    session could mask a failure, so use it in tests and single-user tools.
    """
    history = chat.get_session_history(config["configurable"]["session_id"])
    before = len(history.messages)
    with callback_errors() as errors:
        output = chat.invoke(inputs, config)
    if len(history.messages) <= before:
        logged = "; ".join(record.getMessage() for record in errors) or "nothing logged"
        raise HistoryNotSavedError(f"the turn was not saved ({logged})")
    return output
