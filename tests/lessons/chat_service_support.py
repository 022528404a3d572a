"""What the chat-service tests share: failing Redis clients and models, SSE parsing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from redis.exceptions import ConnectionError as RedisConnectionError

from memory_course import OfflineChatModel


class BrokenModel(OfflineChatModel):
    """Fails on every call, like a provider outage."""

    def _reply(self, messages, stop):
        raise RuntimeError("provider unavailable")


class FailsMidStreamModel(OfflineChatModel):
    """Streams two words, then fails (sync and async)."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator:
        for word in ("Half ", "a "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))
        raise RuntimeError("connection reset")

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in self._stream(messages, stop):
            yield chunk


class SlowStreamingModel(OfflineChatModel):
    """Streams the offline reply word by word, `delay` seconds apart (sync and async)."""

    delay: float = 0.1

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator:
        for chunk in super()._stream(messages, stop):
            time.sleep(self.delay)
            yield chunk

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in super()._stream(messages, stop):
            await asyncio.sleep(self.delay)
            yield chunk


def leave_mid_stream(client: httpx.Client, headers: dict, events: int = 2) -> list[dict]:
    """Start a streamed turn, read `events` token events, then close the connection."""
    received: list[dict] = []
    with client.stream(
        "POST", "/chat/stream", json={"message": "Go on"}, headers=headers
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                received.append(json.loads(line.removeprefix("data: ")))
            if len(received) == events:
                break  # leaving the block closes the connection mid-reply
    return received


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _lost() -> RedisConnectionError:
    return RedisConnectionError("Connection reset by peer")


class _Wrapper:
    """Passes every attribute it does not define on to the object it wraps."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _FailingTransaction(_Wrapper):
    """A MULTI/EXEC pipeline whose commands queue normally and whose EXEC fails."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._inner.reset()
        raise _lost()


class _AsyncFailingTransaction(_FailingTransaction):
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await self._inner.reset()
        raise _lost()


class WritesFail(_Wrapper):
    """A Redis client (sync or asyncio) that reads normally and loses every transaction.

    Like Redis going away between the read of a turn and its write: `LRANGE`, `EXISTS`
    and `SCAN` work, the MULTI/EXEC that saves the turn raises `ConnectionError`.
    """

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self._is_async = asyncio.iscoroutinefunction(type(inner).execute_command)

    def pipeline(self, transaction: bool = True, **kwargs: Any) -> Any:
        pipeline = self._inner.pipeline(transaction=transaction, **kwargs)
        if not transaction:
            return pipeline
        wrapper = _AsyncFailingTransaction if self._is_async else _FailingTransaction
        return wrapper(pipeline)


class ReadsFail(_Wrapper):
    """A sync Redis client whose `LRANGE` fails: the turn cannot even load its history."""

    def lrange(self, *args: Any, **kwargs: Any) -> Any:
        raise _lost()


def read_events(response: httpx.Response) -> list[tuple[str, dict]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def stream_chat(client: httpx.Client, message: str, headers=None):
    with client.stream(
        "POST", "/chat/stream", json={"message": message}, headers=headers or {}
    ) as response:
        return response, read_events(response)
