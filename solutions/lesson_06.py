"""Lesson 6 · worked solutions: a bounded file history, and listing the stored sessions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from langchain_core.messages import BaseMessage

from memory_course.file_history import FileChatMessageHistory, validate_session_id

__all__ = ["BoundedFileChatMessageHistory", "list_sessions"]


class BoundedFileChatMessageHistory(FileChatMessageHistory):
    """Exercise 1: a file history that keeps only the newest `max_messages` messages.

    Appending and trimming happen in the same locked read-modify-write (`update`), so
    concurrent writers can neither lose messages nor push the file over the limit.
    """

    def __init__(
        self,
        session_id: str,
        storage_dir: str | Path,
        *,
        max_messages: int,
        lock_timeout: float = 10.0,
    ) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        super().__init__(session_id, storage_dir, lock_timeout=lock_timeout)
        self.max_messages = max_messages

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        new = list(messages)
        if new:
            self.update(lambda current: [*current, *new][-self.max_messages :])


def list_sessions(storage_dir: str | Path) -> list[str]:
    """Exercise 2: the ids of the sessions stored in `storage_dir`, sorted.

    Only `<id>.json` files whose `<id>` is a valid session id count: lock files,
    temporary files left by a crash and foreign files are ignored. A folder that does
    not exist holds no sessions.
    """
    folder = Path(storage_dir)
    if not folder.is_dir():
        return []
    sessions = []
    for path in folder.glob("*.json"):
        if not path.is_file():
            continue
        try:
            sessions.append(validate_session_id(path.stem))
        except ValueError:
            continue
    return sorted(sessions)
