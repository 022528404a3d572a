"""Hidden bonus tests: export formats, sharing rules, forking part of a conversation."""

import json
import uuid
from datetime import datetime

import pytest

from grading.assignments.chat_application.helpers import (
    SESSION_INFO_FIELDS,
    UNREACHABLE_REDIS_URL,
    assert_not_extended,
    info_field,
    marker,
    raises_remote,
    session_ids,
    session_text,
    session_ttls,
)
from grading.remote import RemoteError

LABELS = {"human": "User", "ai": "Assistant"}


def _conversation(app, model, turns=2):
    """A session of alice's, and its messages as (role, text), replies as the model gave them."""
    session = app.create_session("alice")
    messages = []
    for turn in range(1, turns + 1):
        text = f"Turn {marker(turn)}"
        app.chat(session, text)
        messages += [("human", text), ("ai", model.reply_to(-1))]
    return session, messages


def _storage_unavailable(make_app, calls):
    """Each call(app) on an app whose Redis cannot be reached raises StorageUnavailableError."""
    try:
        app = make_app(redis_client=False, redis_url=UNREACHABLE_REDIS_URL)
    except RemoteError as error:  # failing fast at construction is fine, as this error
        assert "StorageUnavailableError" in error.mro_names, error.type_name
        return
    for name, call in calls:
        with pytest.raises(RemoteError) as raised:
            call(app)
        assert "StorageUnavailableError" in raised.value.mro_names, (
            f"{name} raised {raised.value.type_name} when Redis was unreachable"
        )


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "share_session must raise PermissionError when owner_id is not the session's owner."
)
def test_only_the_owner_can_share(app, model):
    session, _ = _conversation(app, model, 1)
    with pytest.raises(PermissionError):
        app.share_session(session, "mallory", "bob")
    assert app.list_sessions("bob") == []


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "fork_session(at_message=n) must give the new session exactly the first n messages."
)
def test_fork_at_message_keeps_the_first_messages(app, model, redis_store):
    session, _ = _conversation(app, model, 2)
    fork = app.fork_session(session, "bob", at_message=2)
    copied = session_text(redis_store, fork)
    assert marker(1) in copied, "the first turn is missing from the fork"
    assert marker(2) not in copied, "the fork holds more than the first 2 messages"


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "A fork and its original must continue independently of each other, and a fork must "
    "get a fresh expiry of its own (session_ttl from its creation)."
)
def test_forks_diverge(make_app, model, redis_store):
    app = make_app(session_ttl=60)
    session, _ = _conversation(app, model, 1)
    fork = app.fork_session(session, "bob")
    app.chat(fork, f"Only {marker('fork')} here")
    app.chat(session, f"Only {marker('original')} here")
    assert not any(marker("fork") in text for text in model.prompts[-1].contents)
    assert marker("fork") not in session_text(redis_store, session)
    assert marker("original") not in session_text(redis_store, fork)
    redis_store.advance(40)
    late_fork = app.fork_session(session, "carol")
    redis_store.advance(30)  # the original is idle for 70 s, the late fork for 30 s
    if not redis_store.keys_named_with(session):  # the TTL tests grade whether it expired
        ttls = session_ttls(redis_store, late_fork)
        assert ttls and all(0 < ttl <= 60 for ttl in ttls), (
            f"a fork made 40 s into its original's life expired with it (its TTLs: {ttls})"
        )
        assert session_ids(app.list_sessions("carol")) == [late_fork]


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    'export_session must follow the contract: "json" is an object with the five '
    'SessionInfo fields and "messages" as {"role": "human"/"ai", "content": text}; '
    '"markdown" is a heading then one "**User:** text" or "**Assistant:** text" paragraph '
    "per message; reading does not extend the session; TypeError for a non-str id or "
    "format, ValueError for an unknown format, an error for an unknown session, "
    "StorageUnavailableError when Redis is down."
)
def test_export_follows_the_contract(make_app, model, redis_store):
    app = make_app(session_ttl=60)
    session, messages = _conversation(app, model, 2)
    redis_store.advance(30)
    before = session_ttls(redis_store, session)
    data = json.loads(app.export_session(session, "json"))
    assert isinstance(data, dict) and set(SESSION_INFO_FIELDS) <= set(data), sorted(data)
    assert (data["session_id"], data["user_id"], data["message_count"]) == (session, "alice", 4)
    datetime.fromisoformat(data["created_at"])
    datetime.fromisoformat(data["last_active"])
    exported = [(item.get("role"), item.get("content")) for item in data["messages"]]
    assert exported == messages
    markdown = app.export_session(session, format="markdown")
    assert markdown.lstrip().startswith("#"), "the Markdown export starts with a heading"
    paragraphs = [p.strip() for p in markdown.split("\n\n")]
    expected = [f"**{LABELS[role]}:** {text}" for role, text in messages]
    assert [p for p in paragraphs if p.startswith("**")] == expected
    assert_not_extended(before, session_ttls(redis_store, session), "export_session")
    for args, error in (((session, "xml"), ValueError), ((session, None), TypeError)):
        with pytest.raises(error):
            app.export_session(*args)
    with pytest.raises(TypeError):
        app.export_session(42, "json")
    raises_remote(
        lambda: app.export_session(str(uuid.uuid4()), "json"),
        "export_session of an unknown session should raise SessionNotFoundError",
    )
    _storage_unavailable(
        make_app, [("export_session", lambda down: down.export_session(str(uuid.uuid4())))]
    )


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "Sharing with the owner or sharing twice must change nothing; the shared session is "
    "listed for the other user with the owner as user_id, and deleting it removes it from "
    "their list; invalid user ids raise TypeError or ValueError, a non-str session id "
    "TypeError, an unknown session an error, and an unreachable Redis "
    "StorageUnavailableError."
)
def test_sharing_follows_the_contract(make_app, model, redis_store):
    app = make_app()
    session, _ = _conversation(app, model, 1)
    snapshot = [(s.name, s.type, s.text) for s in redis_store.dump()]
    app.share_session(session, "alice", "alice")
    assert [(s.name, s.type, s.text) for s in redis_store.dump()] == snapshot, (
        "sharing a session with its owner changed what is stored"
    )
    assert session_ids(app.list_sessions("alice")) == [session]
    app.share_session(session, "alice", "bob")
    keys = [(s.name, s.type) for s in redis_store.dump()]
    app.share_session(session, "alice", "bob")
    assert [(s.name, s.type) for s in redis_store.dump()] == keys, "sharing twice added keys"
    listed = app.list_sessions("bob")
    assert session_ids(listed) == [session], "bob should see the shared session once"
    assert info_field(listed[0], "user_id") == "alice", "user_id is the owner, also for bob"
    for args, error in (
        ((session, 42, "bob"), TypeError),
        ((session, "alice", None), TypeError),
        ((session, "", "carol"), ValueError),
        ((session, "alice", "   "), ValueError),
        ((42, "alice", "carol"), TypeError),
    ):
        with pytest.raises(error):
            app.share_session(*args)
    raises_remote(
        lambda: app.share_session(str(uuid.uuid4()), "alice", "carol"),
        "share_session of an unknown session should raise SessionNotFoundError",
    )
    assert app.list_sessions("carol") == []
    assert app.delete_session(session) is True
    assert session_ids(app.list_sessions("bob")) == [], "a deleted session stays listed for bob"
    assert redis_store.keys_mentioning(session) == []
    _storage_unavailable(
        make_app,
        [("share_session", lambda down: down.share_session(str(uuid.uuid4()), "alice", "bob"))],
    )


