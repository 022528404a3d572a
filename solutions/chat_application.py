# BEGIN SOLUTION NO PROMPT
"""Reference solution of the capstone: a multi-session chat service with Redis memory.

`ChatApplication` keeps many conversations in Redis, each owned by a user, bounded
to `max_messages` and forgotten after `session_ttl` idle seconds. Every turn runs a
real `RunnableWithMessageHistory` over `system prompt + history + input`.

`RunnableWithMessageHistory` and `BaseChatMessageHistory` are deprecated in the
pinned LangChain in favour of LangGraph persistence (lesson 11). The patterns here,
bounded history, sliding expiry, one read and one atomic write per turn, carry over.

Data layout, for a key prefix `P` (default `chat:`); all keys of a session share one
TTL and every turn refreshes all of them together:

    P<session_id>               list  the messages, oldest first, JSON per message
    P{P<session_id>}:info       hash  user_id, created_at, last_active, shared:<user_id>
    Puser:<user_id>:sessions    zset  ids of sessions the user can see, scored by
                                      last activity (integer microseconds)

The braces are a Redis Cluster hash tag: a cluster hashes only what they enclose, the
messages key's own name, so a session's two keys land in the same slot (the messages
key, without braces, hashes whole) and one transaction may touch both. Hence a
`key_prefix` may not contain braces itself. A user's index lives in a slot of its own.
On one Redis, each write is a single `MULTI`/`EXEC` over the session's keys and the
indexes together. On a cluster (`redis.cluster.RedisCluster` as `redis_client`, or a
`redis+cluster://` URL) a transaction cannot span slots, so the session's keys keep
their `MULTI`/`EXEC` and the indexes follow in one pipeline (one round trip per node,
sent together). What that gives up, and how the app stays correct: messages and their
session's metadata still change together; an index may briefly keep the id of a gone
session (`list_sessions` prunes it on the way) or miss a new one when the second step
fails (the call raises `StorageUnavailableError`, and the session's keys expire on their
TTL).

Cost of a turn (`chat`), measured with `memory_course.redis_metrics.measure`:

1. one pipelined read, before the model runs: `HGETALL` info + `LRANGE` history;
2. one `MULTI`/`EXEC`, after the model answered: `HSET last_active`, `RPUSH` the two
   new messages, `LTRIM` to `max_messages`, `EXPIRE` every key of the session and
   `ZADD` + `EXPIRE` the index of every user who can see it.

The write carries only the new messages, so its size does not grow with history.
The app reads the snapshot itself and hands `RunnableWithMessageHistory` a history
object preloaded with it (through the run's config), whose `add_messages` performs
the single write. `RunnableWithMessageHistory` swallows exceptions raised while it
stores a turn (they are only logged), so that history object keeps the outcome and
`chat` raises it.

Concurrency: turns on the same session never lose messages: `RPUSH` appends under
Redis's single-threaded execution, and the human message and its reply are pushed
in one command, so they stay adjacent. A session deleted or expired while the model
was answering is detected from the transaction's own results (the `HSET` of
`last_active` creates a field instead of updating it); the keys it recreated are
removed and `chat` raises `SessionNotFoundError`. Those keys also got a TTL in the
same transaction, so nothing outlives a failed clean-up.

Errors: `SessionNotFoundError` (a `ValueError`) for unknown, expired or deleted
sessions; `StorageUnavailableError` whenever Redis fails or cannot be reached (a
client built from `redis_url` has bounded socket timeouts and no automatic retries,
so an outage raises within seconds and a turn is never written twice);
`ValueError`/`TypeError` for bad input, before anything is read or written.
"""

# `make stub` (memory_course/tooling/stubgen.py) generates exercises/chat_application.py from this file:
# the marked regions are what a student does not get; everything else, the public names,
# signatures, constants and docstrings, is the contract both share.
# END SOLUTION
# BEGIN PROMPT
# """Capstone exercise: a multi-session chat service with Redis memory.
#
# Implement every method below; each currently raises `NotImplementedError`. The grader
# imports this module, so keep every name, signature and constant as it is. The
# docstrings are the contract: inputs, result and errors. The "Hint" paragraphs are
# suggestions only.
#
# Two notes before you start:
#
# * `get_session_info`: where the lesson's text shows it returning a dict in one place
#   and a dataclass in another, this contract is the answer: it returns a `SessionInfo`
#   dataclass that is also readable as a mapping (`info["message_count"]` works as well
#   as `info.message_count`).
# * `RunnableWithMessageHistory` and `BaseChatMessageHistory` are deprecated in the
#   pinned LangChain in favour of LangGraph persistence (lesson 11 shows it). Build
#   on them anyway: bounded history, sliding expiry and one read plus one atomic
#   write per turn are the same ideas there. `memory_course.silence_known_deprecations()`
#   hides exactly these warnings if they distract you.
#
# What a good solution does (the reference solution meets every point):
#
# * a `chat` turn costs at most 2 Redis round trips: one pipelined read (session data
#   and history) before the model runs, one `MULTI`/`EXEC` after it (append, trim,
#   touch `last_active`, refresh every TTL). Bytes written per turn must not grow with
#   the history. Check yourself with `memory_course.redis_metrics.measure(client)`;
# * 8 threads sending 25 turns each to one session end with exactly 400 messages;
# * `list_sessions` costs the same number of round trips for 1 or 100 sessions;
# * when Redis is down, calls raise `StorageUnavailableError` quickly (bounded socket
#   timeouts on the client you build from `redis_url`) and store nothing half-way;
# * bad input raises only the documented exceptions and never corrupts stored data.
#
# Bonus, ready for Redis Cluster: a cluster runs a transaction only on keys of one slot,
# and it hashes a key's whole name, or only the part in braces when the name has a hash
# tag. Name every key of one session so that they all land in the same slot, and the
# session's `MULTI`/`EXEC` runs on a cluster too: the messages key,
# `key_prefix + session_id`, has no braces, so use its whole name as the hash tag of
# the session's other keys. A user's index may live in another slot. The grader computes
# the slot of every key whose name holds the session id, as `CLUSTER KEYSLOT` does
# (`redis.crc.key_slot(name.encode())` gives the same number).
#
# Hint: a layout that makes all of this possible, for a key prefix `P` (the braces are
# the cluster bonus's hash tag):
#
#     P<session_id>               list  one JSON message per element, oldest first
#     P{P<session_id>}:info       hash  user_id, created_at, last_active, ...
#     Puser:<user_id>:sessions    zset  the session ids a user can see
# """
# END PROMPT

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import redis
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import (
    BaseMessage,
    SystemMessage,
    message_to_dict,
    messages_from_dict,
)
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import ConfigurableFieldSpec
from langchain_core.runnables.history import RunnableWithMessageHistory
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from memory_course import get_chat_model

