"""Hidden tests: LimitedRedisChatHistory on its own, and long conversations."""

import pytest

from grading.assignments.chat_application.helpers import attribute, marker
from grading.remote import message


def _messages(labels):
    kinds = ["human", "ai"]
    return [message(kinds[i % 2], f"Message {marker(label)}") for i, label in enumerate(labels)]


@pytest.mark.points(1)
@pytest.mark.requirement("limit")
@pytest.mark.hidden
@pytest.mark.feedback(
    "LimitedRedisChatHistory must keep only the newest max_messages messages, oldest "
    "first, across several add_messages calls, in the Redis key key_prefix + session_id "
    "(its `key`), with a client returning bytes or str (decode_responses=True)."
)
def test_history_class_keeps_the_newest_messages(make_history, redis_store):
    for decoded, prefix in ((False, "hb:"), (True, "hs:")):
        history = make_history(
            "history-limit",
            decode_responses=decoded,
            max_messages=3,
            ttl_seconds=60,
            key_prefix=prefix,
        )
        added = _messages(range(1, 6))
        history.add_messages(added[:2])
        history.add_messages(added[2:])
        kept = [(m.type, m.content) for m in history.messages]
        assert kept == [(m["$message"], m["content"]) for m in added[-3:]]
        assert attribute(history, "key") == f"{prefix}history-limit"
        stored = next((s for s in redis_store.dump() if s.name == f"{prefix}history-limit"), None)
        assert stored is not None, f"nothing stored under the key {prefix}history-limit"
        assert [marker(n) in stored.text for n in range(1, 6)] == [False] * 2 + [True] * 3


@pytest.mark.points(1)
@pytest.mark.requirement("limit")
@pytest.mark.hidden
@pytest.mark.feedback("LimitedRedisChatHistory.clear must remove every stored message.")
def test_history_class_clear(make_history, redis_store):
    history = make_history("history-clear", max_messages=10, ttl_seconds=60)
    history.add_messages(_messages(["c1", "c2"]))
    assert len(history.messages) == 2
    history.clear()
    assert history.messages == []
    assert marker("c1") not in redis_store.stored_text()


@pytest.mark.points(1)
@pytest.mark.requirement("limit")
@pytest.mark.hidden
@pytest.mark.feedback(
    "In a long conversation only the newest max_messages messages may stay stored, turn after turn."
)
def test_long_conversation_stays_at_the_limit(make_app, redis_store):
    app = make_app(max_messages=6)
    session = app.create_session("alice")
    for turn in range(1, 8):
        app.chat(session, f"Turn {marker(turn)}")
        stored = redis_store.stored_text()
        kept = [t for t in range(1, turn + 1) if marker(t) in stored]
        assert kept == list(range(max(1, turn - 2), turn + 1)), (
            f"after turn {turn} with max_messages=6, the stored turns are {kept}"
        )
