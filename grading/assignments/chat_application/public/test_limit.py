"""Public tests: at most max_messages earlier messages are kept and sent."""

import pytest

from grading.assignments.chat_application.helpers import marker


@pytest.mark.points(2)
@pytest.mark.requirement("limit")
def test_model_sees_at_most_max_messages(make_app, model):
    """With max_messages=4 the model sees the newest 4 earlier messages, oldest first."""
    app = make_app(max_messages=4)
    session = app.create_session("alice")
    exchanged: list[tuple[str, str]] = []
    for turn in range(1, 6):
        text = f"Note {marker(turn)} please"
        reply = app.chat(session, text)
        expected_history = exchanged[-4:]
        assert model.prompts[-1].history == expected_history, (
            f"turn {turn}: the prompt should hold the newest {len(expected_history)} earlier "
            f"messages, got {len(model.prompts[-1].history)}"
        )
        exchanged += [("user", text), ("assistant", reply)]


@pytest.mark.points(2)
@pytest.mark.requirement("limit")
def test_old_messages_are_dropped_from_redis(make_app, redis_store):
    """Messages beyond max_messages are removed from Redis, the newest are kept."""
    app = make_app(max_messages=4)
    session = app.create_session("alice")
    for turn in range(1, 6):
        app.chat(session, f"Note {marker(turn)} please")
    stored = redis_store.stored_text()
    for turn in (1, 2, 3):
        assert marker(turn) not in stored, f"turn {turn} is older than the limit and must be gone"
    for turn in (4, 5):
        # The fake model's reply quotes the message: a stored turn mentions its marker twice.
        assert stored.count(marker(turn)) >= 2, (
            f"turn {turn} (message and reply) is within the limit and must be stored"
        )
