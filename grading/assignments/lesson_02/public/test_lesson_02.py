"""Lesson 2, public tests: the messages-key chat, and catching a turn that was not saved."""

import pytest

from grading.remote import expect_error


@pytest.mark.points(2)
@pytest.mark.requirement("messages_key")
def test_model_sees_the_history_under_messages(messages_scene, model):
    """The system message with the topic, the earlier turn, then the new message."""
    first = messages_scene.say("fay", "Hi, I'm Fay", "jazz")
    assert model.prompts[0] == [("system", "You're an expert in jazz."), ("user", "Hi, I'm Fay")], (
        "the first prompt should be the template's system message with the topic, then "
        "the new human message"
    )
    assert first == ("ai", model.reply_to(0)), "invoke should return the model's reply message"
    second = messages_scene.say("fay", "What's my name?", "jazz")
    assert model.prompts[-1] == [
        ("system", "You're an expert in jazz."),
        ("user", "Hi, I'm Fay"),
        ("assistant", model.reply_to(0)),
        ("user", "What's my name?"),
    ], "the second prompt should put the stored first turn in front of the new message"
    assert second == ("ai", model.reply_to(1)), "invoke should return the model's reply message"


@pytest.mark.points(1)
@pytest.mark.requirement("messages_key")
def test_only_the_conversation_is_stored(messages_scene, model):
    """Each human message and reply is stored; the system message never is."""
    messages_scene.say("fay", "Hi, I'm Fay", "jazz")
    messages_scene.say("fay", "What's my name?", "jazz")
    assert messages_scene.stored("fay") == [
        ("human", "Hi, I'm Fay"),
        ("ai", model.reply_to(0)),
        ("human", "What's my name?"),
        ("ai", model.reply_to(1)),
    ], "the history should hold the two turns (human message, reply) and no system message"


@pytest.mark.points(2)
@pytest.mark.requirement("saved_check")
def test_forgetful_chain_is_caught(check_scene, model):
    """A dict output without output_messages_key saves nothing: HistoryNotSavedError."""
    error = expect_error(
        lambda: check_scene.check("forgetful", "dana", "Hi, I'm Dana"),
        "expected HistoryNotSavedError to be raised",
    )
    assert "HistoryNotSavedError" in error.mro_names, (
        f"expected HistoryNotSavedError, got {error.type_name}: {error}"
    )
    assert "KeyError('output')" in error.remote_message, (
        "the message should include what LangChain logged, KeyError('output'); "
        f"it was {error.remote_message!r}"
    )
    assert len(model.prompts) == 1, "invoke_and_check_saved should invoke the chat once"
    assert check_scene.stored("dana") == [], "the check must not save the turn itself"


@pytest.mark.points(2)
@pytest.mark.requirement("saved_check")
def test_saved_turn_returns_the_output(check_scene, model):
    """A chain that saves its turn: the output comes back unchanged, nothing is raised."""
    output = check_scene.check("remembering", "eve", "Hi, I'm Eve")
    assert output == {"output_message": ("ai", model.reply_to(0)), "topic": "math"}, (
        "the chain's output should be returned unchanged"
    )
    output = check_scene.check("remembering", "eve", "What's my name?")
    assert len(model.prompts) == 2, "each call should invoke the chat exactly once"
    assert model.prompts[-1].history == [
        ("user", "Hi, I'm Eve"),
        ("assistant", model.reply_to(0)),
    ], "the second call should run in the same session (the config passed as given)"
    assert output == {"output_message": ("ai", model.reply_to(1)), "topic": "math"}
    assert len(check_scene.stored("eve")) == 4, "the two turns should be stored once each"
