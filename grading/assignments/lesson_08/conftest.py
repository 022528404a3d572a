"""Fixtures of lesson 8's graded tests: the harness's scenes in the student's process, and
what the grader's fake Redis holds."""

import json

import pytest

HISTORY_KEY = "chat:s1"  # where the harness's IdempotentRedisChatMessageHistory stores


@pytest.fixture
def retry_scene(harness_scene):
    """`retry_scene(attempts=3, lose=0)`: the student's history around an idempotent Redis
    history whose client loses the next `lose` replies."""
    return lambda **options: harness_scene(
        "RetryScene", inject={"redis": "redis-decoded"}, label="history", **options
    )


@pytest.fixture
def unreachable_scene(harness_scene):
    """`unreachable_scene(attempts)`: the same, on a Redis nothing answers."""
    return lambda attempts: harness_scene(
        "RetryScene", attempts=attempts, inject={"redis": "redis-unreachable"}, label="history"
    )


@pytest.fixture
def scripted_scene(harness_scene):
    """`scripted_scene(failures, attempts=3)`: the student's history around one whose next
    calls raise the errors named in `failures` ("ConnectionError", "ValueError", ...)."""
    return lambda failures, **options: harness_scene(
        "ScriptedScene", failures, label="history", **options
    )


@pytest.fixture
def append_scene(harness_scene):
    return harness_scene("AppendScene", inject={"redis": "redis-decoded"}, label="store")


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