@pytest.mark.points(1)
@pytest.mark.requirement("bonus")
@pytest.mark.hidden
@pytest.mark.feedback(
    "fork_session must accept at_message from 0 to message_count, raise ValueError outside "
    "that range or for an invalid user id, TypeError for an at_message that is not an int "
    "or None and for a non-str session id, an error for an unknown session, and "
    "StorageUnavailableError when Redis is down."
)
def test_fork_checks_its_arguments(make_app, model, redis_store):
    app = make_app()
    session, _ = _conversation(app, model, 1)
    for at_message in ("1", 1.5):
        with pytest.raises(TypeError):
            app.fork_session(session, "bob", at_message=at_message)
    for at_message in (-1, 3):
        with pytest.raises(ValueError):
            app.fork_session(session, "bob", at_message=at_message)
    with pytest.raises(ValueError):
        app.fork_session(session, "")
    with pytest.raises(TypeError):
        app.fork_session(42, "bob")
    raises_remote(
        lambda: app.fork_session(str(uuid.uuid4()), "bob"),
        "fork_session of an unknown session should raise SessionNotFoundError",
    )
    assert app.list_sessions("bob") == [], "a rejected fork created a session"
    empty = app.fork_session(session, "carol", at_message=0)
    whole = app.fork_session(session, "carol", at_message=2)
    assert sorted(session_ids(app.list_sessions("carol"))) == sorted([empty, whole])
    assert marker(1) not in session_text(redis_store, empty)
    assert marker(1) in session_text(redis_store, whole)
    _storage_unavailable(
        make_app, [("fork_session", lambda down: down.fork_session(str(uuid.uuid4()), "bob"))]
    )
