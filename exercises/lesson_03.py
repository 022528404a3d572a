"""Lesson 3 · Your turn: a per-user session limit, and a 404 that leaks nothing.

Write the two exercises of notebook 3's "Your turn" here, then check them from the
notebook's check cell or with `python -m grading check lesson_03`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course.sessions import MultiSessionManager, SessionInfo

__all__ = ["NOT_FOUND", "LimitedSessionManager", "respond"]


class LimitedSessionManager(MultiSessionManager):
    """Exercise 1: at most `max_sessions_per_user` sessions per user.

    Creating one more deletes that user's least recently used session first (its
    history is cleared). `evicted` lists every session removed this way, oldest first.
    A limit below 1 raises `ValueError`. Counting, evicting and creating are one step
    under the manager's lock, so parallel creations never exceed the limit.
    """

    def __init__(self, *args: Any, max_sessions_per_user: int, **kwargs: Any) -> None:
        raise NotImplementedError

    def create_session(self, user_id: str, session_id: str | None = None) -> SessionInfo:
        raise NotImplementedError


NOT_FOUND = (404, "session not found")


def respond(
    manager: MultiSessionManager,
    chat: RunnableWithMessageHistory,
    user_id: str,
    session_id: str,
    text: str,
) -> tuple[int, str]:
    """Exercise 2: one chat turn as `(status, body)`.

    `chat` uses `manager.session_history` as its factory. A session of `user_id` gets
    `(200, reply)`. Unknown sessions and other users' sessions both get `NOT_FOUND`,
    without calling the model or touching the session, so a caller cannot tell which
    ids exist.
    """
    raise NotImplementedError
