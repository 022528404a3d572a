"""Fixtures of lesson 8's graded tests: the harness's scenes in the student's process, and
what the grader's fake Redis holds."""

import json

import pytest

from grading.remote import RemoteError, RemoteInstance

HISTORY_KEY = "chat:s1"  # where the harness's IdempotentRedisChatMessageHistory stores


@pytest.fixture
def retry_scene(submission):
    """`retry_scene(attempts=3, lose=0)`: the student's history around an idempotent Redis
    history whose client loses the next `lose` replies."""
    return lambda **options: RemoteInstance(
        submission.default(),
        "RetryScene",
        harness=True,
        inject={"redis": "redis-decoded"},
        label="history",
        **options,
    )


@pytest.fixture
def unreachable_scene(submission):
    """`unreachable_scene(attempts)`: the same, on a Redis nothing answers."""
    return lambda attempts: RemoteInstance(
        submission.default(),
        "RetryScene",
        attempts=attempts,
        harness=True,
        inject={"redis": "redis-unreachable"},
        label="history",
    )


@pytest.fixture
def scripted_scene(submission):
    """`scripted_scene(failures, attempts=3)`: the student's history around one whose next
    calls raise the errors named in `failures` ("ConnectionError", "ValueError", ...)."""
    return lambda failures, **options: RemoteInstance(
        submission.default(), "ScriptedScene", failures, harness=True, label="history", **options
    )


@pytest.fixture
def append_scene(submission):
    return RemoteInstance(
        submission.default(),
        "AppendScene",
        harness=True,
        inject={"redis": "redis-decoded"},
        label="store",
    )


@pytest.fixture
def stored_list(redis_store):
    """`stored_list(key)`: the elements of the list `key` in the fake Redis ([] if none)."""

    def read(key):
        for state in redis_store.dump():
            if state.name == key:
                assert state.type == "list", f"{key} should be a list; it is a {state.type}"
                return state.text.split("\n")
        return []

    return read


@pytest.fixture
def stored_messages(stored_list):
    """The contents of the messages the harness's history holds in the fake Redis."""
    return lambda: [json.loads(item)["data"]["content"] for item in stored_list(HISTORY_KEY)]


@pytest.fixture
def other_keys(redis_store):
    """`other_keys(key)`: every key of the fake Redis but `key`, with its TTL."""
    return lambda key: [state for state in redis_store.dump() if state.name != key]


@pytest.fixture
def expect_error():
    """`expect_error(call, expected)`: the `RemoteError` that `call()` raised; if it returned
    instead, the test fails saying `expected` and what came back."""

    def check(call, expected):
        try:
            value = call()
        except RemoteError as error:
            return error
        raise AssertionError(f"{expected}; it returned {value!r} instead")

    return check
