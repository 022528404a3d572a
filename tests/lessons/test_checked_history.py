"""`CheckedHistory`: a failed save, silent under `RunnableWithMessageHistory`, made visible."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import OfflineChatModel, silence_known_deprecations
from memory_course.checked_history import CheckedHistory, SaveFailedError

silence_known_deprecations()

CONFIG = {"configurable": {"session_id": "s"}}


class WriteFailingHistory(InMemoryChatMessageHistory):
    """Reads work; every write raises `ConnectionError`, as a store that went down."""

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        raise ConnectionError("store unreachable")

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        raise ConnectionError("store unreachable")


class ReadFailingHistory(BaseChatMessageHistory):
    """Every read after the first raises: the listener fails before it writes."""

    def __init__(self) -> None:
        self.reads = 0
        self.written: list[BaseMessage] = []

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        self.reads += 1
        if self.reads > 1:
            raise ConnectionError("store unreachable")
        return []

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        self.written += messages

    def clear(self) -> None:
        self.written = []


def chat_with(history) -> RunnableWithMessageHistory:
    return RunnableWithMessageHistory(OfflineChatModel(), lambda session_id: history)


# -- the silent failure, measured -----------------------------------------------------


def test_a_failed_save_is_silent_under_invoke(caplog):
    inner = WriteFailingHistory()
    with caplog.at_level(logging.WARNING):
        reply = chat_with(inner).invoke("Hi, I'm Alex", CONFIG)
    assert "Alex" in reply.content  # the caller gets its reply...
    assert inner.messages == []  # ...and nothing was stored
    assert "Error in RootListenersTracer" in caplog.text  # only a logged warning says so


async def test_a_failed_save_is_silent_under_ainvoke():
    inner = WriteFailingHistory()
    reply = await chat_with(inner).ainvoke("Hi, I'm Alex", CONFIG)
    assert "Alex" in reply.content
    assert inner.messages == []


# -- the check ------------------------------------------------------------------------


def test_invoke_returns_but_raise_if_not_saved_raises():
    checked = CheckedHistory(WriteFailingHistory())
    reply = chat_with(checked).invoke("Hi, I'm Alex", CONFIG)
    assert "Alex" in reply.content
    assert checked.inner.messages == []
    assert not checked.ok
    with pytest.raises(SaveFailedError, match="ConnectionError") as info:
        checked.raise_if_not_saved()
    assert isinstance(info.value.__cause__, ConnectionError)
    assert isinstance(info.value, RuntimeError)


async def test_ainvoke_returns_but_raise_if_not_saved_raises():
    checked = CheckedHistory(WriteFailingHistory())
    reply = await chat_with(checked).ainvoke("Hi, I'm Alex", CONFIG)
    assert "Alex" in reply.content
    with pytest.raises(SaveFailedError) as info:
        checked.raise_if_not_saved()
    assert isinstance(info.value.__cause__, ConnectionError)


def test_a_saved_turn_passes_the_check():
    inner = InMemoryChatMessageHistory()
    checked = CheckedHistory(inner)
    chat_with(checked).invoke("Hi, I'm Alex", CONFIG)
    assert checked.raise_if_not_saved() == 2
    assert [m.type for m in inner.messages] == ["human", "ai"]
    assert checked.ok


async def test_a_saved_async_turn_passes_the_check():
    inner = InMemoryChatMessageHistory()
    checked = CheckedHistory(inner)
    await chat_with(checked).ainvoke("Hi, I'm Alex", CONFIG)
    assert checked.raise_if_not_saved() == 2
    assert len(await inner.aget_messages()) == 2


def test_a_listener_that_never_writes_fails_the_check():
    checked = CheckedHistory(ReadFailingHistory())
    chat_with(checked).invoke("Hi", CONFIG)  # the listener's re-read fails: no write
    assert checked.writes == 0
    with pytest.raises(SaveFailedError, match="never written"):
        checked.raise_if_not_saved()


def test_no_write_at_all_fails_the_check():
    with pytest.raises(SaveFailedError, match="never written") as info:
        CheckedHistory(InMemoryChatMessageHistory()).raise_if_not_saved()
    assert info.value.__cause__ is None


# -- direct use -----------------------------------------------------------------------


def test_writes_are_delegated_and_errors_re_raised():
    checked = CheckedHistory(WriteFailingHistory())
    with pytest.raises(ConnectionError):
        checked.add_messages([HumanMessage("hi")])
    assert checked.writes == 1 and checked.saved == 0
    assert isinstance(checked.error, ConnectionError)


async def test_async_writes_are_delegated_and_errors_re_raised():
    checked = CheckedHistory(WriteFailingHistory())
    with pytest.raises(ConnectionError):
        await checked.aadd_messages([HumanMessage("hi")])
    assert isinstance(checked.error, ConnectionError)


async def test_reads_and_clear_are_delegated():
    inner = InMemoryChatMessageHistory()
    checked = CheckedHistory(inner)
    checked.add_message(HumanMessage("hi"))  # the base class routes it to add_messages
    await checked.aadd_messages([AIMessage("hello")])
    assert [m.content for m in checked.messages] == ["hi", "hello"]
    assert [m.content for m in await checked.aget_messages()] == ["hi", "hello"]
    assert checked.raise_if_not_saved() == 2
    checked.clear()
    assert inner.messages == []
    inner.add_messages([HumanMessage("again")])
    await checked.aclear()
    assert inner.messages == []


def test_reset_starts_a_new_record():
    checked = CheckedHistory(WriteFailingHistory())
    with pytest.raises(ConnectionError):
        checked.add_messages([HumanMessage("hi")])
    checked.reset()
    assert (checked.writes, checked.saved, checked.error) == (0, 0, None)
    checked.inner = InMemoryChatMessageHistory()
    checked.add_messages([HumanMessage("hi")])
    assert checked.raise_if_not_saved() == 1
