"""Public bonus tests: export, share and fork."""

import json

import pytest

from grading.assignments.chat_application.helpers import (
    appear_in_order,
    export_messages,
    is_uuid4,
    marker,
    mentions_role,
    session_ids,
    session_text,
)


def _two_turns(app):
    session = app.create_session("alice")
    texts = []
    for text in ("Hi, I'm Alex", "What's my name?"):
        texts += [text, app.chat(session, text)]
    return session, texts


@pytest.mark.points(1)
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


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
def test_shared_session_is_listed_for_the_other_user(app):
    """share_session makes the session appear in the other user's list."""
    session, _ = _two_turns(app)
    app.share_session(session, "alice", "bob")
    listed = session_ids(app.list_sessions("bob"))
    assert session in listed, (
        f"after sharing, list_sessions('bob') should list it; it listed {listed}"
    )
    listed = session_ids(app.list_sessions("alice"))
    assert session in listed, f"the owner should still see the session; alice's list is {listed}"


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
def test_fork_copies_the_conversation(app, redis_store):
    """fork_session creates a new session for the user holding all the messages."""
    session = app.create_session("alice")
    for turn in (1, 2):
        app.chat(session, f"Turn {marker(turn)} of the original")
    fork = app.fork_session(session, "bob")
    assert is_uuid4(fork) and fork != session, (
        f"fork_session should return the new session's UUID4 string, got {fork!r}"
    )
    listed = session_ids(app.list_sessions("bob"))
    assert fork in listed, f"list_sessions('bob') should list the fork; it listed {listed}"
    copied = session_text(redis_store, fork)
    for turn in (1, 2):
        # The fake model's reply quotes the message: a copied turn mentions its marker twice.
        assert copied.count(marker(turn)) >= 2, (
            f"turn {turn} of the original (message and reply) should be stored under the "
            "fork's own keys (keys whose name holds the fork's id)"
        )
