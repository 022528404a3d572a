"""Chat history that survives an unreliable store (lesson 8).

Two classes and one helper, each with one job:

- `IdempotentRedisChatMessageHistory`: a session's messages in Redis, where appending a
  message whose id is already stored does nothing. The check and the append run in one
  Lua script, atomically on the server, so retrying a write whose reply was lost can
  never store the message twice.
- `ResilientChatMessageHistory`: wraps a primary history (built by a factory) and a local
  fallback. While the primary fails with an outage error, the conversation goes on from
  the fallback and writes queue up as pending; when the primary answers again, the
  pending writes are replayed in order, each removed only once the primary acknowledged it.
- `bounded_redis_client`: a Redis client that fails fast (short timeouts, no hidden
  retries), so the caller decides whether to fall back or to retry.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from memory_course.clock import Clock, SystemClock

__all__ = [
    "APPEND_ONCE_SCRIPT",
    "DEFAULT_OUTAGE_ERRORS",
    "IdempotentRedisChatMessageHistory",
    "PendingWrite",
    "ResilientChatMessageHistory",
    "bounded_redis_client",
    "hashed_part",
]

# Errors that mean "the store cannot be reached", as opposed to bugs (bad data, bad
# commands) that no fallback should hide. redis-py's errors do not subclass the built-ins.
DEFAULT_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError and TimeoutError
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def bounded_redis_client(url: str, *, timeout: float = 0.5, **kwargs: object) -> redis.Redis:
    """A `redis.Redis` for `url` that gives up after `timeout` seconds and never retries.

    redis-py's defaults depend on how a client is built: `redis.Redis(host=..., port=...)`
    retries a failed command 10 times with exponential backoff, which hides an outage for
    seconds and re-sends writes. Here every limit is explicit and a failure surfaces at
    once, so the caller chooses: fall back (`ResilientChatMessageHistory`) or retry an
    idempotent write.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        **kwargs,
    )


# KEYS[1]: the list of messages (JSON, oldest first); KEYS[2]: the set of stored ids.
# ARGV: id1, json1, id2, json2, ... Appends each message whose id is new; returns how many.
# On Redis Cluster both keys must hash to one slot (see `IdempotentRedisChatMessageHistory`).
APPEND_ONCE_SCRIPT = """
local appended = 0
for i = 1, #ARGV, 2 do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    appended = appended + 1
  end
end
return appended
"""


def hashed_part(key: str) -> str:
    """The part of `key` that Redis Cluster hashes to choose the key's slot.

    That is the content of the first `{...}` in the key when it is not empty (the key's
    hash tag), and the whole key otherwise: `chat:{alex}:ids` hashes as `alex`,
    `chat:alex` and `chat:{}x` as themselves. Keys with the same hashed part share a slot.
    """
    start = key.find("{")
    if start != -1:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


class IdempotentRedisChatMessageHistory(BaseChatMessageHistory):
    """One session's messages in Redis; appending is idempotent by message id.

    Contract:
    - Messages are kept in the list `{key_prefix}{session_id}` (`key`), oldest first, as
      JSON (`message_to_dict`); their ids in a set (`ids_key`) on the same Redis Cluster
      slot as the list, so that one script may touch both (a script, like a transaction,
      may only touch keys of one slot: others fail with `CROSSSLOT`). The set is named
      `{key_prefix}{<the list's name>}:ids`, `chat:{chat:alex}:ids` for the list
      `chat:alex`: Redis Cluster hashes only the part in braces, here the list's own
      name. When the list's name already has a hash tag (session `{alex}`: `chat:{alex}`),
      the set is `chat:{alex}:ids`, which keeps that tag.
    - A session id that makes both impossible (a `}` outside a hash tag) is a `ValueError`.
    - `add_messages` stores each message whose id is not yet stored, in order, atomically
      (one Lua script): calling it again with the same messages changes nothing.
    - A message without an id is given a fresh one, set on the message object itself, so
      retrying the same call reuses that id and stays idempotent.
    - Errors from Redis propagate unchanged: this class neither retries nor falls back.
    """

    def __init__(
        self, session_id: str, client: redis.Redis | RedisCluster, *, key_prefix: str = "chat:"
    ) -> None:
        self.session_id = session_id
        self.client = client
        self.key = f"{key_prefix}{session_id}"
        if hashed_part(self.key) != self.key:  # the list's name has a hash tag: keep it
            self.ids_key = f"{self.key}:ids"
        else:  # the list's whole name becomes the set's hash tag
            self.ids_key = f"{key_prefix}{{{self.key}}}:ids"
        if hashed_part(self.ids_key) != hashed_part(self.key):
            raise ValueError(
                f"the key {self.key!r} has a brace outside a hash tag, so no other key can "
                "share its Redis Cluster slot; use a session id without braces, or one "
                "with a hash tag such as '{alex}'"
            )

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        raw = self.client.lrange(self.key, 0, -1)
        return messages_from_dict([json.loads(item) for item in raw])

    def append(self, messages: Sequence[BaseMessage]) -> int:
        """Store the messages not stored yet; return how many were actually appended."""
        if not messages:
            return 0
        args: list[str] = []
        for message in messages:
            if not message.id:
                message.id = str(uuid.uuid4())
            args += [message.id, json.dumps(message_to_dict(message))]
        return int(self.client.eval(APPEND_ONCE_SCRIPT, 2, self.key, self.ids_key, *args))

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        self.append(messages)

    def clear(self) -> None:
        self.client.delete(self.key, self.ids_key)


