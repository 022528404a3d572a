# BEGIN SOLUTION NO PROMPT
"""Lesson 8 · worked solutions: a retrying history, and an idempotency key in a transaction."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 8 · Your turn: a retrying history, and an idempotency key in a transaction.
#
# Write the two exercises of notebook 8's "Your turn" here, then check them with
# `python -m grading check lesson_08`.
# """
# END PROMPT

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
        # BEGIN SOLUTION
        self.history = history
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_fixed(wait_seconds),
            retry=retry_if_exception_type(errors),
            reraise=True,
        )
        self.last_attempts = 0
        # END SOLUTION

    # BEGIN SOLUTION NO PROMPT
    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return self._retrying(operation)
        finally:
            self.last_attempts = self._retrying.statistics["attempt_number"]

    # END SOLUTION
    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        # BEGIN SOLUTION
        return self._call(lambda: self.history.messages)
        # END SOLUTION

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        # BEGIN SOLUTION
        self._call(lambda: self.history.add_messages(messages))
        # END SOLUTION

    def clear(self) -> None:
        # BEGIN SOLUTION
        self._call(self.history.clear)
        # END SOLUTION


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
    # BEGIN SOLUTION
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
    # END SOLUTION
