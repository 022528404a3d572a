"""Fixtures of the capstone tests: the reference app on fakeredis or on any Redis, a fake clock.

Most tests run on a private fakeredis server; those taking `any_redis` (through `make_app`)
run on fakeredis and on the real Redis, under a unique key prefix deleted afterwards.
Expiry is tested with a fake clock on fakeredis (deterministic) and once with a real
one-second TTL on both servers (test_ttl.py).
"""

from __future__ import annotations

import time
import types

import pytest

from memory_course import RecordingChatModel
from solutions.chat_application import ChatApplication


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    """Freeze fakeredis's notion of time (it reads `time.time()` once per command)."""
    import fakeredis._socket._base as fake_socket

    clock = FakeClock()
    monkeypatch.setattr(fake_socket, "time", types.SimpleNamespace(time=clock.time))
    return clock


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
