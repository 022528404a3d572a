"""Fixtures of the capstone tests: the reference app on fakeredis or on any Redis, fakeredis time.

Most tests run on a private fakeredis server; those taking `any_redis` (through `make_app`)
run on fakeredis and on the real Redis, under a unique key prefix deleted afterwards.
Expiry is tested by moving fakeredis time (`redis_time`, deterministic) and once with a real
one-second TTL on both servers (test_ttl.py).
"""

from __future__ import annotations

import fakeredis
import pytest

from memory_course import RecordingChatModel
from memory_course.offline.fake_redis_server import advance_time
from solutions.chat_application import ChatApplication


class RedisTime:
    """Moves the time of one fakeredis server: `advance(60)` brings every expiry 60 s closer."""

    def __init__(self, server: fakeredis.FakeServer) -> None:
        self._server = server

    def advance(self, seconds: float) -> None:
        advance_time(self._server, seconds)


@pytest.fixture
def redis_time(fake_redis_server) -> RedisTime:
    """The time of `fake_redis`'s server, moved by the test instead of waited for."""
    return RedisTime(fake_redis_server)


@pytest.fixture
def app(fake_redis, recording_model) -> ChatApplication:
    return ChatApplication(redis_client=fake_redis, llm=recording_model)


@pytest.fixture
def make_app(any_redis, redis_prefix):
    """Build apps on `any_redis` under a unique prefix; delete every key afterwards."""

    def build(**options) -> ChatApplication:
        options.setdefault("llm", RecordingChatModel())
        return ChatApplication(redis_client=any_redis, key_prefix=redis_prefix, **options)

    yield build
    keys = list(any_redis.scan_iter(match=f"{redis_prefix}*", count=1000))
    if keys:
        any_redis.delete(*keys)