@dataclass(frozen=True)
class PendingWrite:
    """A write the primary has not acknowledged yet: messages to add, or a clear."""

    kind: str  # "add" or "clear"
    messages: tuple[BaseMessage, ...] = ()


class ResilientChatMessageHistory(BaseChatMessageHistory):
    """A history that keeps the conversation going while its primary store is down.

    Contract:
    - `primary_factory()` builds the primary history. It is called lazily, and again after
      every failure, so a primary that cannot even be built (or whose connection broke)
      is retried with a fresh instance.
    - An exception in `outage_errors` from the primary never reaches the caller: the
      history becomes `degraded`, remembers the error's class in `last_error`, and
      serves reads from `fallback`, a local mirror of the conversation. Other exceptions
      propagate: they are bugs, not outages.
    - Every write goes to the mirror. If the primary does not acknowledge it, it is kept
      in `pending`, in order. Messages are given ids (`id_factory`) before anything is
      stored, so a replayed message is recognisably the same message.
    - Recovery: each operation first replays `pending` in order (unless the last failure
      is less than `retry_interval` seconds old on `clock`, a `memory_course.clock.Clock`; `sync()` ignores the
      interval). A write leaves `pending` only after the primary acknowledged it; if the
      primary fails halfway, the rest stays pending, in order.
    - Exactly once: a write whose acknowledgement was lost is sent again. That is
      harmless when the primary ignores ids it already stores, as
      `IdempotentRedisChatMessageHistory` does; with any other primary such a replay may
      store a message twice.
    - Reads from a healthy primary refresh the mirror, so a later outage starts from the
      latest known conversation.
    - `pending` and the mirror live in this process's memory. One process must own a
      session while it is degraded (another process would neither see the mirror nor
      replay the queue), and a crash or restart loses the writes not yet replayed.
    - Outage errors are absorbed: a write the primary did not take still "succeeds" for
      the caller, queued in `pending`. Check `pending` (or call `sync()`) to know whether
      it reached the primary.
    """

    def __init__(
        self,
        primary_factory: Callable[[], BaseChatMessageHistory],
        *,
        fallback: BaseChatMessageHistory | None = None,
        outage_errors: tuple[type[BaseException], ...] = DEFAULT_OUTAGE_ERRORS,
        id_factory: Callable[[], str] | None = None,
        retry_interval: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        self._factory = primary_factory
        self._primary: BaseChatMessageHistory | None = None
        self.fallback = fallback if fallback is not None else InMemoryChatMessageHistory()
        self._outage_errors = outage_errors
        self._new_id = id_factory or (lambda: str(uuid.uuid4()))
        self._retry_interval = retry_interval
        self._clock = clock or SystemClock()
        self._pending: list[PendingWrite] = []
        self._failed_at: float | None = None
        self.last_error: str | None = None
        self._lock = threading.RLock()

    # -- state -------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while the last attempt to reach the primary failed."""
        return self._failed_at is not None

    @property
    def pending(self) -> list[PendingWrite]:
        """Writes not yet acknowledged by the primary, oldest first (a copy)."""
        with self._lock:
            return list(self._pending)

    @property
    def pending_messages(self) -> list[BaseMessage]:
        """The messages of the pending writes, oldest first."""
        return [m for write in self.pending for m in write.messages]

    # -- primary access ----------------------------------------------------------------

    def _connect(self) -> BaseChatMessageHistory:
        if self._primary is None:
            self._primary = self._factory()
        return self._primary

    def _mark_down(self, error: BaseException) -> None:
        self._primary = None  # a fresh instance next time: new connection, new address
        self._failed_at = self._clock.time()
        self.last_error = type(error).__name__

    def _may_try(self, force: bool) -> bool:
        if force or self._failed_at is None:
            return True
        return self._clock.time() - self._failed_at >= self._retry_interval

    def _replay(self) -> BaseChatMessageHistory:
        """Send every pending write, oldest first; raise on the first failure."""
        primary = self._connect()
        while self._pending:
            write = self._pending[0]
            if write.kind == "clear":
                primary.clear()
            else:
                primary.add_messages(list(write.messages))
            self._pending.pop(0)  # only after the primary acknowledged it
        return primary

    def sync(self) -> bool:
        """Replay pending writes now, whatever `retry_interval` says; True if none is left."""
        with self._lock:
            self._attempt(lambda primary: None, force=True)
            return not self._pending

    def _attempt(self, action: Callable[[BaseChatMessageHistory], object], *, force: bool):
        """Replay, then `action(primary)`; on an outage mark the history down, return None."""
        if not self._may_try(force):
            return None
        try:
            primary = self._replay()
            result = action(primary)
        except self._outage_errors as error:
            self._mark_down(error)
            return None
        self._failed_at = None
        self.last_error = None
        return result

    # -- BaseChatMessageHistory --------------------------------------------------------

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        with self._lock:
            current = self._attempt(lambda primary: primary.messages, force=False)
            if current is None:
                return list(self.fallback.messages)
            self.fallback.clear()
            self.fallback.add_messages(current)
            return list(current)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        with self._lock:
            stamped = tuple(
                m if m.id else m.model_copy(update={"id": self._new_id()}) for m in messages
            )
            self.fallback.add_messages(list(stamped))
            self._pending.append(PendingWrite("add", stamped))
            self._attempt(lambda primary: None, force=False)

    def clear(self) -> None:
        with self._lock:
            self.fallback.clear()
            self._pending.append(PendingWrite("clear"))
            self._attempt(lambda primary: None, force=False)
