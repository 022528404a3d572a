"""Hidden tests: bad input, failed turns, unknown sessions and an unreachable Redis."""

import uuid

import pytest

from grading.assignments.chat_application.helpers import (
    MAX_MESSAGE_CHARS,
    MAX_SESSION_ID_CHARS,
    MAX_USER_ID_CHARS,
    UNREACHABLE_REDIS_URL,
    marker,
    stored_contents,
)
from grading.remote import RemoteError, message


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "chat must raise TypeError for a session id or message that is not a str, and "
    "ValueError for a message longer than MAX_MESSAGE_CHARS (16,000 characters) or holding "
    "lone surrogates (not valid Unicode), before reaching the model or Redis; a message "
    "of exactly 16,000 characters is accepted."
)
def test_chat_checks_its_input(app, model, redis_store):
    session = app.create_session("alice")
    app.chat(session, "Hello there")
    before, calls = stored_contents(redis_store), len(model.requests)
    for args in ((123, "Hello"), (None, "Hello"), (session, 42), (session, None)):
        with pytest.raises(TypeError):
            app.chat(*args)
    with pytest.raises(ValueError):
        app.chat(session, "x" * (MAX_MESSAGE_CHARS + 1))
    with pytest.raises(ValueError):
        app.chat(session, "half a pair: \ud800")
    assert len(model.requests) == calls, "a rejected message must not reach the model"
    assert stored_contents(redis_store) == before, "a rejected message must store nothing"
    app.chat(session, "x" * MAX_MESSAGE_CHARS)
    assert len(model.requests) == calls + 1, "a message of exactly 16,000 characters is accepted"


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "When the model call fails, chat must raise the model's own exception unchanged, and "
    "the failed message must be neither stored nor sent in later prompts."
)
def test_failed_turn_is_invisible_to_the_next_prompt(app, model, redis_store):
    session = app.create_session("alice")
    app.chat(session, f"Hello {marker('kept')} there")
    model.fail_next(100)
    with pytest.raises(RemoteError) as raised:
        app.chat(session, f"Lost {marker('lost')} message")
    model.fail_next(0)
    # The grader's model client raises openai's InternalServerError for an HTTP 500.
    assert "InternalServerError" in raised.value.mro_names, (
        f"chat raised {raised.value.type_name}, not the model's own exception"
    )
    app.chat(session, "Are you there?")
    assert not any(marker("lost") in text for text in model.prompts[-1].contents)
    stored = redis_store.stored_text()
    assert marker("lost") not in stored and marker("kept") in stored


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "SessionNotFoundError must subclass ValueError and be raised by chat on an unknown, "
    "deleted or expired session."
)
def test_deleted_or_expired_session_raises_session_not_found(make_app, redis_store, submission_mro):
    assert "ValueError" in submission_mro("SessionNotFoundError")
    app = make_app(session_ttl=60)
    deleted = app.create_session("alice")
    app.chat(deleted, "Hello there")
    assert app.delete_session(deleted) is True
    with pytest.raises(ValueError) as raised:
        app.chat(deleted, "Hello again")
    assert raised.value.type_name == "SessionNotFoundError", "chat on a deleted session"
    expired = app.create_session("alice")
    app.chat(expired, "Hello there")
    redis_store.advance(61)
    if redis_store.keys_named_with(expired):
        return  # it did not expire: the TTL tests grade that, not this one
    with pytest.raises(ValueError) as raised:
        app.chat(expired, "Hello again")
    assert raised.value.type_name == "SessionNotFoundError", "chat on an expired session"


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "Invalid arguments must raise before anything is stored: TypeError for a user id or "
    "session id that is not a str; ValueError for a user id that is empty, whitespace, "
    "longer than 128 characters or holds control characters (create_session and "
    "list_sessions); TypeError or ValueError for invalid ChatApplication settings "
    "(max_messages and session_ttl are ints >= 1)."
)
def test_invalid_arguments_and_settings_are_rejected(make_app, redis_store):
    app = make_app()
    app.create_session("u" * MAX_USER_ID_CHARS)  # the longest user id is accepted
    before = stored_contents(redis_store)
    bad_user_ids = ("", "   ", "u" * (MAX_USER_ID_CHARS + 1), "al\nice", "bo\x00b")
    for method in (app.create_session, app.list_sessions):
        with pytest.raises(TypeError):
            method(42)
        for user_id in bad_user_ids:
            with pytest.raises(ValueError):
                method(user_id)
    for method in (app.get_session_info, app.delete_session):
        with pytest.raises(TypeError):
            method(42)
    assert stored_contents(redis_store) == before, "a rejected call must store nothing"
    for options, error in (
        ({"max_messages": 0}, ValueError),
        ({"max_messages": "5"}, TypeError),
        ({"session_ttl": 0}, ValueError),
        ({"session_ttl": 1.5}, TypeError),
    ):
        with pytest.raises(error):
            make_app(**options)


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "When Redis cannot be reached (a ChatApplication built from a redis_url where nothing "
    "answers), create_session, chat, get_session_info, list_sessions and delete_session "
    "must raise StorageUnavailableError, from the original redis error, without calling "
    "the model; so must LimitedRedisChatHistory's messages, add_messages and clear."
)
def test_unreachable_redis_raises_storage_unavailable(make_app, make_history, model):
    working = make_app()
    working.chat(working.create_session("alice"), "Hello there")
    calls = len(model.requests)
    history = make_history("unreachable", unreachable=True, max_messages=5, ttl_seconds=60)
    for doing, call in (
        ("messages", lambda: history.messages),
        ("add_messages", lambda: history.add_messages([message("human", "Hello")])),
        ("clear", history.clear),
    ):
        with pytest.raises(RemoteError) as raised:
            call()
        _assert_storage_unavailable(raised.value, f"LimitedRedisChatHistory.{doing}")
    try:
        app = make_app(redis_client=False, redis_url=UNREACHABLE_REDIS_URL)
    except RemoteError as error:  # failing fast at construction is fine, as this error
        _assert_storage_unavailable(error, "ChatApplication(redis_url=...)")
        return
    session = str(uuid.uuid4())
    for name, args in (
        ("create_session", ("alice",)),
        ("chat", (session, "Hello there")),
        ("get_session_info", (session,)),
        ("list_sessions", ("alice",)),
        ("delete_session", (session,)),
    ):
        with pytest.raises(RemoteError) as raised:
            getattr(app, name)(*args)
        _assert_storage_unavailable(raised.value, name)
    assert len(model.requests) == calls, "chat must not call the model when Redis is down"


