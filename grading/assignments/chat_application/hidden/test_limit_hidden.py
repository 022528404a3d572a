"""Hidden tests: LimitedRedisChatHistory on its own, and long conversations."""

import pytest

from grading.assignments.chat_application.helpers import marker
from grading.remote import message


def _messages(labels):
    kinds = ["human", "ai"]
    return [message(kinds[i % 2], f"Message {marker(label)}") for i, label in enumerate(labels)]


@pytest.mark.points(2)
@pytest.mark.requirement("limit")
@pytest.mark.hidden
@pytest.mark.feedback(
    "LimitedRedisChatHistory must keep only the newest max_messages messages, oldest "
    "first, across several add_messages calls."
)
def test_history_class_keeps_the_newest_messages(make_history):
    history = make_history("history-limit", max_messages=3, ttl_seconds=60)
    added = _messages(range(1, 6))
    history.add_messages(added[:2])
    history.add_messages(added[2:])
    kept = [(m.type, m.content) for m in history.messages]
    assert kept == [(m["$message"], m["content"]) for m in added[-3:]]


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
    "message_count must grow by two per turn and stop at max_messages in long conversations."
)
def test_message_count_stays_at_the_limit(make_app):
    app = make_app(max_messages=6)
    session = app.create_session("alice")
    counts = []
    for turn in range(1, 8):
        app.chat(session, f"Turn {marker(turn)}")
        counts.append(app.get_session_info(session).message_count)
    assert counts == [2, 4, 6, 6, 6, 6, 6]
