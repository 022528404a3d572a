"""Many users, many conversations: a registry of chat sessions with owners and expiry.

`MultiSessionManager` maps each session id to its owner and its message history:

- `create_session(user_id)` starts a conversation and returns its `SessionInfo`;
- `get_history(user_id, session_id)` returns the history only to its owner, otherwise
  raises `SessionOwnershipError` (or `SessionNotFoundError` for an unknown id);
- `list_sessions(user_id)` lists one user's sessions, oldest first;
- `cleanup_idle()` removes sessions idle for at least `idle_timeout`, measured on an
  injectable `Clock`, so a test advances a `ManualClock` instead of waiting.

`session_history(session_id)` is the `get_session_history` factory for
`RunnableWithMessageHistory`; it does not know the caller, so check ownership first
with `get_history` (lesson 3), or pass `get_history` itself as a two-key factory
with `history_factory_config` (lesson 4). All methods are safe to call from several
threads at once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory

from memory_course.clock import Clock, SystemClock

__all__ = [
    "MultiSessionManager",
    "SessionError",
    "SessionInfo",
    "SessionNotFoundError",
    "SessionOwnershipError",
]

HistoryFactory = Callable[[str], BaseChatMessageHistory]


class SessionError(Exception):
    """Base class of the session errors, so callers can catch both at once."""


class SessionNotFoundError(SessionError, LookupError):
    """No session has this id (never created, deleted, or expired)."""


class SessionOwnershipError(SessionError, PermissionError):
    """The session exists but belongs to another user."""


@dataclass(frozen=True)
class SessionInfo:
    """What the manager knows about one session (a snapshot; it does not update)."""

    session_id: str
    user_id: str
    created_at: datetime
    last_active: datetime

    def idle_for(self, now: datetime) -> timedelta:
        return now - self.last_active


def _in_memory_history(session_id: str) -> BaseChatMessageHistory:
    return InMemoryChatMessageHistory()


def _random_session_id() -> str:
    # Unguessable ids: knowing one session id must not help guess another.
    return uuid.uuid4().hex


class MultiSessionManager:
    """Sessions per user, with ownership checks and idle cleanup.

    Args:
        history_factory: makes the history of a new session from its id
            (default: a fresh `InMemoryChatMessageHistory`).
        clock: where "now" comes from (default: `SystemClock()`).
        idle_timeout: a session unused for at least this long is removed by
            `cleanup_idle()` (default: 30 minutes).
        id_factory: makes new session ids (default: random UUID4 hex strings).

    A session is "used" whenever it is created or its history is fetched through
    `get_history`, `get_or_create` or `session_history`.
    """

    def __init__(
        self,
        history_factory: HistoryFactory = _in_memory_history,
        *,
        clock: Clock | None = None,
        idle_timeout: timedelta = timedelta(minutes=30),
        id_factory: Callable[[], str] = _random_session_id,
    ) -> None:
        if idle_timeout <= timedelta(0):
            raise ValueError("idle_timeout must be positive")
        self._history_factory = history_factory
        self._clock: Clock = clock or SystemClock()
        self.idle_timeout = idle_timeout
        self._id_factory = id_factory
        self._lock = threading.RLock()
        # Dicts keep insertion order, so listings come out oldest first.
        self._info: dict[str, SessionInfo] = {}
        self._histories: dict[str, BaseChatMessageHistory] = {}

    # -- creating and finding -------------------------------------------------------

    def create_session(self, user_id: str, session_id: str | None = None) -> SessionInfo:
        """Start a session owned by `user_id`; a new id is generated unless given.

        Raises `ValueError` for an empty `user_id` or an id that is already in use.
        """
        _require_text(user_id, "user_id")
        with self._lock:
            new_id = session_id if session_id is not None else self._id_factory()
            _require_text(new_id, "session_id")
            if new_id in self._info:
                raise ValueError(f"session {new_id!r} already exists")
            now = self._clock.now()
            info = SessionInfo(new_id, user_id, created_at=now, last_active=now)
            self._histories[new_id] = self._history_factory(new_id)
            self._info[new_id] = info
            return info

    def get_history(self, user_id: str, session_id: str) -> BaseChatMessageHistory:
        """The history of `session_id` if `user_id` owns it; marks the session as used.

        Raises `SessionNotFoundError` if there is no such session and
        `SessionOwnershipError` if another user owns it.
        """
        with self._lock:
            self._check_owner(user_id, session_id)
            return self._touch(session_id)

    def get_or_create(self, user_id: str, session_id: str) -> BaseChatMessageHistory:
        """Like `get_history`, but creates the session for `user_id` if it is new.

        Concurrent calls with the same arguments create it once and share one history.
        """
        with self._lock:
            if session_id not in self._info:
                self.create_session(user_id, session_id)
            return self.get_history(user_id, session_id)

    def session_history(self, session_id: str) -> BaseChatMessageHistory:
        """The history of `session_id` without an ownership check; marks it as used.

        Meant as `RunnableWithMessageHistory`'s `get_session_history`, after the caller
        was checked with `get_history`. Raises `SessionNotFoundError` for an unknown id
        rather than creating a session nobody owns.
        """
        with self._lock:
            if session_id not in self._info:
                raise SessionNotFoundError(f"no session {session_id!r}")
            return self._touch(session_id)

    def owner_of(self, session_id: str) -> str:
        """The user who owns `session_id`; `SessionNotFoundError` if there is none."""
        with self._lock:
            if session_id not in self._info:
                raise SessionNotFoundError(f"no session {session_id!r}")
            return self._info[session_id].user_id

    def list_sessions(self, user_id: str) -> list[SessionInfo]:
        """The sessions `user_id` owns, oldest first (an empty list if none)."""
        with self._lock:
            return [info for info in self._info.values() if info.user_id == user_id]

    def __len__(self) -> int:
        with self._lock:
            return len(self._info)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._info

    # -- ending ---------------------------------------------------------------------

    def delete_session(self, user_id: str, session_id: str) -> SessionInfo:
        """Remove a session its owner no longer wants; its history is cleared."""
        with self._lock:
            self._check_owner(user_id, session_id)
            return self._remove(session_id)

    def cleanup_idle(self) -> list[SessionInfo]:
        """Remove every session idle for at least `idle_timeout`; return them, oldest first.

        Their histories are cleared too, so a persistent backend does not keep them.
        """
        with self._lock:
            now = self._clock.now()
            expired = [
                session_id
                for session_id, info in self._info.items()
                if info.idle_for(now) >= self.idle_timeout
            ]
            return [self._remove(session_id) for session_id in expired]

    # -- internals (call with the lock held) ----------------------------------------

    def _check_owner(self, user_id: str, session_id: str) -> None:
        info = self._info.get(session_id)
        if info is None:
            raise SessionNotFoundError(f"no session {session_id!r}")
        if info.user_id != user_id:
            raise SessionOwnershipError(
                f"user {user_id!r} may not use session {session_id!r}: it belongs to another user"
            )

    def _touch(self, session_id: str) -> BaseChatMessageHistory:
        self._info[session_id] = replace(self._info[session_id], last_active=self._clock.now())
        return self._histories[session_id]

    def _remove(self, session_id: str) -> SessionInfo:
        info = self._info.pop(session_id)
        self._histories.pop(session_id).clear()
        return info


def _require_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
