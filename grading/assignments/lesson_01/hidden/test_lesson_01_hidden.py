"""Lesson 1, hidden tests: the store itself, and what counts as the reset command."""

import pytest


@pytest.mark.hidden
@pytest.mark.feedback(
    "Each session's history must live in the `store` you were given, as "
    "`store[session_id]`, holding that session's human messages and replies in order."
)
@pytest.mark.points(1)
@pytest.mark.requirement("memory")
def test_store_holds_each_sessions_turns(memory_scene, model):
    memory_scene.say("alex", "Hi, I'm Alex")
    memory_scene.say("bo", "Hi, I'm Bo")
    memory_scene.say("alex", "What's my name?")
    assert memory_scene.stored() == {
        "alex": [
            ("human", "Hi, I'm Alex"),
            ("ai", model.reply_to(0)),
            ("human", "What's my name?"),
            ("ai", model.reply_to(2)),
        ],
        "bo": [("human", "Hi, I'm Bo"), ("ai", model.reply_to(1))],
    }


@pytest.mark.hidden
@pytest.mark.feedback(
    "A history already in `store` for a session must be used as it is (the model sees its "
    "messages, and the new turn is added to it), not replaced by an empty one."
)
@pytest.mark.points(1)
@pytest.mark.requirement("memory")
def test_history_already_in_the_store_is_used(memory_scene, model):
    memory_scene.prefill("carol", "Hi, I'm Carol", "Nice to meet you, Carol!")
    memory_scene.say("carol", "What's my name?")
    earlier = [("user", "Hi, I'm Carol"), ("assistant", "Nice to meet you, Carol!")]
    assert model.prompts[-1].history == earlier
    assert len(memory_scene.stored()["carol"]) == 4


@pytest.mark.hidden
@pytest.mark.feedback("Resetting one session must leave every other session's history as it was.")
@pytest.mark.points(1)
@pytest.mark.requirement("reset")
def test_reset_touches_only_its_session(reset_scene, model):
    reset_scene.turn("alex", "Hi, I'm Alex")
    reset_scene.turn("bo", "Hi, I'm Bo")
    bo_turn = [("user", "Hi, I'm Bo"), ("assistant", model.reply_to(1))]
    assert reset_scene.turn("alex", "/reset") == "History cleared."
    reset_scene.turn("bo", "What's my name?")
    assert model.prompts[-1].history == bo_turn
    reset_scene.turn("alex", "What's my name?")
    assert model.prompts[-1].history == []


@pytest.mark.hidden
@pytest.mark.feedback(
    'The command is recognised with surrounding whitespace (" /reset\\n" resets too, '
    "without calling the model)."
)
@pytest.mark.points(1)
@pytest.mark.requirement("reset")
def test_reset_ignores_surrounding_whitespace(reset_scene, model):
    reset_scene.turn("alex", "Hi, I'm Alex")
    calls = len(model.prompts)
    assert reset_scene.turn("alex", "  /reset\n") == "History cleared."
    assert len(model.prompts) == calls
    assert reset_scene.stored("alex") == []


@pytest.mark.hidden
@pytest.mark.feedback(
    "Only the command itself resets: a message that merely mentions /reset is an "
    "ordinary turn, answered by the model, with the history kept."
)
@pytest.mark.points(1)
@pytest.mark.requirement("reset")
def test_a_message_mentioning_the_command_is_a_turn(reset_scene, model):
    reset_scene.turn("alex", "Hi, I'm Alex")
    answer = reset_scene.turn("alex", "What does /reset do?")
    assert len(model.prompts) == 2
    assert answer == model.reply_to(1)
    assert model.prompts[-1].history == [("user", "Hi, I'm Alex"), ("assistant", model.reply_to(0))]