__all__ = [
    "DEFAULT_SOCKET_CONNECT_TIMEOUT",
    "DEFAULT_SOCKET_TIMEOUT",
    "EXPORT_FORMATS",
    "MAX_MESSAGE_CHARS",
    "MAX_SESSION_ID_CHARS",
    "MAX_USER_ID_CHARS",
    "ChatApplication",
    "LimitedRedisChatHistory",
    "SessionInfo",
    "SessionNotFoundError",
    "StorageUnavailableError",
]

MAX_MESSAGE_CHARS = 16_000
"""Longest user message `chat` accepts, in characters (about 4,000 tokens)."""

MAX_USER_ID_CHARS = 128
"""Longest user id accepted, in characters."""

MAX_SESSION_ID_CHARS = 256
"""Longest session id `LimitedRedisChatHistory` accepts, in characters."""

DEFAULT_SOCKET_CONNECT_TIMEOUT = 2.0
"""Seconds to wait for a TCP connection to Redis (client built from `redis_url`)."""

DEFAULT_SOCKET_TIMEOUT = 5.0
"""Seconds to wait for any Redis reply (client built from `redis_url`)."""

EXPORT_FORMATS = ("json", "markdown")

# BEGIN SOLUTION NO PROMPT
_ROLE_LABELS = {"human": "User", "ai": "Assistant", "system": "System", "tool": "Tool"}
# END SOLUTION


class SessionNotFoundError(ValueError):
    """The session id is unknown, or the session expired or was deleted."""


class StorageUnavailableError(RuntimeError):
    """Redis could not be reached, timed out, or failed the operation.

    Raise it `from` the original `redis` exception so the cause stays visible.
    Nothing may be stored half-way when it is raised.
    """


# BEGIN SOLUTION NO PROMPT
# --- small helpers -------------------------------------------------------------------


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn any redis-py error into `StorageUnavailableError`, chained as `__cause__`.

    Nothing is ever stored half-way: every write is a single `MULTI`/`EXEC`
    transaction. (A timeout while waiting for that transaction's reply cannot tell
    whether Redis ran it; if it did, it ran in full.)
    """
    try:
        yield
    except redis.exceptions.RedisError as error:
        raise StorageUnavailableError(f"Redis is unavailable or failed: {error}") from error


def _text(value: bytes | str) -> str:
    """Redis replies are bytes, or str when the client decodes responses."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    # A fixed width, so the bytes written per turn do not vary with the clock.
    return moment.isoformat(timespec="microseconds")


def _score(moment: datetime) -> int:
    # Integer microseconds: exact ordering and a fixed-width RESP argument.
    return int(moment.timestamp() * 1_000_000)


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _check_encodable(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} contains lone surrogates (not valid Unicode)") from None


def _validate_user_id(user_id: object, name: str = "user_id") -> str:
    if not isinstance(user_id, str):
        raise TypeError(f"{name} must be a str, got {type(user_id).__name__}")
    if not user_id.strip():
        raise ValueError(f"{name} must not be empty or whitespace")
    if len(user_id) > MAX_USER_ID_CHARS:
        raise ValueError(f"{name} is longer than {MAX_USER_ID_CHARS} characters")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in user_id):
        raise ValueError(f"{name} contains control characters or lone surrogates")
    return user_id


def _validate_message(message: object) -> str:
    if not isinstance(message, str):
        raise TypeError(f"message must be a str, got {type(message).__name__}")
    if not message.strip():
        raise ValueError("message must not be empty or whitespace")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValueError(f"message is longer than {MAX_MESSAGE_CHARS} characters")
    _check_encodable(message, "message")
    return message


