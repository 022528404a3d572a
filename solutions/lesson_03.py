# BEGIN SOLUTION NO PROMPT
"""Lesson 3 · worked solutions: a per-user session limit, and a 404 that leaks nothing."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 3 · Your turn: a per-user session limit, and a 404 that leaks nothing.
#
# Write the two exercises of notebook 3's "Your turn" here, then check them from the
# notebook's check cell or with `python -m grading check lesson_03`.
# """
# END PROMPT

from __future__ import annotations

from typing import Any

from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course.sessions import MultiSessionManager, SessionError, SessionInfo

__all__ = ["NOT_FOUND", "LimitedSessionManager", "respond"]


class LimitedSessionManager(MultiSessionManager):
    """Exercise 1: at most `max_sessions_per_user` sessions per user.

    Creating one more deletes that user's least recently used session first (its
    history is cleared). `evicted` lists every session removed this way, oldest first.
    A limit below 1 raises `ValueError`. Counting, evicting and creating are one step
    under the manager's lock, so parallel creations never exceed the limit.
    """

    def __init__(self, *args: Any, max_sessions_per_user: int, **kwargs: Any) -> None:
        # BEGIN SOLUTION
        if max_sessions_per_user < 1:
            raise ValueError("max_sessions_per_user must be at least 1")
        super().__init__(*args, **kwargs)
        self.max_sessions_per_user = max_sessions_per_user
        self.evicted: list[SessionInfo] = []
        # END SOLUTION

    def create_session(self, user_id: str, session_id: str | None = None) -> SessionInfo:
        # BEGIN SOLUTION
        # The manager's lock is re-entrant: counting, evicting and creating happen as one
        # step, so two parallel creations cannot both squeeze under the limit.
        with self._lock:
            sessions = self.list_sessions(user_id)
            while len(sessions) >= self.max_sessions_per_user:
                oldest = min(sessions, key=lambda info: info.last_active)
                self.evicted.append(self.delete_session(user_id, oldest.session_id))
                sessions.remove(oldest)
            return super().create_session(user_id, session_id)
        # END SOLUTION


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
    # BEGIN SOLUTION
    try:
        manager.get_history(user_id, session_id)
    except SessionError:
        return NOT_FOUND
    reply = chat.invoke({"input": text}, {"configurable": {"session_id": session_id}})
    return 200, reply.content
    # END SOLUTION
