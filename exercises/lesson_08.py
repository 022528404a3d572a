"""Lesson 8 · Your turn: a retrying history, and an idempotency key in a transaction.

Write the two exercises of notebook 8's "Your turn" here, then check them with
`python -m grading check lesson_08`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import redis
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

__all__ = ["RetryingChatMessageHistory", "append_once"]

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class RetryingChatMessageHistory(BaseChatMessageHistory):
    """Exercise 1: every operation on `history` is retried on transient connection errors.

    `messages`, `add_messages` and `clear` each call the same operation of `history`, and
    try it again when it raises one of `errors` (by default `TRANSIENT_ERRORS`: redis's
    `ConnectionError` and `TimeoutError`): at most `attempts` tries in all, `wait_seconds`
    apart (`tenacity.Retrying` states such a policy). Any other exception (a `ValueError`,
    a Redis `ResponseError`: bugs, not outages) is raised at once, after one try. When the
    last try fails too, its original exception is raised (not a `tenacity.RetryError`, and
    never swallowed). `last_attempts` is how many tries the latest operation took: 1 when
    it succeeded (or failed for good) at once, `attempts` when every try failed.

    Retrying a write is only safe if `history` is idempotent (for example
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
        raise NotImplementedError

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        raise NotImplementedError

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError


def append_once(
    client: redis.Redis, key: str, token: str, value: str, *, ttl_seconds: int = 86_400
) -> bool:
    """Exercise 2: RPUSH `value` to `key` unless a write with `token` was already applied.

    The token is recorded under a key of its own (derived from `key` and `token`), which
    expires after `ttl_seconds` so the records do not grow for ever; once it has expired,
    the token counts as new again. The record and the push happen in the same MULTI/EXEC
    transaction, and WATCH on the record's key makes the transaction fail (then look
    again) if another client records the token in between. Returns True if this call
    pushed, False if the token had been used. Nothing but `key` and the record is written.

    So a token's value is stored once, however the call is repeated: a retry after a
    lost reply (the push happened but the caller got a `ConnectionError`) returns False
    without pushing, and of two callers with the same token at the same time exactly
    one pushes.
    """
    raise NotImplementedError
