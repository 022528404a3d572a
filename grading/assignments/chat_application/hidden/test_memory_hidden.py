"""Hidden tests: memory survives processes, the injected clients are used."""

import pytest


@pytest.mark.points(2)
@pytest.mark.requirement("memory")
@pytest.mark.hidden
@pytest.mark.feedback(
    "The conversation must be read back from Redis on every turn: a ChatApplication "
    "in a new process continuing a session did not send the earlier turns to the model."
)
def test_another_process_continues_the_conversation(make_app, model):
    first = make_app()
    session = first.create_session("alice")
    reply = first.chat(session, "Hi, I'm Alex")
    second = make_app(new_process=True)
    answer = second.chat(session, "What's my name?")
    assert model.prompts[-1].history == [("user", "Hi, I'm Alex"), ("assistant", reply)]
    assert answer == "Your name is Alex."


@pytest.mark.points(1)
@pytest.mark.requirement("memory")
@pytest.mark.hidden
@pytest.mark.feedback("When both redis_client and redis_url are given, redis_client must be used.")
def test_redis_client_wins_over_redis_url(make_app, redis_store):
    app = make_app(redis_url="redis://127.0.0.1:1/0")
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    assert redis_store.keys_mentioning(session), "nothing reached the given redis_client"
    assert app.get_session_info(session).message_count == 2


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
