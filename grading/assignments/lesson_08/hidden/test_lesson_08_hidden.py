"""Lesson 8, hidden tests: what is retried and what is not, and idempotency under failure."""

import pytest

from grading.remote import expect_error

HISTORY_KEY = "chat:s1"  # where the harness's idempotent history stores


@pytest.mark.hidden
@pytest.mark.feedback(
    "Only transient connection errors (redis's ConnectionError and TimeoutError) may be "
    "retried: any other error (a ValueError, a Redis ResponseError) is a bug and must be "
    "raised at once, after a single try."
)
@pytest.mark.points(1)
@pytest.mark.requirement("retrying")
def test_other_errors_are_raised_after_one_try(scripted_scene, retry_scene, redis_store):
    history = scripted_scene(["ResponseError", "ResponseError", "ResponseError"])
    error = expect_error(
        lambda: history.add("hello"),
        "a Redis ResponseError from the wrapped history should be raised",
    )
    assert "ResponseError" in error.mro_names, (
        f"the ResponseError itself should be raised; got {error.type_name}"
    )
    assert [history.calls(), history.last_attempts()] == [1, 1], (
        "a ResponseError must not be retried: one call, one try"
    )

    redis_history = retry_scene(attempts=3)
    redis_store.append(HISTORY_KEY, "{not json")  # data the history did not write
    error = expect_error(
        redis_history.contents,
        "reading a message that is not JSON should raise the wrapped history's ValueError",
    )
    assert "ValueError" in error.mro_names, (
        f"the ValueError itself should be raised; got {error.type_name}"
    )
    assert redis_history.last_attempts() == 1, "a ValueError must not be retried"


@pytest.mark.hidden
@pytest.mark.feedback(
    "A redis TimeoutError is transient too: it must be retried like a ConnectionError, on "
    "reads (messages) as on writes."
)
@pytest.mark.points(1)
@pytest.mark.requirement("retrying")
def test_timeouts_are_retried_on_reads_too(scripted_scene):
    history = scripted_scene([])
    history.add("Hi, I'm Alex", "Hello, Alex!")
    assert history.last_attempts() == 1, "add_messages worked at once: 1 try"
    flaky = scripted_scene(["TimeoutError", "ConnectionError"])
    flaky.add("Hi")
    assert [flaky.calls(), flaky.last_attempts()] == [3, 3], (
        "add_messages failed with a TimeoutError, then a ConnectionError: the third try "
        "succeeds ([calls of the wrapped history, last_attempts])"
    )
    reads = scripted_scene(["TimeoutError", "TimeoutError"], attempts=3)
    assert reads.contents() == [], "the third read of the (empty) history succeeds"
    assert [reads.calls(), reads.last_attempts()] == [3, 3], (
        "messages failed twice with a TimeoutError: the third try succeeds "
        "([calls of the wrapped history, last_attempts])"
    )


@pytest.mark.hidden
@pytest.mark.feedback(
    "clear must be retried too, and `attempts` bounds the tries: with attempts=1 a lost "
    "reply is raised at once (the original ConnectionError), after exactly one try."
)
@pytest.mark.points(1)
@pytest.mark.requirement("retrying")
def test_clear_is_retried_and_attempts_bound_the_tries(retry_scene, stored_messages):
    history = retry_scene(attempts=3)
    history.add("Hi, I'm Alex", "Hello, Alex!")
    history.lose(1)
    history.clear()
    assert history.last_attempts() == 2, "clear's first reply was lost: it takes 2 tries"
    assert stored_messages() == [], "after clear, Redis should hold no message"

    single = retry_scene(attempts=1)
    single.lose(1)
    error = expect_error(
        lambda: single.add("Hi"),
        "with attempts=1, a lost reply should be raised as redis's ConnectionError",
    )
    assert "ConnectionError" in error.mro_names, (
        f"redis's ConnectionError itself should be raised; got {error.type_name}"
    )
    assert single.last_attempts() == 1, "with attempts=1 there is exactly one try"


@pytest.mark.hidden
@pytest.mark.feedback(
    "A retry after a lost reply must not store the value twice (nor lose it): the "
    "token's record and the push must be applied together, in one MULTI/EXEC "
    "transaction, and a retry must find the token recorded."
)
@pytest.mark.points(1)
@pytest.mark.requirement("append_once")
def test_a_retry_after_a_lost_reply_stores_once(append_scene, stored_list):
    report = append_scene.append_losing_a_reply("log", "t1", "hello")
    assert report["lost"] is True, (
        f"append_once should have pushed the value; Redis never changed ({report['outcomes']})"
    )
    assert stored_list("log") == ["hello"], (
        f"after a lost reply and the retry ({report['outcomes']}), the value should be "
        "stored exactly once"
    )
    assert append_scene.append("log", "t1", "hello") is False, (
        "the token was used: one more call must return False"
    )
    assert stored_list("log") == ["hello"], "one more call with the token must not push"


@pytest.mark.hidden
@pytest.mark.feedback(
    "Two callers with the same token at the same time must push once: checking the token "
    "and pushing in separate steps lets both push. WATCH the token's key, and push in a "
    "MULTI/EXEC transaction that fails (and looks again) if the token was recorded meanwhile."
)
@pytest.mark.points(1)
@pytest.mark.requirement("append_once")
def test_two_callers_with_one_token_push_once(append_scene, stored_list):
    outcomes = append_scene.append_with_a_rival("log", "same-token", "value")
    assert stored_list("log") == ["value"], (
        "a second caller with the same token ran between the first caller's steps; "
        f"the value should be stored once (the calls returned {outcomes})"
    )
    assert [outcomes["first"], outcomes["second"]] in ([True, False], [False, True]), (
        "exactly one of the two callers should report that it pushed"
    )


@pytest.mark.hidden
@pytest.mark.feedback(
    "By default the token's record must expire after one day (ttl_seconds=86_400), and "
    "nothing but the list may be kept for ever."
)
@pytest.mark.points(1)
@pytest.mark.requirement("append_once")
def test_records_expire_after_a_day_by_default(append_scene, other_keys):
    for index in range(3):
        assert append_scene.append("log", f"t{index}", f"value {index}") is True
    ttls = [state.ttl for state in other_keys("log")]
    assert ttls != [], "each token should be recorded under a key of its own"
    assert all(86_000 < ttl <= 86_400 for ttl in ttls), (
        f"every key but the list should expire within one day (86,400 s); TTLs: {ttls}"
    )