def _canonical_session_id(session_id: object) -> str | None:
    """`session_id` if it is a canonical UUID string, else None (it cannot exist).

    Checking the shape first means no odd string ever reaches a Redis key name.
    """
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str, got {type(session_id).__name__}")
    try:
        parsed = uuid.UUID(session_id)
    except ValueError:
        return None
    return session_id if str(parsed) == session_id else None


def _encode_message(message: object) -> bytes:
    if not isinstance(message, BaseMessage):
        raise TypeError(f"expected a BaseMessage, got {type(message).__name__}")
    try:
        text = json.dumps(message_to_dict(message), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TypeError(f"message cannot be stored as JSON: {error}") from None
    _check_encodable(text, "message")
    return text.encode("utf-8")


def _decode_messages(raw: Sequence[bytes | str], key: str) -> list[BaseMessage]:
    try:
        return messages_from_dict([json.loads(item) for item in raw])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"the history stored at {key!r} is not valid: {error}") from None


# --- the history ---------------------------------------------------------------------
# END SOLUTION


class LimitedRedisChatHistory(BaseChatMessageHistory):
    """A chat history in Redis, bounded to the newest `max_messages`.

    Args:
        session_id: non-empty str of at most `MAX_SESSION_ID_CHARS` characters; the
            Redis key is `key_prefix + session_id`.
        redis_client: a `redis.Redis` or `fakeredis.FakeRedis`, returning bytes or
            (with `decode_responses=True`) str.
        max_messages: how many messages to keep (int >= 1).
        ttl_seconds: expiry of the key, refreshed by every `add_messages` (int >= 1).
        key_prefix: str prepended to the session id.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an empty or too long session id, or a limit below 1.

    Hint: store one message per list element (`message_to_dict` as JSON, read back
    with `messages_from_dict`); then appending never rewrites the history.
    """

    def __init__(
        self,
        session_id: str,
        redis_client: Any,
        max_messages: int = 50,
        ttl_seconds: int = 3600,
        key_prefix: str = "chat:",
    ) -> None:
        # BEGIN SOLUTION
        if not isinstance(session_id, str):
            raise TypeError(f"session_id must be a str, got {type(session_id).__name__}")
        if not session_id or len(session_id) > MAX_SESSION_ID_CHARS:
            raise ValueError(f"session_id must have 1 to {MAX_SESSION_ID_CHARS} characters")
        _check_encodable(session_id, "session_id")
        if not isinstance(key_prefix, str):
            raise TypeError(f"key_prefix must be a str, got {type(key_prefix).__name__}")
        _check_encodable(key_prefix, "key_prefix")
        if redis_client is None:
            raise TypeError("redis_client is required")
        self.session_id = session_id
        self.redis_client = redis_client
        self.max_messages = _check_positive_int(max_messages, "max_messages")
        self.ttl_seconds = _check_positive_int(ttl_seconds, "ttl_seconds")
        self.key_prefix = key_prefix
        # Set by subclasses that load the history ahead of time (see _TurnHistory).
        self._snapshot: list[BaseMessage] | None = None
        # END SOLUTION

    @property
    def key(self) -> str:
        """The Redis key of this history: `key_prefix + session_id`."""
        # BEGIN SOLUTION
        return f"{self.key_prefix}{self.session_id}"
        # END SOLUTION

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        """The stored messages, oldest first, at most `max_messages`.

        Raises:
            StorageUnavailableError: Redis failed or is unreachable.
            ValueError: the key holds something this class did not write.

        Hint: one `LRANGE key -max_messages -1`.
        """
        # BEGIN SOLUTION
        if self._snapshot is not None:
            return list(self._snapshot)
        with _storage_errors():
            raw = self.redis_client.lrange(self.key, -self.max_messages, -1)
        return _decode_messages(raw, self.key)
        # END SOLUTION

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append `messages`, keep only the newest `max_messages`, refresh the TTL.

        An empty sequence does nothing. Serialise every message before sending
        anything, so one bad message stores nothing.

        Raises:
            TypeError: an item is not a `BaseMessage`, or cannot be stored as JSON.
            ValueError: a message contains lone surrogates (not valid Unicode).
            StorageUnavailableError: Redis failed or is unreachable.

        Hint: one `MULTI`/`EXEC` (`redis_client.pipeline(transaction=True)`) with
        `RPUSH`, `LTRIM key -max_messages -1` and `EXPIRE`.
        """
        # BEGIN SOLUTION
        messages = list(messages)
        payloads = [_encode_message(message) for message in messages]
        if not payloads:
            return
        with _storage_errors():
            results = self._write(payloads)
        self._appended(messages, results)
        # END SOLUTION

    def clear(self) -> None:
        """Delete every message of this session.

        Raises:
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        with _storage_errors():
            self.redis_client.delete(self.key)  # one `DEL`
        if self._snapshot is not None:
            self._snapshot = []
        # END SOLUTION

    # BEGIN SOLUTION NO PROMPT
    def _write(self, payloads: list[bytes]) -> list[Any]:
        """The append's one transaction (one key: one slot on a cluster); its results."""
        pipe = self.redis_client.pipeline(transaction=True)
        self._queue_append(pipe, payloads)
        return list(pipe.execute())

    def _queue_append(self, pipe: Any, payloads: list[bytes]) -> None:
        """Queue the append's commands; subclasses add theirs around these."""
        pipe.rpush(self.key, *payloads)
        pipe.ltrim(self.key, -self.max_messages, -1)
        pipe.expire(self.key, self.ttl_seconds)

    def _appended(self, messages: list[BaseMessage], results: list[Any]) -> None:
        """Called with the transaction's results once it committed."""
        if self._snapshot is not None:
            self._snapshot = (self._snapshot + messages)[-self.max_messages :]

    # END SOLUTION


