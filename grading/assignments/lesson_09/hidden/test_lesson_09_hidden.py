"""Lesson 9, hidden tests: the window for every k, per session and prompt, and every kind
of legacy memory."""

import pytest

from grading.assignments.lesson_09.helpers import CONVERSATION
from grading.remote import expect_error


@pytest.mark.hidden
@pytest.mark.feedback(
    "For every k, the model must receive the last k turns (a turn is a question and its "
    "reply: 2k messages), fewer while the conversation is shorter, as the legacy "
    "ConversationBufferWindowMemory(k) sends them."
)
@pytest.mark.points(1)
@pytest.mark.requirement("window")
def test_the_window_follows_k(window_scene, model, legacy_prompt):
    sent = 0
    for k in (1, 3):
        chat = window_scene(k)
        session = f"k{k}"
        turns = []
        for text in CONVERSATION:
            chat.say(session, text)
            assert list(model.prompts[sent]) == legacy_prompt(turns, text, k), (
                f"turn {len(turns) + 1} with k={k}: the last {k} turns and the input"
            )
            turns.append((text, model.reply_to(sent)))
            sent += 1


@pytest.mark.hidden
@pytest.mark.feedback(
    "Each session has its own window: a prompt must hold only the turns of the session "
    "it was sent for, taken from get_session_history(session_id)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("window")
def test_sessions_have_their_own_windows(window_scene, model, legacy_prompt):
    chat = window_scene(2)
    turns = {"alex": [], "bo": []}
    texts = {"alex": CONVERSATION[:3], "bo": ["Hi, I'm Bo", "I live in Porto", "Who am I?"]}
    for index in range(6):
        session = ("alex", "bo")[index % 2]
        text = texts[session][index // 2]
        chat.say(session, text)
        assert list(model.prompts[index]) == legacy_prompt(turns[session], text, 2), (
            f"the prompt for {session}'s turn {index // 2 + 1} should hold only {session}'s turns"
        )
        turns[session].append((text, model.reply_to(index)))


@pytest.mark.hidden
@pytest.mark.feedback(
    "The `prompt` argument must be the template the chain fills: its system message, "
    "its history placeholder and its input, not the default PROMPT."
)
@pytest.mark.points(1)
@pytest.mark.requirement("window")
def test_the_prompt_argument_is_used(window_scene, model, legacy_prompt):
    chat = window_scene(1, custom_prompt=True)
    turns = []
    for index, text in enumerate(CONVERSATION[:3]):
        chat.say("alex", text)
        expected = legacy_prompt(turns, text, 1, system="Answer in one short sentence.")
        assert list(model.prompts[index]) == expected, (
            f"turn {index + 1}: the given prompt's system message, the last turn and the input"
        )
        turns.append((text, model.reply_to(index)))


TURNS = [(f"question {n}", f"answer {n}") for n in range(3)]


@pytest.mark.hidden
@pytest.mark.feedback(
    "A window memory must carry every stored message (memory.chat_memory.messages), not "
    "only its last k turns: trimming now happens in the chain."
)
@pytest.mark.points(1)
@pytest.mark.requirement("migrate")
def test_window_memory_carries_every_message(migrate_scene):
    expected = [pair for q, a in TURNS for pair in (("human", q), ("ai", a))]
    assert migrate_scene.window(1, TURNS) == expected, (
        "a ConversationBufferWindowMemory(k=1) that saw 3 turns: all 6 messages, in order"
    )


@pytest.mark.hidden
@pytest.mark.feedback(
    "A ConversationSummaryBufferMemory must become its summary (one system message "
    "starting with SUMMARY_PREFIX, when it has one) followed by the messages it keeps."
)
@pytest.mark.points(1)
@pytest.mark.requirement("migrate")
def test_summary_buffer_memory_carries_summary_then_messages(migrate_scene):
    migrated = migrate_scene.summary_buffer("Alex likes blue.", ["I live in Lisbon", "Noted."])
    assert migrated == [
        ("system", "Summary of the earlier conversation: Alex likes blue."),
        ("human", "I live in Lisbon"),
        ("ai", "Noted."),
    ], "the summary as a system message, then the kept messages"
    assert migrate_scene.summary_buffer("", ["Hi", "Hello!"]) == [
        ("human", "Hi"),
        ("ai", "Hello!"),
    ], "without a summary, only the kept messages"


@pytest.mark.hidden
@pytest.mark.feedback("An object that keeps no chat messages must be refused with TypeError.")
@pytest.mark.points(1)
@pytest.mark.requirement("migrate")
def test_an_object_without_messages_is_refused(migrate_scene):
    expect_error(
        migrate_scene.not_a_memory,
        "legacy_to_history(object()) should raise TypeError",
        kind="TypeError",
    )
