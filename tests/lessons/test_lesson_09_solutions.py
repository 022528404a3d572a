"""Lesson 9: the windowed chat matches the legacy chain, conversations migrate, and the
summarising history the lesson imports folds old turns into a model-written summary."""

from __future__ import annotations

import pytest
from langchain_classic.chains import ConversationChain
from langchain_classic.memory import (
    ConversationBufferMemory,
    ConversationBufferWindowMemory,
    ConversationSummaryBufferMemory,
    ConversationSummaryMemory,
)
from langchain_core._api.deprecation import LangChainDeprecationWarning
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from grading.assignments.lesson_09.helpers import CONVERSATION  # the graded tests' own
from memory_course import OfflineChatModel, RecordingChatModel
from memory_course.summary_history import SummaryBufferChatMessageHistory
from solutions.lesson_09 import PROMPT, build_windowed_chat, legacy_to_history


def _texts(model: RecordingChatModel) -> list[list[tuple[str, str]]]:
    return [[(m.type, m.content) for m in call] for call in model.prompts]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_windowed_chat_sends_the_legacy_prompts(k: int) -> None:
    legacy_model, modern_model = RecordingChatModel(), RecordingChatModel()
    legacy = ConversationChain(
        llm=legacy_model,
        memory=ConversationBufferWindowMemory(k=k, return_messages=True),
        prompt=PROMPT,
    )
    store: dict[str, InMemoryChatMessageHistory] = {}
    modern = build_windowed_chat(
        modern_model, k, lambda sid: store.setdefault(sid, InMemoryChatMessageHistory())
    )

    for text in CONVERSATION:
        old = legacy.invoke({"input": text})["response"]
        new = modern.invoke({"input": text}, {"configurable": {"session_id": "s"}}).content
        assert old == new

    assert _texts(legacy_model) == _texts(modern_model)
    assert len(modern_model.last_prompt) == 2 + 2 * min(k, len(CONVERSATION) - 1)
    assert len(store["s"].messages) == 2 * len(CONVERSATION)  # the store keeps everything


def _turns(memory, n: int) -> None:
    for i in range(n):
        memory.save_context({"input": f"question {i}"}, {"output": f"answer {i}"})


def test_buffer_and_window_memories_carry_every_message() -> None:
    buffer = ConversationBufferMemory()
    window = ConversationBufferWindowMemory(k=1)
    _turns(buffer, 2)
    _turns(window, 3)

    assert [m.content for m in legacy_to_history(buffer).messages] == [
        "question 0",
        "answer 0",
        "question 1",
        "answer 1",
    ]
    migrated = legacy_to_history(window).messages
    assert len(migrated) == 6 and migrated[0].content == "question 0"
    assert [type(m) for m in migrated] == [HumanMessage, AIMessage] * 3


def test_summary_memory_carries_only_its_summary() -> None:
    memory = ConversationSummaryMemory(llm=OfflineChatModel(), buffer="The user is Alex.")
    memory.chat_memory.add_messages([HumanMessage("Hi, I'm Alex"), AIMessage("Hello!")])

    assert legacy_to_history(memory).messages == [
        SystemMessage("Summary of the earlier conversation: The user is Alex.")
    ]
    assert legacy_to_history(ConversationSummaryMemory(llm=OfflineChatModel())).messages == []


def test_summary_buffer_memory_carries_summary_then_kept_messages() -> None:
    with pytest.warns(LangChainDeprecationWarning, match="ConversationSummaryBufferMemory"):
        memory = ConversationSummaryBufferMemory(
            llm=OfflineChatModel(), max_token_limit=10_000, moving_summary_buffer="Alex likes blue."
        )
    memory.chat_memory.add_messages([HumanMessage("I live in Lisbon"), AIMessage("Noted.")])

    migrated = legacy_to_history(memory).messages
    assert [type(m) for m in migrated] == [SystemMessage, HumanMessage, AIMessage]
    assert migrated[0].content.endswith("Alex likes blue.")
    assert migrated[1].content == "I live in Lisbon"


def test_objects_without_messages_are_refused() -> None:
    with pytest.raises(TypeError):
        legacy_to_history(object())


# The summarising history the lesson imports (memory_course.summary_history).


def _turn(n: int) -> list:
    return [HumanMessage(f"My favorite color is color{n}"), AIMessage(f"answer {n}")]


def test_summary_history_folds_old_messages_into_a_model_summary() -> None:
    summarizer = RecordingChatModel()
    history = SummaryBufferChatMessageHistory(model=summarizer, max_messages=4, keep_last=2)
    history.add_messages(_turn(1))
    history.add_messages(_turn(2))
    assert history.folds == 0 and len(history.messages) == 4

    history.add_messages(_turn(3))

    assert history.folds == 1
    assert [m.content for m in history.recent] == ["My favorite color is color3", "answer 3"]
    head, *rest = history.messages
    assert isinstance(head, SystemMessage) and head.content.endswith(history.summary)
    assert "favorite color is color2" in history.summary  # written by the model from turns 1-2
    folded = [m.content for m in summarizer.last_prompt[1:-1]]
    assert folded == [
        "My favorite color is color1",
        "answer 1",
        "My favorite color is color2",
        "answer 2",
    ]
    assert rest == history.recent


def test_summary_history_sends_the_previous_summary_to_the_next_fold() -> None:
    summarizer = RecordingChatModel()
    history = SummaryBufferChatMessageHistory(model=summarizer, max_messages=2, keep_last=0)
    history.add_messages(_turn(1) + [HumanMessage("x")])
    first_summary = history.summary
    history.add_messages(_turn(2) + [HumanMessage("y")])

    assert history.folds == 2
    assert first_summary and first_summary in summarizer.last_prompt[0].content


def test_summary_history_never_splits_a_turn() -> None:
    history = SummaryBufferChatMessageHistory(model=OfflineChatModel(), max_messages=4, keep_last=1)
    for n in range(1, 5):
        history.add_messages(_turn(n))
        assert not history.recent or isinstance(history.recent[0], HumanMessage)


def test_summary_history_clear_and_arguments() -> None:
    history = SummaryBufferChatMessageHistory(model=OfflineChatModel(), max_messages=2, keep_last=0)
    history.add_messages(_turn(1) + _turn(2))
    assert history.summary
    history.clear()
    assert history.messages == [] and history.summary == ""
    with pytest.raises(ValueError):
        SummaryBufferChatMessageHistory(model=OfflineChatModel(), max_messages=2, keep_last=2)
