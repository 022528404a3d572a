"""Lesson 8 · worked solutions: a retrying history, and an idempotency key in a transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import redis
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

__all__ = ["RetryingChatMessageHistory", "append_once"]

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class RetryingChatMessageHistory(BaseChatMessageHistory):
    """Exercise 1: every operation on `history` is retried on transient connection errors.

    At most `attempts` tries, `wait_seconds` apart; after the last one the original error
    is raised. `last_attempts` is how many tries the latest operation took. Retrying a
    write is only safe if `history` is idempotent (for example
    `IdempotentRedisChatMessageHistory`); a plain RPUSH-based history would store a
    message twice whenever a reply is lost.
    """

    def __init__(
        self,
        history: BaseChatMessageHistory,
        *,
        attempts: int = 3,
        wait_seconds: float = 0.05,
        errors: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    ) -> None:
        self.history = history
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_fixed(wait_seconds),
            retry=retry_if_exception_type(errors),
            reraise=True,
        )
        self.last_attempts = 0

    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return self._retrying(operation)
        finally:
            self.last_attempts = self._retrying.statistics["attempt_number"]

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        return self._call(lambda: self.history.messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        self._call(lambda: self.history.add_messages(messages))

    def clear(self) -> None:
        self._call(self.history.clear)


def append_once(
    client: redis.Redis, key: str, token: str, value: str, *, ttl_seconds: int = 86_400
) -> bool:
    """Exercise 2: RPUSH `value` to `key` unless a write with `token` was already applied.

    The token is recorded (expiring after `ttl_seconds`, so the record does not grow for
    ever) in the same MULTI/EXEC transaction as the push, and WATCH makes the transaction
    fail if another client records the token in between. Returns True if this call
    pushed, False if the token had been used: a retry after a lost reply is harmless.
    """
    token_key = f"{key}:token:{token}"
    with client.pipeline() as pipe:
        while True:
            try:
                pipe.watch(token_key)
                if pipe.exists(token_key):
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.set(token_key, 1, ex=ttl_seconds)
                pipe.rpush(key, value)
                pipe.execute()
                return True
            except redis.WatchError:
                continue  # someone used a token meanwhile: look again
