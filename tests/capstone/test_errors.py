"""Errors: unknown sessions and unusable messages are refused before anything is stored."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.messages import HumanMessage

from solutions.chat_application import MAX_MESSAGE_CHARS, SessionNotFoundError
from tests.capstone.support import stored_messages, traces_of


def test_unknown_and_deleted_sessions_raise_session_not_found(app):
    for session_id in (str(uuid.uuid4()), "nope", ""):
        with pytest.raises(SessionNotFoundError):
            app.chat(session_id, "Hello")
    session_id = app.create_session("alice")
    app.delete_session(session_id)
    with pytest.raises(SessionNotFoundError) as raised:
        app.chat(session_id, "Hello")
    assert isinstance(raised.value, ValueError)
    assert traces_of(app.redis, session_id) == []


def _assert_refused_before_anything_is_stored(app, recording_model, message, error) -> None:
    session_id = app.create_session("alice")
    with pytest.raises(error):
        app.chat(session_id, message)
    assert app.get_session_info(session_id).message_count == 0
    assert recording_model.prompts == []


@pytest.mark.parametrize("message", ["", " ", "\n\t  ", "\u3000", "x" * (MAX_MESSAGE_CHARS + 1)])
def test_empty_or_oversized_messages_raise_and_store_nothing(app, recording_model, message):
    _assert_refused_before_anything_is_stored(app, recording_model, message, ValueError)


def test_message_of_exactly_the_limit_is_accepted(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "y" * MAX_MESSAGE_CHARS)
    assert stored_messages(app, session_id)[0].content == "y" * MAX_MESSAGE_CHARS


@pytest.mark.parametrize("message", [None, 42, b"hello", ["hello"], HumanMessage("hello")])
def test_non_str_messages_raise_type_error_and_store_nothing(app, recording_model, message):
    _assert_refused_before_anything_is_stored(app, recording_model, message, TypeError)


def test_lone_surrogates_are_rejected_before_storage(app, recording_model):
    _assert_refused_before_anything_is_stored(
        app, recording_model, "broken \ud83d text", ValueError
    )


def test_unusual_text_round_trips_exactly(app):
    session_id = app.create_session("alice")
    texts = ["nul \x00 inside", "emoji 🙂👍🏽🇳🇿", "RTL שלום \u202e مرحبا", "{input} {history}"]
    for text in texts:
        app.chat(session_id, text)
    humans = [m.content for m in stored_messages(app, session_id) if m.type == "human"]
    assert humans == texts
