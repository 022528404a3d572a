"""Capstone exercise: a multi-session chat service with Redis memory.

Implement every method below; each currently raises `NotImplementedError`. The grader
imports this module, so keep every name, signature and constant as it is. The
docstrings are the contract: inputs, result and errors. The "Hint" paragraphs are
suggestions only.

Two notes before you start:

* `get_session_info`: where the lesson's text shows it returning a dict in one place
  and a dataclass in another, this contract is the answer: it returns a `SessionInfo`
  dataclass that is also readable as a mapping (`info["message_count"]` works as well
  as `info.message_count`).
* `RunnableWithMessageHistory` and `BaseChatMessageHistory` are deprecated in the
  pinned LangChain in favour of LangGraph persistence (lesson 11 shows it). Build
  on them anyway: bounded history, sliding expiry and one read plus one atomic
  write per turn are the same ideas there. `memory_course.silence_known_deprecations()`
  hides exactly these warnings if they distract you.

What a good solution does (the reference solution meets every point):

* a `chat` turn costs at most 2 Redis round trips: one pipelined read (session data
  and history) before the model runs, one `MULTI`/`EXEC` after it (append, trim,
  touch `last_active`, refresh every TTL). Bytes written per turn must not grow with
  the history. Check yourself with `memory_course.redis_metrics.measure(client)`;
* 8 threads sending 25 turns each to one session end with exactly 400 messages;
* `list_sessions` costs the same number of round trips for 1 or 100 sessions;
* when Redis is down, calls raise `StorageUnavailableError` quickly (bounded socket
  timeouts on the client you build from `redis_url`) and store nothing half-way;
* bad input raises only the documented exceptions and never corrupts stored data.

Bonus, ready for Redis Cluster: a cluster runs a transaction only on keys of one slot,
and it hashes a key's whole name, or only the part in braces when the name has a hash
tag. Name every key of one session so that they all land in the same slot, and the
session's `MULTI`/`EXEC` runs on a cluster too: the messages key,
`key_prefix + session_id`, has no braces, so use its whole name as the hash tag of
the session's other keys. A user's index may live in another slot. The grader computes
the slot of every key whose name holds the session id, as `CLUSTER KEYSLOT` does
(`redis.crc.key_slot(name.encode())` gives the same number).

Hint: a layout that makes all of this possible, for a key prefix `P` (the braces are
the cluster bonus's hash tag):

    P<session_id>               list  one JSON message per element, oldest first
    P{P<session_id>}:info       hash  user_id, created_at, last_active, ...
    Puser:<user_id>:sessions    zset  the session ids a user can see
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage

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


class SessionNotFoundError(ValueError):
    """The session id is unknown, or the session expired or was deleted."""


class StorageUnavailableError(RuntimeError):
    """Redis could not be reached, timed out, or failed the operation.

    Raise it `from` the original `redis` exception so the cause stays visible.
    Nothing may be stored half-way when it is raised.
    """


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
        raise NotImplementedError

    @property
    def key(self) -> str:
        """The Redis key of this history: `key_prefix + session_id`."""
        raise NotImplementedError

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        """The stored messages, oldest first, at most `max_messages`.

        Raises:
            StorageUnavailableError: Redis failed or is unreachable.
            ValueError: the key holds something this class did not write.

        Hint: one `LRANGE key -max_messages -1`.
        """
        raise NotImplementedError

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
        raise NotImplementedError

    def clear(self) -> None:
        """Delete every message of this session.

        Raises:
            StorageUnavailableError: Redis failed or is unreachable.
        """
        raise NotImplementedError


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
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        """The field named `key` (`info["message_count"]`); `KeyError` otherwise."""
        raise NotImplementedError


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
        raise NotImplementedError

    def create_session(self, user_id: str) -> str:
        """Start an empty session owned by `user_id`; return its id (a UUID4 string).

        The session expires after `session_ttl` idle seconds.

        Raises:
            TypeError: `user_id` is not a str.
            ValueError: `user_id` is empty, whitespace, longer than
                `MAX_USER_ID_CHARS`, or contains control characters.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        raise NotImplementedError

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
        raise NotImplementedError

    def get_session_info(self, session_id: str) -> SessionInfo | None:
        """The session's `SessionInfo`, or None if it is unknown, expired or deleted.

        Read-only: it does not extend the session.

        Raises:
            TypeError: `session_id` is not a str.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        raise NotImplementedError

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
        raise NotImplementedError

    def delete_session(self, session_id: str) -> bool:
        """Delete the session and everything that refers to it.

        Returns True if it existed, False for an unknown, expired or already deleted
        session. No key holding the session id remains afterwards.

        Raises:
            TypeError: `session_id` is not a str.
            StorageUnavailableError: Redis failed or is unreachable.
        """
        raise NotImplementedError

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
        raise NotImplementedError

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
        raise NotImplementedError

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
        raise NotImplementedError
