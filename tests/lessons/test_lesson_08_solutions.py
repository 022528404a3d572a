"""Lesson 8 solutions: retries that never duplicate, and idempotency keys in a transaction."""

from __future__ import annotations

import threading

import fakeredis
import pytest
import redis
from langchain_core.messages import AIMessage, HumanMessage

from memory_course import FakeRedisServer
from memory_course.resilient_history import IdempotentRedisChatMessageHistory, bounded_redis_client
from solutions.lesson_08 import RetryingChatMessageHistory, append_once
from tests.lessons.test_resilient_history import losing_client, stored


def test_retrying_history_recovers_from_lost_replies_without_duplicates(
    port: int, url: str
) -> None:
    with FakeRedisServer(port=port):
        store = IdempotentRedisChatMessageHistory("s1", losing_client(url, lose_replies=2))
        history = RetryingChatMessageHistory(store, attempts=3, wait_seconds=0)

        history.add_messages([HumanMessage("Hi, I'm Alex"), AIMessage("Hello, Alex!")])

        assert history.last_attempts == 3
        assert stored(url, "chat:s1") == ["Hi, I'm Alex", "Hello, Alex!"]
        assert [m.content for m in history.messages] == ["Hi, I'm Alex", "Hello, Alex!"]
        assert history.last_attempts == 1


def test_retrying_history_gives_up_with_the_original_error(url: str) -> None:
    store = IdempotentRedisChatMessageHistory("s1", bounded_redis_client(url))  # nobody listens
    history = RetryingChatMessageHistory(store, attempts=4, wait_seconds=0)

    with pytest.raises(redis.ConnectionError):
        history.add_messages([HumanMessage("hello")])
    assert history.last_attempts == 4


def test_retrying_history_does_not_retry_other_errors() -> None:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    client.set("chat:s1", "not a list")  # a bug in the data, not a flaky connection
    history = RetryingChatMessageHistory(
        IdempotentRedisChatMessageHistory("s1", client), attempts=3, wait_seconds=0
    )
    with pytest.raises(redis.ResponseError):
        history.messages  # noqa: B018
    assert history.last_attempts == 1


def test_append_once_applies_a_token_once(fake_redis) -> None:
    assert append_once(fake_redis, "log", "t1", "first") is True
    assert append_once(fake_redis, "log", "t1", "first") is False  # the retry
    assert append_once(fake_redis, "log", "t2", "second") is True
    assert fake_redis.lrange("log", 0, -1) == [b"first", b"second"]
    assert 0 < fake_redis.ttl("log:token:t1") <= 86_400


def test_append_once_is_atomic_under_concurrent_retries(port: int, url: str) -> None:
    results: list[bool] = []
    with FakeRedisServer(port=port):

        def writer() -> None:
            client = redis.Redis.from_url(url)
            results.append(append_once(client, "log", "same-token", "value"))
            client.close()

        threads = [threading.Thread(target=writer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 7 + [True]
        assert redis.Redis.from_url(url).lrange("log", 0, -1) == [b"value"]
