"""Lesson 9, public tests: the windowed chat's prompts, and legacy memories carried over."""

import pytest

from grading.assignments.lesson_09.helpers import CONVERSATION


@pytest.mark.points(2)
@pytest.mark.requirement("window")
def test_the_model_sees_the_last_k_turns(window_scene, model, legacy_prompt):
    """With k=2, each prompt holds the system message, the last 2 turns and the input."""
    chat = window_scene(2)
    turns = []
    for index, text in enumerate(CONVERSATION[:5]):
        chat.say("alex", text)
        assert list(model.prompts[index]) == legacy_prompt(turns, text, 2), (
            f"turn {index + 1} with k=2: the model should receive the system message, the "
            "last 2 turns (a turn is a question and its reply: 4 messages) and the new input, "
            "as ConversationChain with ConversationBufferWindowMemory(k=2) would"
        )
        turns.append((text, model.reply_to(index)))


@pytest.mark.points(1)
@pytest.mark.requirement("window")
def test_the_history_keeps_every_message(window_scene, model):
    """Only the prompt is trimmed: the session's history keeps every message."""
    chat = window_scene(1)
    for text in CONVERSATION[:3]:
        chat.say("alex", text)
    replies = [model.reply_to(index) for index in range(3)]
    asked = CONVERSATION[:3]
    expected = [
        pair for q, a in zip(asked, replies, strict=True) for pair in (("human", q), ("ai", a))
    ]
    assert chat.stored("alex") == expected, (
        "after 3 turns with k=1, the history should still hold all 6 messages, in order"
    )


TURNS = [("question 0", "answer 0"), ("question 1", "answer 1")]


@pytest.mark.points(2)
@pytest.mark.requirement("migrate")
def test_buffer_memory_carries_every_message(migrate_scene):
    """A ConversationBufferMemory's messages, in order, as human and ai messages."""
    assert migrate_scene.buffer(TURNS) == [
        ("human", "question 0"),
        ("ai", "answer 0"),
        ("human", "question 1"),
        ("ai", "answer 1"),
    ], "every message of the buffer memory, in order, with its type"


@pytest.mark.points(1)
@pytest.mark.requirement("migrate")
def test_summary_memory_carries_only_its_summary(migrate_scene):
    """A ConversationSummaryMemory becomes one system message with the summary."""
    migrated = migrate_scene.summary("The user is Alex.", ["Hi, I'm Alex", "Hello!"])
    assert migrated == [("system", "Summary of the earlier conversation: The user is Alex.")], (
        "only the summary, as one system message starting with SUMMARY_PREFIX "
        "(the memory's message log is not carried over)"
    )
    assert migrate_scene.summary("", ["Hi"]) == [], "an empty summary carries no message"
