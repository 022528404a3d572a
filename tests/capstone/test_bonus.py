"""Bonus: export (JSON, Markdown), sharing with another user, forking a prefix."""

from __future__ import annotations

import json
import uuid

import pytest

from solutions.chat_application import SessionNotFoundError
from tests.capstone.support import stored_messages


def test_json_export_round_trips(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    app.chat(session_id, 'emoji 🙂 and \x00 and "quotes"')
    exported = json.loads(app.export_session(session_id, "json"))
    stored = stored_messages(app, session_id)
    assert [(m["role"], m["content"]) for m in exported["messages"]] == [
        (m.type, m.content) for m in stored
    ]
    assert {k: v for k, v in exported.items() if k != "messages"} == (
        app.get_session_info(session_id).to_dict()
    )
    assert json.loads(app.export_session(session_id)) == exported  # json is the default


def test_markdown_export_shows_roles_and_text_in_order(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    app.chat(session_id, "What's my name?")
    markdown = app.export_session(session_id, "markdown")
    stored = stored_messages(app, session_id)
    position = 0
    for message in stored:
        label = "**User:**" if message.type == "human" else "**Assistant:**"
        found = markdown.index(f"{label} {message.content}", position)
        assert found >= position
        position = found + 1
    assert session_id in markdown


def test_export_errors(app):
    session_id = app.create_session("alice")
    for bad in ("xml", "JSON", "", "md"):
        with pytest.raises(ValueError):
            app.export_session(session_id, bad)
    with pytest.raises(TypeError):
        app.export_session(session_id, None)
    with pytest.raises(SessionNotFoundError):
        app.export_session(str(uuid.uuid4()))
    empty = json.loads(app.export_session(session_id))
    assert empty["messages"] == [] and empty["message_count"] == 0


def test_share_session_lists_it_for_the_other_user(app):
    session_id = app.create_session("alice")
    bobs_own = app.create_session("bob")
    app.share_session(session_id, "alice", "bob")
    app.share_session(session_id, "alice", "bob")  # twice changes nothing
    app.chat(session_id, "Hello")
    listed = app.list_sessions("bob")
    assert [i.session_id for i in listed] == [session_id, bobs_own]
    assert listed[0].user_id == "alice"
    assert listed[0].message_count == 2
    assert [i.session_id for i in app.list_sessions("carol")] == []


def test_share_session_requires_the_owner(app):
    session_id = app.create_session("alice")
    with pytest.raises(PermissionError):
        app.share_session(session_id, "mallory", "mallory")
    with pytest.raises(PermissionError):
        app.share_session(session_id, "bob", "carol")
    assert app.list_sessions("mallory") == [] and app.list_sessions("carol") == []
    with pytest.raises(SessionNotFoundError):
        app.share_session(str(uuid.uuid4()), "alice", "bob")
    with pytest.raises(ValueError):
        app.share_session(session_id, "alice", "")
    app.share_session(session_id, "alice", "alice")
    assert len(app.list_sessions("alice")) == 1


def test_fork_copies_a_prefix_then_diverges(app, recording_model):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    app.chat(session_id, "My favourite colour is green")
    original = stored_messages(app, session_id)
    fork = app.fork_session(session_id, "bob", at_message=2)
    assert fork != session_id and uuid.UUID(fork).version == 4
    info = app.get_session_info(fork)
    assert (info.user_id, info.message_count) == ("bob", 2)
    assert [fork] == [i.session_id for i in app.list_sessions("bob")]
    assert stored_messages(app, fork) == original[:2]

    app.chat(fork, "What's my favourite colour?")
    assert [m.content for m in recording_model.last_prompt[1:3]] == [
        original[0].content,
        original[1].content,
    ]
    assert len(recording_model.last_prompt) == 4  # the fork never saw the colour
    assert stored_messages(app, session_id) == original
    app.chat(session_id, "Bye")
    assert app.get_session_info(fork).message_count == 4
    assert app.get_session_info(session_id).message_count == 6


def test_fork_whole_and_empty(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hello")
    whole = app.fork_session(session_id, "alice")
    empty = app.fork_session(session_id, "alice", at_message=0)
    assert stored_messages(app, whole) == stored_messages(app, session_id)
    assert app.get_session_info(empty).message_count == 0
    app.delete_session(session_id)
    assert app.get_session_info(whole).message_count == 2


def test_fork_errors(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hello")
    for bad in (-1, 3, 100):
        with pytest.raises(ValueError):
            app.fork_session(session_id, "bob", at_message=bad)
    for bad in (True, 1.0, "1"):
        with pytest.raises(TypeError):
            app.fork_session(session_id, "bob", at_message=bad)
    with pytest.raises(SessionNotFoundError):
        app.fork_session(str(uuid.uuid4()), "bob")
    with pytest.raises(ValueError):
        app.fork_session(session_id, "")
    assert app.list_sessions("bob") == []