def _assert_storage_unavailable(error: RemoteError, doing: str) -> None:
    assert "StorageUnavailableError" in error.mro_names, (
        f"{doing} raised {error.type_name}, not StorageUnavailableError"
    )
    assert "RedisError" in error.cause_names, (
        f"{doing} raised StorageUnavailableError without the redis error as its cause "
        "(raise ... from error)"
    )


@pytest.mark.points(1)
@pytest.mark.requirement("errors")
@pytest.mark.hidden
@pytest.mark.feedback(
    "LimitedRedisChatHistory must raise TypeError for arguments of the wrong type and "
    "ValueError for an empty or too long (over 256 characters) session id or a limit "
    "below 1; add_messages must raise TypeError for an item that is not a message and "
    "ValueError for a lone surrogate, and then store nothing, and do nothing at all for "
    "an empty list; messages must raise ValueError when its key holds data the class did "
    "not write."
)
def test_history_class_rejects_bad_arguments(make_history, redis_store):
    history = make_history("s" * MAX_SESSION_ID_CHARS, max_messages=5, ttl_seconds=60)
    history.add_messages([message("human", f"Hello {marker('first')}")])
    assert [m.content for m in history.messages] == [f"Hello {marker('first')}"]
    for session_id, options, error in (
        (42, {}, TypeError),
        ("", {}, ValueError),
        ("s" * (MAX_SESSION_ID_CHARS + 1), {}, ValueError),
        ("h", {"max_messages": 0}, ValueError),
        ("h", {"ttl_seconds": 0}, ValueError),
        ("h", {"max_messages": "3"}, TypeError),
        ("h", {"key_prefix": 7}, TypeError),
    ):
        with pytest.raises(error):
            make_history(session_id, **options)
    before = stored_contents(redis_store)
    other = make_history("history-errors", max_messages=5, ttl_seconds=60)
    other.add_messages([])
    assert stored_contents(redis_store) == before, "add_messages([]) must store nothing"
    with pytest.raises(TypeError):
        other.add_messages([message("human", f"Partial {marker('partial')}"), "not a message"])
    assert marker("partial") not in redis_store.stored_text(), (
        "add_messages stored part of a list holding an item that is not a message"
    )
    with pytest.raises(ValueError):
        other.add_messages([message("human", f"Half {marker('half')} a pair: \ud800")])
    assert marker("half") not in redis_store.stored_text(), "a lone surrogate was stored"
    # Data the class did not write, under its key: reading it is a ValueError.
    redis_store.append("foreign:h", "not json at all", '{"no": "message"}')
    foreign = make_history("h", max_messages=5, ttl_seconds=60, key_prefix="foreign:")
    with pytest.raises(ValueError):
        _ = foreign.messages