# BEGIN SOLUTION NO PROMPT
# --- sessions ------------------------------------------------------------------------
# END SOLUTION


@dataclass(frozen=True)
class SessionInfo:
    """What `get_session_info` and `list_sessions` report about one session.

    `user_id` is the owner (also for a session shared with someone else);
    `message_count` is the number of stored messages (2 after one turn, never more
    than `max_messages`); the datetimes are timezone-aware (UTC).
    """

    session_id: str
    user_id: str
    created_at: datetime
    last_active: datetime
    message_count: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the five fields, datetimes as ISO 8601 strings."""
        # BEGIN SOLUTION
        return {
            "session_id": self.session_id,
            "user_id": self.user_id,
            "created_at": self.created_at.isoformat(),
            "last_active": self.last_active.isoformat(),
            "message_count": self.message_count,
        }
        # END SOLUTION

    def __getitem__(self, key: str) -> Any:
        """The field named `key` (`info["message_count"]`); `KeyError` otherwise."""
        # BEGIN SOLUTION
        # Lesson code indexes a session's info like a dict.
        if isinstance(key, str) and key in _SESSION_INFO_FIELDS:
            return getattr(self, key)
        raise KeyError(key)
        # END SOLUTION


# BEGIN SOLUTION NO PROMPT
_SESSION_INFO_FIELDS = frozenset(field.name for field in fields(SessionInfo))


@dataclass(frozen=True)
class _SessionRecord:
    """A session's info hash, parsed; None from `parse` for a missing or partial one."""

    session_id: str
    owner: str
    created_at: datetime
    last_active: datetime
    shared_with: frozenset[str]

    @classmethod
    def parse(cls, session_id: str, raw: Mapping[Any, Any]) -> _SessionRecord | None:
        data = {_text(key): _text(value) for key, value in raw.items()}
        try:
            return cls(
                session_id=session_id,
                owner=data["user_id"],
                created_at=datetime.fromisoformat(data["created_at"]),
                last_active=datetime.fromisoformat(data["last_active"]),
                shared_with=frozenset(
                    key.removeprefix("shared:") for key in data if key.startswith("shared:")
                ),
            )
        except (KeyError, ValueError):
            # A hash recreated by a write that raced a delete has no user_id: not live.
            return None

    @property
    def audience(self) -> list[str]:
        """Every user whose session list shows this session: the owner first."""
        return [self.owner, *sorted(self.shared_with - {self.owner})]

    def info(self, message_count: int) -> SessionInfo:
        return SessionInfo(
            session_id=self.session_id,
            user_id=self.owner,
            created_at=self.created_at,
            last_active=self.last_active,
            message_count=message_count,
        )


class _Keys:
    """Key names under one prefix (see the module docstring)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def messages(self, session_id: str) -> str:
        return f"{self.prefix}{session_id}"

    def info(self, session_id: str) -> str:
        # The messages key as the hash tag: the same Redis Cluster slot as that key.
        return f"{self.prefix}{{{self.messages(session_id)}}}:info"

    def user_index(self, user_id: str) -> str:
        return f"{self.prefix}user:{user_id}:sessions"


class _TurnHistory(LimitedRedisChatHistory):
    """The history of one turn: preloaded by `chat`, written once by RWMH.

    Its transaction also refreshes the session's metadata, every TTL and the users'
    indexes, so a turn costs one read and one write in total.
    """

    def __init__(
        self, app: ChatApplication, record: _SessionRecord, snapshot: list[BaseMessage]
    ) -> None:
        super().__init__(
            record.session_id,
            app.redis,
            max_messages=app.max_messages,
            ttl_seconds=app.session_ttl,
            key_prefix=app.key_prefix,
        )
        self._snapshot = snapshot
        self._keys = app._keys
        self._audience = record.audience
        self.stored = False
        self.error: Exception | None = None

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        # RunnableWithMessageHistory calls this from a callback whose exceptions it
        # only logs, so keep the outcome for chat() to raise.
        try:
            super().add_messages(messages)
        except Exception as error:
            self.error = error

    def _write(self, payloads: list[bytes]) -> list[Any]:
        now = _now()
        info_key = self._keys.info(self.session_id)

        def session_part(pipe: Any) -> None:
            # Must stay first: its result (0 = field updated, 1 = field created) tells
            # whether the session still existed when the transaction ran.
            pipe.hset(info_key, "last_active", _iso(now))
            pipe.expire(info_key, self.ttl_seconds)
            self._queue_append(pipe, payloads)

        def index_part(pipe: Any) -> None:
            _queue_index_scores(
                pipe, self._keys, self.session_id, self._audience, now, self.ttl_seconds
            )

        return _write(self.redis_client, session_part, index_part)

    def _appended(self, messages: list[BaseMessage], results: list[Any]) -> None:
        if results[0]:
            # The keys just recreated carry the TTL, so a failed clean-up only delays
            # their removal; the caller must still learn the session is gone.
            with suppress(StorageUnavailableError):
                _discard(self.redis_client, self._keys, self.session_id, self._audience)
            raise SessionNotFoundError(
                f"session {self.session_id} expired or was deleted during the turn"
            )
        super()._appended(messages, results)
        self.stored = True

    def raise_if_not_stored(self) -> None:
        if self.error is not None:
            raise self.error
        if not self.stored:
            raise RuntimeError("the turn was not stored: the chain never wrote its history")


def _is_cluster(client: Any) -> bool:
    return isinstance(client, RedisCluster)


def _write(
    client: Any, session_part: Callable[[Any], None], index_part: Callable[[Any], None]
) -> list[Any]:
    """One write: `session_part` queues commands on one session's keys (one slot),
    `index_part` on users' indexes; returns the results of `session_part`'s commands.

    One Redis: both in one `MULTI`/`EXEC`, one round trip. A cluster refuses a
    transaction across slots: the session's commands keep theirs, then the indexes'
    follow in one pipeline (see the module docstring for what that gives up).
    """
    pipe = client.pipeline(transaction=True)
    session_part(pipe)
    if not _is_cluster(client):
        count = len(pipe)
        index_part(pipe)
        return list(pipe.execute())[:count]
    results = list(pipe.execute())
    indexes = client.pipeline(transaction=False)
    index_part(indexes)
    if len(indexes):
        indexes.execute()
    return results


def _queue_index_scores(
    pipe: Any,
    keys: _Keys,
    session_id: str,
    users: Sequence[str],
    when: datetime,
    ttl_seconds: int,
) -> None:
    """List `session_id` in each of `users`' indexes, scored by `when`, TTL refreshed."""
    for user_id in users:
        index = keys.user_index(user_id)
        pipe.zadd(index, {session_id: _score(when)})
        pipe.expire(index, ttl_seconds)


