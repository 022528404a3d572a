"""The summarising history of lesson 9 never loses a message to a failed summary.

A fold writes the summary first and drops the folded messages only once it exists; when
the summariser raises, every message stays, the failure is recorded and logged, and the
next save folds again.
"""

from __future__ import annotations

import logging

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import OfflineChatModel
from memory_course.summary_history import SUMMARY_PREFIX, SummaryBufferChatMessageHistory

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a friendly assistant."),
        MessagesPlaceholder("history"),
        ("human", "{input}"),
    ]
)
TURNS = [
    ("Hi, I'm Alex", "Nice to meet you, Alex!"),
    ("My favorite color is blue", "Noted."),
    ("I live in Lisbon", "Noted."),
    ("I like tea", "Noted."),
]
CONFIG = {"configurable": {"session_id": "alex"}}


def flaky_summarizer(failures: int) -> RunnableLambda:
    """Raises `ConnectionError` on its first `failures` calls, then summarises offline."""
    calls = {"n": 0}
    model = OfflineChatModel()

    def summarize(messages):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionError(f"summariser unavailable (call {calls['n']})")
        return model.invoke(messages)

    return RunnableLambda(summarize)


def _add_turns(history: SummaryBufferChatMessageHistory, turns) -> None:
    for text, reply in turns:
        history.add_messages([HumanMessage(text), AIMessage(reply)])


def test_a_failing_summariser_keeps_every_message(caplog) -> None:
    history = SummaryBufferChatMessageHistory(flaky_summarizer(99), max_messages=4, keep_last=2)
    with caplog.at_level(logging.WARNING, logger="memory_course.summary_history"):
        _add_turns(history, TURNS)

    assert [m.content for m in history.messages] == [m for turn in TURNS for m in turn]
    assert history.summary == "" and history.folds == 0
    assert history.failed_folds == 2  # one attempt per save over the limit
    assert isinstance(history.last_error, ConnectionError)
    assert "call 2" in str(history.last_error)
    assert any("summary fold failed" in r.getMessage() for r in caplog.records)


def test_a_failed_fold_keeps_the_previous_summary() -> None:
    calls = {"n": 0}
    model = OfflineChatModel()

    def summarize(messages):  # succeeds once, then fails
        calls["n"] += 1
        if calls["n"] > 1:
            raise TimeoutError("summariser timed out")
        return model.invoke(messages)

    history = SummaryBufferChatMessageHistory(
        RunnableLambda(summarize), max_messages=4, keep_last=2
    )
    _add_turns(history, TURNS[:3])
    first_summary, kept = history.summary, list(history.recent)
    assert history.folds == 1 and "name is Alex" in first_summary

    _add_turns(history, TURNS[3:] + TURNS[:1])

    assert history.summary == first_summary
    assert history.recent[: len(kept)] == kept and len(history.recent) == len(kept) + 4
    assert history.failed_folds == 1 and isinstance(history.last_error, TimeoutError)


def test_the_next_successful_fold_recovers() -> None:
    history = SummaryBufferChatMessageHistory(flaky_summarizer(2), max_messages=4, keep_last=2)
    _add_turns(history, TURNS[:3])
    assert history.failed_folds == 1 and len(history.recent) == 6

    _add_turns(history, TURNS[3:])  # second failure: 8 messages kept
    assert history.failed_folds == 2 and len(history.recent) == 8

    _add_turns(history, [("What's new?", "Not much.")])  # third call succeeds
    assert history.folds == 1 and history.last_error is None
    assert [m.content for m in history.recent] == ["What's new?", "Not much."]
    # The summary covers every folded turn, the first included.
    assert "name is Alex" in history.summary and "home is Lisbon" in history.summary
    head = history.messages[0]
    assert isinstance(head, SystemMessage) and head.content == SUMMARY_PREFIX + history.summary


def _chat_told_every_turn(history: SummaryBufferChatMessageHistory) -> RunnableWithMessageHistory:
    """A chat on the offline model over `history`, once the user has said each line of TURNS."""
    chat = RunnableWithMessageHistory(
        PROMPT | OfflineChatModel(),
        lambda session_id: history,
        input_messages_key="input",
        history_messages_key="history",
    )
    for text, _ in TURNS:
        chat.invoke({"input": text}, CONFIG)
    return chat


def test_under_runnable_with_message_history_the_name_is_not_lost() -> None:
    """The save runs in a listener whose exceptions are only logged: nothing may be lost."""
    history = SummaryBufferChatMessageHistory(flaky_summarizer(99), max_messages=4, keep_last=2)
    chat = _chat_told_every_turn(history)

    reply = chat.invoke({"input": "What's my name?"}, CONFIG)

    assert reply.content == "Your name is Alex."
    assert history.failed_folds >= 1 and history.folds == 0
    assert len(history.messages) == 10


def test_facts_survive_a_fold_and_a_second_fold() -> None:
    """With a working summariser the name lives on in the summary, across folds."""
    history = SummaryBufferChatMessageHistory(OfflineChatModel(), max_messages=4, keep_last=2)
    chat = _chat_told_every_turn(history)
    assert history.folds == 1
    assert not any("Alex" in m.content for m in history.recent)

    assert chat.invoke({"input": "What's my name?"}, CONFIG).content == "Your name is Alex."
    # That save folded again: the second summary was written from the first one.
    assert history.folds == 2
    assert not any("Lisbon" in m.content for m in history.recent)
    assert chat.invoke({"input": "Where do I live?"}, CONFIG).content == "You live in Lisbon."
    assert chat.invoke({"input": "What's my name?"}, CONFIG).content == "Your name is Alex."
