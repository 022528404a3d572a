# BEGIN SOLUTION NO PROMPT
"""Lesson 6 · worked solutions: a bounded file history, and listing the stored sessions."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 6 · Your turn: a bounded file history, and listing the stored sessions.
#
# Write the two exercises of notebook 6's "Your turn" here, then check them from the
# notebook's check cell or with `python -m grading check lesson_06`.
# """
# END PROMPT

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from langchain_core.messages import BaseMessage

from memory_course.file_history import FileChatMessageHistory, validate_session_id

__all__ = ["BoundedFileChatMessageHistory", "list_sessions"]


class BoundedFileChatMessageHistory(FileChatMessageHistory):
    """Exercise 1: a file history that keeps only the newest `max_messages` messages.

    - `max_messages` below 1 raises `ValueError`; session ids are validated as in
      `FileChatMessageHistory` (`ValueError` for `"../x"`).
    - After `add_messages`, the session file holds the newest `max_messages` of all its
      messages, oldest first: the limit counts the messages already in the file (also
      those another history object wrote), and a batch larger than the limit keeps its
      newest messages.
    - Appending and trimming are one locked read-modify-write (`update`), so concurrent
      writers (threads or processes) neither lose messages nor leave more than the limit.
    - Every write is atomic: if it fails part-way (a full disk, a message JSON cannot
      store), `add_messages` raises and the file keeps exactly the messages it held
      before. Never rewrite the session file in place.
    """

    def __init__(
        self,
        session_id: str,
        storage_dir: str | Path,
        *,
        max_messages: int,
        lock_timeout: float = 10.0,
    ) -> None:
        # BEGIN SOLUTION
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        super().__init__(session_id, storage_dir, lock_timeout=lock_timeout)
        self.max_messages = max_messages
        # END SOLUTION

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        # BEGIN SOLUTION
        new = list(messages)
        if new:
            self.update(lambda current: [*current, *new][-self.max_messages :])
        # END SOLUTION


def list_sessions(storage_dir: str | Path) -> list[str]:
    """Exercise 2: the ids of the sessions stored in `storage_dir`, sorted.

    `storage_dir` is a `str` or a `Path`. Only regular files named `<id>.json` whose
    `<id>` is a valid session id (`validate_session_id`) count: lock files
    (`<id>.json.lock`), temporary files left by a crash (`.<id>.json.*.tmp`), folders
    and foreign files (`Notes.json`, `readme.txt`, `con.json`) are ignored. A folder
    that does not exist holds no sessions (`[]`).
    """
    # BEGIN SOLUTION
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
    # END SOLUTION