def _discard(client: Any, keys: _Keys, session_id: str, users: Sequence[str]) -> None:
    """Remove a session's keys and its id from `users`' indexes."""

    def session_part(pipe: Any) -> None:
        pipe.delete(keys.info(session_id))
        pipe.delete(keys.messages(session_id))

    def index_part(pipe: Any) -> None:
        for user_id in users:
            pipe.zrem(keys.user_index(user_id), session_id)

    with _storage_errors():
        _write(client, session_part, index_part)


def _read_sessions(
    client: Any, keys: _Keys, session_ids: Sequence[str]
) -> list[tuple[_SessionRecord | None, int]]:
    """Each session's record (None when gone) and message count, in one round trip."""
    if not session_ids:
        return []
    pipe = client.pipeline(transaction=False)
    for session_id in session_ids:
        pipe.hgetall(keys.info(session_id))
        pipe.llen(keys.messages(session_id))
    results = pipe.execute()
    return [
        (_SessionRecord.parse(session_id, results[2 * position]), results[2 * position + 1])
        for position, session_id in enumerate(session_ids)
    ]


def _history_from_config(turn_history: _TurnHistory) -> _TurnHistory:
    """RWMH's history factory: the history `chat` already loaded for this turn."""
    return turn_history


_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def _client_from_url(redis_url: str) -> redis.Redis | RedisCluster:
    # Bounded timeouts: an outage raises instead of hanging. No automatic retries:
    # a retried transaction whose reply was lost would store a turn twice. Options in
    # the URL (e.g. "?socket_timeout=0.5") take precedence over these defaults.
    options: dict[str, Any] = {
        "socket_connect_timeout": DEFAULT_SOCKET_CONNECT_TIMEOUT,
        "socket_timeout": DEFAULT_SOCKET_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }
    scheme, separator, rest = redis_url.partition("://")
    if separator and scheme.lower() in _CLUSTER_SCHEMES:
        # A startup node of a Redis Cluster: the client discovers the others.
        return RedisCluster.from_url(f"{_CLUSTER_SCHEMES[scheme.lower()]}://{rest}", **options)
    return redis.Redis.from_url(redis_url, **options)


def _reply_text(reply: Any) -> str:
    if isinstance(reply, BaseMessage):
        return reply.text
    return reply if isinstance(reply, str) else str(reply)


# END SOLUTION


