"""Lesson 1, public tests: memory within a session, isolation between sessions, reset."""

import pytest


@pytest.mark.points(2)
@pytest.mark.requirement("memory")
def test_second_turn_sees_the_first(memory_scene, model):
    """The model's second prompt holds the system message, the first turn, then the question."""
    first = memory_scene.say("alex", "Hi, I'm Alex")
    assert first == ("ai", model.reply_to(0)), "invoke should return the model's reply message"
    second = memory_scene.say("alex", "What's my name?")
    assert len(model.prompts) == 2, "each invoke of the chat should call the model once"
    prompt = model.prompts[-1]
    assert prompt.roles == ["system", "user", "assistant", "user"], (
        "the second prompt should be the system message, the first turn (the human "
        "message, then the reply), then the new human message"
    )
    assert prompt.history == [("user", "Hi, I'm Alex"), ("assistant", model.reply_to(0))], (
        "the second prompt should carry the first turn of the same session, as it was said"
    )
    assert prompt[-1] == ("user", "What's my name?"), "the new message should come last"
    assert second == ("ai", model.reply_to(1)), "invoke should return the model's reply message"


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
def test_sessions_do_not_share_memory(memory_scene, model):
    """Another session starts empty, and each session keeps its own turns."""
    memory_scene.say("alex", "Hi, I'm Alex")
    memory_scene.say("bo", "What's my name?")
    assert model.prompts[-1].history == [], (
        "bo's first prompt should hold no earlier message: alex's turn belongs to alex's session"
    )
    memory_scene.say("alex", "What's my name?")
    assert model.prompts[-1].history == [
        ("user", "Hi, I'm Alex"),
        ("assistant", model.reply_to(0)),
    ], "alex's second prompt should carry alex's first turn, and nothing of bo's"


@pytest.mark.points(1)
@pytest.mark.requirement("reset")
def test_a_turn_returns_the_reply_text(reset_scene, model):
    """Any text but the command is a turn of that session: the reply comes back as text."""
    assert reset_scene.turn("alex", "Hi, I'm Alex") == model.reply_to(-1), (
        "reply_or_reset should return the model's reply as a str"
    )
    assert reset_scene.turn("alex", "What's my name?") == model.reply_to(-1)
    assert model.prompts[-1].history == [
        ("user", "Hi, I'm Alex"),
        ("assistant", model.reply_to(0)),
    ], (
        "the turn should go through `chat` with the session id in the config, so the "
        "second prompt carries the first turn"
    )


@pytest.mark.points(2)
@pytest.mark.requirement("reset")
def test_reset_clears_without_calling_the_model(reset_scene, model):
    """`/reset` answers "History cleared.", calls no model, and the session starts over."""
    reset_scene.turn("alex", "Hi, I'm Alex")
    calls = len(model.prompts)
    assert reset_scene.turn("alex", "/reset") == "History cleared."
    assert len(model.prompts) == calls, "/reset must not call the model"
    reset_scene.turn("alex", "What's my name?")
    assert model.prompts[-1].history == [], (
        "after /reset, the session's next prompt should hold no earlier message"
    )
