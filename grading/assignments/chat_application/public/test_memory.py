"""Public tests: the conversation history reaches the model's prompt."""

import pytest


@pytest.mark.points(2)
@pytest.mark.requirement("memory")
def test_model_sees_earlier_turns(app, model):
    """The second turn's prompt is system prompt + first turn + new message."""
    session = app.create_session("alice")
    first = app.chat(session, "Hi, I'm Alex")
    assert first == model.reply_to(-1), "chat must return the model's reply text"
    second = app.chat(session, "What's my name?")
    assert model.prompts[-1] == [
        ("system", "You are a helpful assistant."),
        ("user", "Hi, I'm Alex"),
        ("assistant", first),
        ("user", "What's my name?"),
    ], "the model should receive the system prompt, the earlier turn, then the new message"
    assert second == "Your name is Alex.", "with its memory the model knows the user's name"


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
def test_system_prompt_comes_first(make_app, model):
    """A custom system prompt is the first message of every prompt, once."""
    app = make_app(system_prompt="You are a terse pirate.")
    session = app.create_session("alice")
    app.chat(session, "Hello")
    app.chat(session, "Tell me more")
    assert len(model.prompts) == 2, "one model call per chat turn"
    for prompt in model.prompts:
        assert prompt[0] == ("system", "You are a terse pirate."), (
            f"prompt starts with {prompt[:1]}"
        )
        assert prompt.roles.count("system") == 1, "the system prompt appears exactly once"


@pytest.mark.points(2)
@pytest.mark.requirement("memory")
def test_sessions_do_not_share_memory(app, model):
    """What is said in one session never reaches another session's prompt."""
    first = app.create_session("alice")
    second = app.create_session("alice")
    app.chat(first, "Hi, I'm Alex")
    reply = app.chat(second, "What's my name?")
    assert model.prompts[-1] == [
        ("system", "You are a helpful assistant."),
        ("user", "What's my name?"),
    ], "a new session's prompt holds no earlier messages"
    assert "Alex" not in reply
    app.chat(first, "What's my name?")
    assert ("user", "Hi, I'm Alex") in model.prompts[-1], "the first session keeps its own memory"
