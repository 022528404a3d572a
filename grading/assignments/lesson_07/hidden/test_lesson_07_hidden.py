"""Lesson 7, hidden tests: message outputs and another input key, the order of the result,
a client that fails, a cancellation before the model answers and one during the save."""

import pytest

from grading.assignments.lesson_07.helpers import check_conversations


@pytest.mark.hidden
@pytest.mark.feedback(
    "ask_all must pass the question under input_key, and take .content when the chat "
    "returns messages: the replies are strings."
)
@pytest.mark.points(1)
@pytest.mark.requirement("ask_all")
def test_message_output_and_another_input_key(ask_scene, model):
    conversations = {"dee": ["Hi, I'm Dee", "What's my name?"], "eli": ["Hi, I'm Eli"]}
    chat = ask_scene(as_message=True, input_key="input")
    check_conversations(model, conversations, chat.ask(conversations))


@pytest.mark.hidden
@pytest.mark.feedback(
    "The result must list the sessions in the order of conversations, whichever finishes "
    "first, and give a session without questions an empty list."
)
@pytest.mark.points(1)
@pytest.mark.requirement("ask_all")
def test_result_follows_the_order_of_conversations(ask_scene, model):
    conversations = {
        "zed": ["Hi, I'm Zed", "My favorite color is blue", "What's my favorite color?"],
        "amy": ["Hi, I'm Amy"],
        "kim": [],
    }
    replies = ask_scene().ask(conversations)
    assert list(replies) == ["zed", "amy", "kim"]
    assert replies["kim"] == []
    check_conversations(model, conversations, replies)


@pytest.mark.hidden
@pytest.mark.feedback(
    "When on_chunk raises, the turn must be saved with the chunks received so far (the one "
    'on_chunk failed on included), marked {"interrupted": True}, and the error must propagate.'
)
@pytest.mark.points(1)
@pytest.mark.requirement("stream")
def test_a_client_that_fails_keeps_the_partial_reply(stream_scene):
    outcome = stream_scene.turn("Hi, I'm Alex", fail_after=3)
    assert "ConnectionResetError" in (outcome["raised"] or []), "on_chunk's error propagates"
    assert len(outcome["chunks"]) == 3
    stored = stream_scene.stored()
    assert [[kind, content] for kind, content, _ in stored] == [
        ["human", "Hi, I'm Alex"],
        ["ai", "".join(outcome["chunks"])],
    ]
    assert stored[1][2].get("interrupted") is True


@pytest.mark.hidden
@pytest.mark.feedback(
    "A turn cancelled before its first chunk must be saved too: the question and an empty "
    'reply marked {"interrupted": True}.'
)
@pytest.mark.points(1)
@pytest.mark.requirement("stream")
def test_a_turn_cancelled_before_the_first_chunk_is_saved(stream_scene):
    outcome = stream_scene.turn("Hi, I'm Alex", cancel_before_model=True)
    assert "CancelledError" in (outcome["raised"] or [])
    assert outcome["chunks"] == []
    stored = stream_scene.stored()
    assert [[kind, content] for kind, content, _ in stored] == [
        ["human", "Hi, I'm Alex"],
        ["ai", ""],
    ]
    assert stored[1][2].get("interrupted") is True


@pytest.mark.hidden
@pytest.mark.feedback(
    "A second cancellation that arrives while the interrupted turn is being saved must not "
    "stop the save: shield it (asyncio.shield), and save the question and the reply in one call."
)
@pytest.mark.points(1)
@pytest.mark.requirement("stream")
def test_a_second_cancellation_does_not_stop_the_save(stream_scene):
    outcome = stream_scene.turn("Hi, I'm Alex", cancel_after=2, cancel_while_saving=True)
    assert "CancelledError" in (outcome["raised"] or [])
    stored = stream_scene.stored()
    assert [[kind, content] for kind, content, _ in stored] == [
        ["human", "Hi, I'm Alex"],
        ["ai", "".join(outcome["chunks"])],
    ]
    assert stored[1][2].get("interrupted") is True
