"""Public bonus tests: export, share and fork."""

import json

import pytest

from grading.assignments.chat_application.helpers import (
    appear_in_order,
    export_messages,
    is_uuid4,
    mentions_role,
)


def _two_turns(app):
    session = app.create_session("alice")
    texts = []
    for text in ("Hi, I'm Alex", "What's my name?"):
        texts += [text, app.chat(session, text)]
    return session, texts


@pytest.mark.points(2)
@pytest.mark.requirement("bonus")
def test_export_json_round_trips(app):
    """export_session(format="json") parses back to the same messages, in order."""
    session, texts = _two_turns(app)
    exported = export_messages(json.loads(app.export_session(session, "json")))
    assert exported is not None, "the JSON export should hold a list of messages with their text"
    assert [text for _, text in exported] == texts
    assert [role for role, _ in exported] == ["human", "ai", "human", "ai"], (
        "each exported message should say whether the user or the assistant wrote it"
    )


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
def test_export_markdown_shows_roles_and_text(app):
    """export_session(format="markdown") shows every message's text in order, with roles."""
    session, texts = _two_turns(app)
    markdown = app.export_session(session, format="markdown")
    assert appear_in_order(markdown, texts), "every message should appear, in order"
    assert mentions_role(markdown, "human") and mentions_role(markdown, "ai")


@pytest.mark.points(2)
@pytest.mark.requirement("bonus")
def test_shared_session_is_listed_for_the_other_user(app):
    """share_session makes the session appear in the other user's list."""
    session, _ = _two_turns(app)
    app.share_session(session, "alice", "bob")
    assert session in [info.session_id for info in app.list_sessions("bob")]
    assert session in [info.session_id for info in app.list_sessions("alice")]


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
def test_fork_copies_the_conversation(app):
    """fork_session creates a new session for the user holding all the messages."""
    session, texts = _two_turns(app)
    fork = app.fork_session(session, "bob")
    assert is_uuid4(fork) and fork != session
    info = app.get_session_info(fork)
    assert (info.user_id, info.message_count) == ("bob", len(texts))
    assert fork in [info.session_id for info in app.list_sessions("bob")]
