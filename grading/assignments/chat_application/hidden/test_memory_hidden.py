"""Hidden tests: memory survives processes, the given or default clients are used."""

import pytest

from grading.assignments.chat_application.helpers import UNREACHABLE_REDIS_URL, marker


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
@pytest.mark.hidden
@pytest.mark.feedback(
    "The conversation must be read back from Redis on every turn: a ChatApplication "
    "in a new process continuing a session did not send the earlier turns to the model."
)
def test_another_process_continues_the_conversation(make_app, model):
    first = make_app()
    session = first.create_session("alice")
    first.chat(session, "Hi, I'm Alex")
    reply = model.reply_to(-1)
    second = make_app(new_process=True)
    second.chat(session, "What's my name?")
    assert model.prompts[-1].history == [("user", "Hi, I'm Alex"), ("assistant", reply)]


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
@pytest.mark.hidden
@pytest.mark.feedback(
    "When both redis_client and redis_url are given, redis_client must be used; with "
    "llm=None the app must use memory_course.get_chat_model() (offline here)."
)
def test_given_redis_client_and_default_model_are_used(make_app, model, redis_store):
    app = make_app(redis_url=UNREACHABLE_REDIS_URL)
    session = app.create_session("alice")
    app.chat(session, f"Hello {marker('given')} there")
    assert marker("given") in redis_store.stored_text(), "nothing reached the given redis_client"
    calls = len(model.requests)
    default = make_app(llm=False)
    session = default.create_session("alice")
    default.chat(session, "Hi, I'm Alex")
    answer = default.chat(session, "What's my name?")
    assert len(model.requests) == calls, "with llm=None the grader's model must not be called"
    # The course's offline model (what get_chat_model() returns here) knows the name.
    assert "Your name is Alex" in answer, f"the default model answered {answer!r}"


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
@pytest.mark.hidden
@pytest.mark.feedback(
    "chat must call the model once per turn and return exactly the text of its reply."
)
def test_chat_returns_the_models_reply(app, model):
    session = app.create_session("alice")
    for turn, text in enumerate(["Hello", "My favourite colour is teal", "Thanks"], start=1):
        reply = app.chat(session, text)
        assert len(model.requests) == turn
        assert reply == model.reply_to(-1)


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
@pytest.mark.hidden
@pytest.mark.feedback(
    "The system prompt must reach the model verbatim, braces included: build it as a "
    "SystemMessage, not a template."
)
def test_system_prompt_is_used_verbatim(make_app, model):
    prompt = 'Answer as {persona}; keep {{braces}}, "quotes" and \\backslashes\\.'
    app = make_app(system_prompt=prompt)
    session = app.create_session("alice")
    app.chat(session, "Hello")
    app.chat(session, "Tell me more")
    assert [p[0] for p in model.prompts] == [("system", prompt)] * 2
