"""The resilient history of lesson 8, against real sockets.

Outages here are real: a client pointed at a loopback port where nothing listens gets
"connection refused" from the operating system. Recovery is `FakeRedisServer` (fakeredis
over a real socket) started on that same port; stopped and started again, it keeps its
data, like a Redis restarted with persistence. For the `redis_server` test, recovery is
the real Redis. A lost acknowledgement is a real one too: `ReplyLosingConnection` (a redis-py
`Connection` subclass, plugged in through the public `connection_class` option) lets the
command reach the server and its reply arrive, then closes the connection and raises the
`ConnectionError` redis-py raises when a server hangs up."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables.history import RunnableWithMessageHistory
from redis.backoff import NoBackoff
from redis.retry import Retry
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from memory_course import FakeRedisServer, LoseNext, OfflineChatModel, ReplyLosingConnection
from memory_course.clock import ManualClock
from memory_course.resilient_history import (
    IdempotentRedisChatMessageHistory,
    ResilientChatMessageHistory,
    bounded_redis_client,
)
from tests.services import real_redis_url


def losing_client(url: str, lose_replies: int) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        connection_class=ReplyLosingConnection,
        after_reply=LoseNext(lose_replies),
        socket_connect_timeout=2,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )


def stored(url: str, key: str) -> list[str]:
    """The contents stored under `key`, read with a separate, plain client."""
    client = redis.Redis.from_url(url)
    try:
        return [json.loads(raw)["data"]["content"] for raw in client.lrange(key, 0, -1)]
    finally:
        client.close()


def turn(n: int) -> list[BaseMessage]:
    return [HumanMessage(f"question {n}"), AIMessage(f"answer {n}")]


@pytest.fixture
def server(port: int) -> Iterator[FakeRedisServer]:
    """Redis on 127.0.0.1:`port`, down until `with server:` starts it (leaving stops it)."""
    fake = FakeRedisServer(port=port)
    yield fake
    fake.stop()


def resilient(url: str, **kwargs) -> ResilientChatMessageHistory:
    return ResilientChatMessageHistory(
        lambda: IdempotentRedisChatMessageHistory("s1", bounded_redis_client(url)), **kwargs
    )


def test_a_refused_connection_is_real_and_the_history_falls_back(url: str) -> None:
    with pytest.raises(redis.ConnectionError, match="refused"):
        IdempotentRedisChatMessageHistory("s1", bounded_redis_client(url)).add_messages(turn(1))

    history = resilient(url)
    history.add_messages(turn(1))  # no exception reaches the caller

    assert history.degraded
    assert history.last_error == "ConnectionError"
    assert [m.content for m in history.messages] == ["question 1", "answer 1"]
    assert [m.content for m in history.pending_messages] == ["question 1", "answer 1"]


def test_recovery_replays_every_pending_write_in_order_exactly_once(
    server: FakeRedisServer, url: str
) -> None:
    history = resilient(url)
    for n in (1, 2, 3):
        history.add_messages(turn(n))
    assert len(history.pending) == 3

    with server:
        assert history.sync() is True
        assert not history.degraded and history.pending == []
        history.add_messages(turn(4))
        history.sync()  # nothing left: must not send anything twice
        expected = [f"{kind} {n}" for n in (1, 2, 3, 4) for kind in ("question", "answer")]
        assert stored(url, "chat:s1") == expected
        assert [m.content for m in history.messages] == expected


def test_a_conversation_goes_on_through_an_outage_and_lands_in_redis(
    server: FakeRedisServer, url: str
) -> None:
    """End to end: the chat remembers during the outage and Redis gets every turn."""
    history = resilient(url)
    chat = RunnableWithMessageHistory(OfflineChatModel(), lambda session_id: history)
    config = {"configurable": {"session_id": "s1"}}

    chat.invoke("Hi, I'm Alex", config)
    assert chat.invoke("What's my name?", config).content == "Your name is Alex."
    assert history.degraded

    with server:
        chat.invoke("My favorite color is blue", config)
        assert not history.degraded
        contents = stored(url, "chat:s1")
    assert len(contents) == 6 and len(set(contents)) == 6
    assert contents[0] == "Hi, I'm Alex" and contents[4] == "My favorite color is blue"


def test_a_lost_acknowledgement_during_replay_never_duplicates(
    server: FakeRedisServer, url: str
) -> None:
    lose_next = [0]  # replies the next client built will lose

    def primary() -> IdempotentRedisChatMessageHistory:
        client = losing_client(url, lose_replies=lose_next[0])
        lose_next[0] = 0
        return IdempotentRedisChatMessageHistory("s1", client)

    history = ResilientChatMessageHistory(primary)
    history.add_messages(turn(1))
    history.add_messages(turn(2))
    with server:
        lose_next[0] = 1
        assert history.sync() is False  # the first replay's reply was lost...
        assert stored(url, "chat:s1") == ["question 1", "answer 1"]  # ...yet it was applied
        assert len(history.pending) == 2  # so it is still pending, and will be sent again
        assert history.sync() is True
        assert stored(url, "chat:s1") == ["question 1", "answer 1", "question 2", "answer 2"]


def test_idempotent_writes_survive_a_naive_retry_that_duplicates_plain_pushes(
    server: FakeRedisServer, url: str
) -> None:
    retrying = retry(
        stop=stop_after_attempt(3), retry=retry_if_exception_type(redis.ConnectionError)
    )
    with server:
        plain = losing_client(url, lose_replies=2)
        retrying(plain.rpush)("plain", "hello")
        assert redis.Redis.from_url(url).lrange("plain", 0, -1) == [b"hello"] * 3

        store = IdempotentRedisChatMessageHistory("s2", losing_client(url, lose_replies=2))
        messages = turn(1)
        retrying(store.add_messages)(messages)
        assert stored(url, "chat:s2") == ["question 1", "answer 1"]
        assert store.append(messages) == 0  # already there: appending again is a no-op


def test_messages_without_an_id_get_one_that_a_retry_reuses(
    server: FakeRedisServer, url: str
) -> None:
    with server:
        store = IdempotentRedisChatMessageHistory("s3", bounded_redis_client(url))
        message = HumanMessage("hello")
        assert store.append([message]) == 1
        assert message.id
        assert store.append([message]) == 0
        assert store.append([HumanMessage("hello")]) == 1  # a new message, not a retry
        assert [m.id for m in store.messages][0] == message.id


def test_a_clear_during_the_outage_is_replayed_in_its_place(
    server: FakeRedisServer, url: str
) -> None:
    with server:
        history = resilient(url)
        history.add_messages(turn(1))
        assert stored(url, "chat:s1") == ["question 1", "answer 1"]
    history.clear()
    history.add_messages(turn(2))
    assert [m.content for m in history.messages] == ["question 2", "answer 2"]
    with server:  # back on the same port, still holding turn 1
        assert stored(url, "chat:s1") == ["question 1", "answer 1"]
        assert history.sync() is True
        assert stored(url, "chat:s1") == ["question 2", "answer 2"]


class _Broken(BaseChatMessageHistory):
    messages: list[BaseMessage] = []

    def add_messages(self, messages) -> None:
        raise ValueError("a bug, not an outage")

    def clear(self) -> None:
        pass


def test_errors_that_are_not_outages_propagate() -> None:
    history = ResilientChatMessageHistory(_Broken)
    with pytest.raises(ValueError, match="a bug"):
        history.add_messages(turn(1))


def test_a_factory_that_cannot_connect_is_retried_later(server: FakeRedisServer, url: str) -> None:
    calls: list[int] = []

    def connect_eagerly() -> IdempotentRedisChatMessageHistory:
        calls.append(1)
        client = bounded_redis_client(url)
        client.ping()  # fails while nothing listens
        return IdempotentRedisChatMessageHistory("s1", client)

    history = ResilientChatMessageHistory(connect_eagerly)
    history.add_messages(turn(1))
    assert history.degraded and len(calls) == 1
    with server:
        history.add_messages(turn(2))
        assert not history.degraded and len(calls) == 2
        assert len(stored(url, "chat:s1")) == 4


def test_retry_interval_is_measured_on_the_injected_clock(
    server: FakeRedisServer, url: str
) -> None:
    clock = ManualClock()
    calls: list[int] = []

    def primary() -> IdempotentRedisChatMessageHistory:
        calls.append(1)
        return IdempotentRedisChatMessageHistory("s1", bounded_redis_client(url))

    history = ResilientChatMessageHistory(primary, retry_interval=5.0, clock=clock)
    history.add_messages(turn(1))
    history.add_messages(turn(2))
    history.messages  # noqa: B018 - a read, inside the interval
    assert len(calls) == 1  # no new attempt within 5 s of the failure
    clock.advance(5)
    with server:
        history.messages  # noqa: B018
        assert len(calls) == 2 and not history.degraded
        assert len(stored(url, "chat:s1")) == 4


def test_fallback_is_a_mirror_that_healthy_reads_refresh(server: FakeRedisServer, url: str) -> None:
    fallback = InMemoryChatMessageHistory()
    with server:
        history = resilient(url, fallback=fallback)
        other_writer = IdempotentRedisChatMessageHistory("s1", bounded_redis_client(url))
        other_writer.add_messages(turn(1))
        assert [m.content for m in history.messages] == ["question 1", "answer 1"]
    assert [m.content for m in fallback.messages] == ["question 1", "answer 1"]
    assert [m.content for m in history.messages] == ["question 1", "answer 1"]  # from the mirror


async def test_the_async_interface_degrades_too(url: str) -> None:
    history = resilient(url)
    await history.aadd_messages(turn(1))
    assert history.degraded
    assert [m.content for m in await history.aget_messages()] == ["question 1", "answer 1"]


@pytest.mark.redis_server
def test_recovery_onto_the_real_redis(url: str, redis_prefix: str) -> None:
    live_url = real_redis_url()
    target = {"url": url}  # down first; then the app is pointed at the real server

    def primary() -> IdempotentRedisChatMessageHistory:
        client = bounded_redis_client(target["url"])
        return IdempotentRedisChatMessageHistory("s1", client, key_prefix=redis_prefix)

    history = ResilientChatMessageHistory(primary)
    history.add_messages(turn(1))
    assert history.degraded
    target["url"] = live_url
    try:
        assert history.sync() is True
        history.add_messages(turn(2))
        assert stored(live_url, f"{redis_prefix}s1") == [
            "question 1",
            "answer 1",
            "question 2",
            "answer 2",
        ]
    finally:
        history.clear()