class ChatApplication:
    """Multi-user, multi-session chat with bounded, expiring Redis memory.

    Args:
        redis_url: used only when `redis_client` is None. Build the client yourself
            with `socket_connect_timeout=DEFAULT_SOCKET_CONNECT_TIMEOUT` and
            `socket_timeout=DEFAULT_SOCKET_TIMEOUT` so an outage raises instead of
            hanging (options in the URL may override them).
        redis_client: a ready `redis.Redis`/`fakeredis.FakeRedis`; wins over the URL.
        llm: the chat model; None means `memory_course.get_chat_model()`.
        max_messages: messages kept per session, and the most the model sees.
        session_ttl: seconds of inactivity after which a session is gone everywhere.
        system_prompt: the first message of every prompt, used verbatim.
        key_prefix: namespace of every key the app writes.

    Raises:
        TypeError, ValueError: invalid settings (limits must be ints >= 1).

    Keep the settings as attributes: `redis`, `llm`, `max_messages`, `session_ttl`,
    `key_prefix`.

    Hint: build the chain once: `ChatPromptTemplate.from_messages([SystemMessage(...),
    MessagesPlaceholder("history"), ("human", "{input}")])` piped into the model,
    wrapped in `RunnableWithMessageHistory(..., input_messages_key="input",
    history_messages_key="history")`. A `SystemMessage` object keeps braces in the
    prompt literal.
    """

    def __init__(
        self,
        redis_url: str = "redis://localhost:6379",
        *,
        redis_client: Any = None,
        llm: BaseLanguageModel | None = None,
        max_messages: int = 50,
        session_ttl: int = 3600,
        system_prompt: str = "You are a helpful assistant.",
        key_prefix: str = "chat:",
    ) -> None:
        # BEGIN SOLUTION
        self.max_messages = _check_positive_int(max_messages, "max_messages")
        self.session_ttl = _check_positive_int(session_ttl, "session_ttl")
        if not isinstance(system_prompt, str):
            raise TypeError("system_prompt must be a str")
        if not isinstance(key_prefix, str) or not key_prefix:
            raise ValueError("key_prefix must be a non-empty str")
        if "{" in key_prefix or "}" in key_prefix:
            raise ValueError("key_prefix may not contain braces: the app places the hash tags")
        _check_encodable(key_prefix, "key_prefix")
        self.key_prefix = key_prefix  # give each deployment (or test) its own
        self._keys = _Keys(key_prefix)
        # Any: a redis.Redis, a fakeredis.FakeRedis, bytes or decoded replies alike.
        self.redis: Any = redis_client if redis_client is not None else _client_from_url(redis_url)
        self.llm = llm if llm is not None else get_chat_model()
        prompt = ChatPromptTemplate.from_messages(
            [
                # A message object, not a template: braces in the prompt stay literal.
                SystemMessage(content=system_prompt),
                MessagesPlaceholder("history"),
                ("human", "{input}"),
            ]
        )
        self._chain = RunnableWithMessageHistory(
            prompt | self.llm,
            _history_from_config,
            input_messages_key="input",
            history_messages_key="history",
            history_factory_config=[
                ConfigurableFieldSpec(
                    id="turn_history",
                    annotation=BaseChatMessageHistory,
                    name="Turn history",
                    description="The session's history, loaded by ChatApplication.chat.",
                    is_shared=True,
                )
            ],
        )
        # END SOLUTION

    # BEGIN SOLUTION NO PROMPT
    # --- sessions --------------------------------------------------------------------
    # END SOLUTION

    def create_session(self, user_id: str) -> str:
        """Start an empty session owned by `user_id`; return its id (a UUID4 string).

        The session expires after `session_ttl` idle seconds.

        Raises:
            TypeError: `user_id` is not a str.
            ValueError: `user_id` is empty, whitespace, longer than
                `MAX_USER_ID_CHARS`, or contains control characters.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        # One transaction: the info hash and the user's index, both with the TTL.
        user_id = _validate_user_id(user_id)
        session_id = str(uuid.uuid4())
        now = _now()
        with _storage_errors():
            self._write_new_session(session_id, user_id, now, payloads=[])
        return session_id
        # END SOLUTION

    def chat(self, session_id: str, message: str) -> str:
        """Send `message` in the session and return the model's reply text.

        The model sees the system prompt, at most `max_messages` earlier messages and
        `message`. Afterwards the message and the reply are stored (the oldest dropped
        beyond `max_messages`) and every key of the session expires `session_ttl`
        seconds from now. At most two Redis round trips.

        Raises:
            TypeError: `session_id` or `message` is not a str.
            ValueError: `message` is empty, whitespace only, longer than
                `MAX_MESSAGE_CHARS`, or contains lone surrogates; nothing is stored.
            SessionNotFoundError: unknown, expired or deleted session.
            StorageUnavailableError: Redis failed or is unreachable; nothing of the
                turn is stored.
            Exception: whatever the model raised, unchanged; nothing is stored.

        Hint: read the session and its history in one pipeline, then give
        `RunnableWithMessageHistory` a history object already holding that snapshot
        (for example through a `ConfigurableFieldSpec` in `history_factory_config`)
        whose `add_messages` does the single write. Careful: exceptions raised in
        `add_messages` during `invoke` are only logged by LangChain, so keep the
        outcome on the history object and raise it after `invoke` returns.
        """
        # BEGIN SOLUTION
        # Two round trips. SessionNotFoundError also when the session expired or was
        # deleted while the model was answering (see _TurnHistory._appended).
        text = _validate_message(message)
        session_id = self._require_session_id(session_id)
        turn = self._load_turn(session_id)
        reply = self._chain.invoke({"input": text}, config={"configurable": {"turn_history": turn}})
        turn.raise_if_not_stored()
        return _reply_text(reply)
        # END SOLUTION

    def get_session_info(self, session_id: str) -> SessionInfo | None:
        """The session's `SessionInfo`, or None if it is unknown, expired or deleted.

        Read-only: it does not extend the session.

        Raises:
            TypeError: `session_id` is not a str.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        # One round trip.
        canonical = _canonical_session_id(session_id)
        if canonical is None:
            return None
        session_id = canonical
        with _storage_errors():
            [(record, count)] = _read_sessions(self.redis, self._keys, [session_id])
        return record.info(count) if record else None
        # END SOLUTION

    def list_sessions(self, user_id: str) -> list[SessionInfo]:
        """The live sessions `user_id` owns or was shared, most recently active first.

        Ids of expired or deleted sessions are removed from the user's records on the
        way, so none lingers in Redis. The number of round trips must not depend on
        how many sessions the user has.

        Raises:
            TypeError, ValueError: invalid `user_id` (as in `create_session`).
            StorageUnavailableError: Redis failed or is unreachable.

        Hint: one read for the ids, one pipeline for all their metadata, and
        `ZREM` for the ids whose metadata is gone.
        """
        # BEGIN SOLUTION
        # Two round trips (three when something was pruned), however many sessions.
        user_id = _validate_user_id(user_id)
        index = self._keys.user_index(user_id)
        with _storage_errors():
            candidates = [_text(member) for member in self.redis.zrevrange(index, 0, -1)]
            ids = [sid for sid in candidates if _canonical_session_id(sid) is not None]
            live = [
                record.info(count)
                for record, count in _read_sessions(self.redis, self._keys, ids)
                if record is not None and user_id in record.audience
            ]
            stale = set(candidates) - {info.session_id for info in live}
            if stale:
                self.redis.zrem(index, *stale)
        live.sort(key=lambda info: (info.last_active, info.session_id), reverse=True)
        return live
        # END SOLUTION

    def delete_session(self, session_id: str) -> bool:
        """Delete the session and everything that refers to it.

        Returns True if it existed, False for an unknown, expired or already deleted
        session. No key holding the session id remains afterwards.

        Raises:
            TypeError: `session_id` is not a str.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        # Its info hash, its messages and its id in every user's index; nothing is
        # written for a session that does not exist.
        canonical = _canonical_session_id(session_id)
        if canonical is None:
            return False
        session_id = canonical
        with _storage_errors():
            record = _SessionRecord.parse(
                session_id, self.redis.hgetall(self._keys.info(session_id))
            )
            if record is None:
                return False

            def session_part(pipe: Any) -> None:
                pipe.delete(self._keys.info(session_id))
                pipe.delete(self._keys.messages(session_id))

            def index_part(pipe: Any) -> None:
                for user_id in record.audience:
                    pipe.zrem(self._keys.user_index(user_id), session_id)

            deleted_info = _write(self.redis, session_part, index_part)[0]
        return bool(deleted_info)
        # END SOLUTION

    # BEGIN SOLUTION NO PROMPT
    # --- bonus -----------------------------------------------------------------------
    # END SOLUTION

    def export_session(self, session_id: str, format: str = "json") -> str:
        """Bonus: the conversation as text, oldest message first.

        `"json"`: an object with the `SessionInfo` fields (ISO datetimes) and
        `"messages"`, a list of `{"role": ..., "content": ...}` where role is the
        LangChain message type (`"human"`, `"ai"`, `"system"`); `json.loads` of it
        gives back the same messages. `"markdown"`: a heading, then one
        `**User:** text` / `**Assistant:** text` paragraph per message. Read-only.

        Raises:
            TypeError: `session_id` or `format` is not a str.
            ValueError: `format` is not one of `EXPORT_FORMATS`.
            SessionNotFoundError: unknown, expired or deleted session.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        # The markdown also lists the session's facts (owner, dates, message count).
        if not isinstance(format, str):
            raise TypeError(f"format must be a str, got {type(format).__name__}")
        if format not in EXPORT_FORMATS:
            raise ValueError(f"unknown format {format!r}; expected one of {EXPORT_FORMATS}")
        session_id = self._require_session_id(session_id)
        record, raw = self._read_all(session_id)
        messages = _decode_messages(raw, self._keys.messages(session_id))
        info = record.info(len(messages))
        if format == "json":
            body = info.to_dict()
            body["messages"] = [{"role": m.type, "content": m.content} for m in messages]
            return json.dumps(body, ensure_ascii=False, indent=2)
        return _markdown(info, messages)
        # END SOLUTION

    def share_session(self, session_id: str, owner_id: str, with_user_id: str) -> None:
        """Bonus: let `with_user_id` see the session in `list_sessions`.

        Sharing with the owner, or sharing twice, changes nothing.

        Raises:
            TypeError, ValueError: invalid `owner_id` or `with_user_id`, or a
                non-str `session_id`.
            SessionNotFoundError: unknown, expired or deleted session.
            PermissionError: `owner_id` does not own the session.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        # The one it is shared with may use it too. Sharing does not refresh the
        # session's expiry.
        owner_id = _validate_user_id(owner_id, "owner_id")
        with_user_id = _validate_user_id(with_user_id, "with_user_id")
        session_id = self._require_session_id(session_id)
        info_key = self._keys.info(session_id)
        with _storage_errors():
            record = _SessionRecord.parse(session_id, self.redis.hgetall(info_key))
            if record is None:
                raise SessionNotFoundError(f"no session {session_id}")
            if record.owner != owner_id:
                raise PermissionError(f"{owner_id!r} does not own session {session_id}")
            if with_user_id == owner_id:
                return

            def session_part(pipe: Any) -> None:
                pipe.exists(info_key)  # 0: deleted or expired since the read above
                pipe.hset(info_key, f"shared:{with_user_id}", _iso(_now()))
                pipe.expire(info_key, self.session_ttl, nx=True)  # only a recreated hash

            def index_part(pipe: Any) -> None:
                _queue_index_scores(
                    pipe,
                    self._keys,
                    session_id,
                    [with_user_id],
                    record.last_active,
                    self.session_ttl,
                )

            still_there = _write(self.redis, session_part, index_part)[0]
        if not still_there:
            with suppress(StorageUnavailableError):  # the recreated hash has a TTL
                _discard(self.redis, self._keys, session_id, [with_user_id])
            raise SessionNotFoundError(f"session {session_id} expired or was deleted")
        # END SOLUTION

    def fork_session(self, session_id: str, user_id: str, at_message: int | None = None) -> str:
        """Bonus: copy the first `at_message` messages (all if None) into a new session.

        The new session is owned by `user_id`, has its own expiry and evolves
        independently of the original. Returns the new session id (UUID4 string).

        Raises:
            TypeError: `at_message` is not an int or None; non-str ids.
            ValueError: invalid `user_id`, or `at_message` outside 0..message_count.
            SessionNotFoundError: unknown, expired or deleted session.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        # BEGIN SOLUTION
        # Possession of a session id is what grants access, as for `chat` and
        # `export_session`.
        user_id = _validate_user_id(user_id)
        if at_message is not None and (
            isinstance(at_message, bool) or not isinstance(at_message, int)
        ):
            raise TypeError(f"at_message must be an int or None, got {type(at_message).__name__}")
        session_id = self._require_session_id(session_id)
        _, raw = self._read_all(session_id)
        count = len(raw) if at_message is None else at_message
        if not 0 <= count <= len(raw):
            raise ValueError(f"at_message must be between 0 and {len(raw)}, got {at_message}")
        new_id = str(uuid.uuid4())
        with _storage_errors():
            self._write_new_session(
                new_id, user_id, _now(), payloads=list(raw[:count]), forked_from=session_id
            )
        return new_id
        # END SOLUTION

    # BEGIN SOLUTION NO PROMPT
    # --- internals -------------------------------------------------------------------

    def _require_session_id(self, session_id: object) -> str:
        canonical = _canonical_session_id(session_id)
        if canonical is None:
            raise SessionNotFoundError(f"no session {session_id!r}")
        return canonical

    def _load_turn(self, session_id: str) -> _TurnHistory:
        """Round trip 1 of a turn: the metadata and the newest `max_messages`."""
        with _storage_errors():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(self._keys.info(session_id))
            pipe.lrange(self._keys.messages(session_id), -self.max_messages, -1)
            raw_info, raw_messages = pipe.execute()
        record = _SessionRecord.parse(session_id, raw_info)
        if record is None:
            raise SessionNotFoundError(f"no session {session_id}")
        snapshot = _decode_messages(raw_messages, self._keys.messages(session_id))
        return _TurnHistory(self, record, snapshot)

    def _read_all(self, session_id: str) -> tuple[_SessionRecord, list[bytes | str]]:
        with _storage_errors():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(self._keys.info(session_id))
            pipe.lrange(self._keys.messages(session_id), 0, -1)
            raw_info, raw_messages = pipe.execute()
        record = _SessionRecord.parse(session_id, raw_info)
        if record is None:
            raise SessionNotFoundError(f"no session {session_id}")
        return record, raw_messages

    def _write_new_session(
        self,
        session_id: str,
        user_id: str,
        now: datetime,
        *,
        payloads: list[bytes | str],
        forked_from: str | None = None,
    ) -> None:
        info: dict[str, str] = {
            "user_id": user_id,
            "created_at": _iso(now),
            "last_active": _iso(now),
        }
        if forked_from is not None:
            info["forked_from"] = forked_from
        info_key = self._keys.info(session_id)

        def session_part(pipe: Any) -> None:
            pipe.hset(info_key, mapping=info)
            pipe.expire(info_key, self.session_ttl)
            if payloads:
                messages_key = self._keys.messages(session_id)
                pipe.rpush(messages_key, *payloads)
                pipe.ltrim(messages_key, -self.max_messages, -1)
                pipe.expire(messages_key, self.session_ttl)

        def index_part(pipe: Any) -> None:
            _queue_index_scores(pipe, self._keys, session_id, [user_id], now, self.session_ttl)

        _write(self.redis, session_part, index_part)

    # END SOLUTION


# BEGIN SOLUTION NO PROMPT
def _markdown(info: SessionInfo, messages: list[BaseMessage]) -> str:
    lines = [
        f"# Conversation {info.session_id}",
        "",
        f"- Owner: {info.user_id}",
        f"- Created: {info.created_at.isoformat()}",
        f"- Last active: {info.last_active.isoformat()}",
        f"- Messages: {info.message_count}",
        "",
    ]
    if not messages:
        lines.append("_No messages yet._")
    for message in messages:
        role = _ROLE_LABELS.get(message.type, message.type.capitalize())
        lines += [f"**{role}:** {message.text}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# END SOLUTION
