"""Lesson 8, public tests: retries that store once, and an idempotency key."""

import pytest

from grading.remote import expect_error


@pytest.mark.points(2)
@pytest.mark.requirement("retrying")
def test_lost_replies_are_retried_and_stored_once(retry_scene, stored_messages):
    """Two lost replies, three attempts: the write succeeds, and Redis holds one copy."""
    history = retry_scene(attempts=3, lose=2)
    history.add("Hi, I'm Alex", "Hello, Alex!")
    assert history.last_attempts() == 3, (
        "the first two tries lost their replies, so add_messages should take 3 tries"
    )
    assert stored_messages() == ["Hi, I'm Alex", "Hello, Alex!"], (
        "Redis should hold each message once (the wrapped history ignores a message it stores)"
    )
    assert history.contents() == ["Hi, I'm Alex", "Hello, Alex!"]
    assert history.last_attempts() == 1, "reading the messages worked at once: 1 try"


@pytest.mark.points(1)
@pytest.mark.requirement("retrying")
def test_gives_up_with_the_original_error(unreachable_scene):
    """On a Redis nothing answers, every try fails: after the last one, the error itself."""
    history = unreachable_scene(4)
    error = expect_error(
        lambda: history.add("hello"),
        "add_messages on a Redis nothing answers should raise redis's ConnectionError "
        "once every try failed",
    )
    assert "ConnectionError" in error.mro_names, (
        "after the last try, redis's ConnectionError itself should be raised "
        f"(not wrapped in another error); got {error.type_name}"
    )
    assert history.last_attempts() == 4, "with attempts=4, every one of the 4 tries fails"


@pytest.mark.points(2)
@pytest.mark.requirement("append_once")
def test_a_token_is_applied_once(append_scene, stored_list):
    """A token's value is pushed once; the same token again pushes nothing."""
    outcomes = [
        append_scene.append("log", "t1", "first"),
        append_scene.append("log", "t1", "first"),  # the retry
        append_scene.append("log", "t2", "second"),
    ]
    assert outcomes == [True, False, True], (
        "append_once should return True when it pushed and False for a token already used"
    )
    assert stored_list("log") == ["first", "second"], "each token's value, once, in order"


@pytest.mark.points(1)
@pytest.mark.requirement("append_once")
def test_the_token_record_expires(append_scene, stored_list, other_keys, redis_store):
    """The token's record expires after ttl_seconds; then the token is new again."""
    assert append_scene.append("log", "t1", "first", ttl_seconds=60) is True, (
        "a new token's value is pushed: append_once returns True"
    )
    records = other_keys("log")
    assert records != [], "the token should be recorded under a key of its own"
    ttls = [state.ttl for state in records]
    assert all(0 < ttl <= 60 for ttl in ttls), (
        f"with ttl_seconds=60, every key but the list should expire within 60 s; TTLs: {ttls}"
    )
    redis_store.advance(61)
    assert append_scene.append("log", "t1", "again", ttl_seconds=60) is True, (
        "61 s later the token's record has expired, so the token is new again"
    )
    assert stored_list("log") == ["first", "again"], "both values, in order"
