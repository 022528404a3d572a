"""Chat histories stored as one JSON file per session: the naive version and the hardened one.

Lesson 6 builds both. `NaiveFileChatMessageHistory` is the lesson's starting point and is
kept here only so that the lesson (and its child processes) can demonstrate its defects:

1. the session id becomes a file name unchecked, so `../../x` writes outside the folder;
2. it rewrites the file in place, so a crash mid-write leaves a truncated, unparseable file;
3. its read-append-write is not atomic, so concurrent writers lose each other's messages;
4. it opens files in the platform's default encoding, so non-ASCII text can fail to save.

`FileChatMessageHistory` is the version to use. Its contract:

- session ids must match `SESSION_ID_PATTERN`, else `ValueError` (see `validate_session_id`);
- every operation holds a per-session cross-process lock (`filelock`), so concurrent
  writers, in threads or processes, never lose a message;
- every write goes to a temporary file in the same folder, is flushed and fsynced, and
  replaces the old file with `os.replace`: readers and crashes only ever see the complete
  old file or the complete new one;
- files are UTF-8, whatever the platform's default encoding;
- a file that is not a valid history raises `CorruptHistoryError` naming the session and
  file, instead of a bare `JSONDecodeError`;
- `add_messages` appends all its messages in one locked read-modify-write.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from filelock import FileLock
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict

__all__ = [
    "MAX_SESSION_ID_LENGTH",
    "SESSION_ID_PATTERN",
    "CorruptHistoryError",
    "FileChatMessageHistory",
    "NaiveFileChatMessageHistory",
    "validate_session_id",
]

MAX_SESSION_ID_LENGTH = 128
# Lowercase only: on case-insensitive file systems (Windows, macOS by default) "Alex" and
# "alex" would name the same file. No dots, slashes or backslashes: no "..", no paths.
SESSION_ID_PATTERN = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_SESSION_ID_LENGTH - 1}}}")
# Names Windows reserves for devices, whatever the extension ("nul.json" is the NUL device).
_WINDOWS_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(10)}
)


class NaiveFileChatMessageHistory(BaseChatMessageHistory):
    """Lesson 6's starting point: a JSON file per session. Do not use it.

    It works in a single-user demo and fails in the four ways listed in this module's
    docstring; the lesson runs each failure for real. Kept deliberately unchanged.
    """

    def __init__(self, session_id: str, storage_dir: str | Path) -> None:
        self.path = Path(storage_dir) / f"{session_id}.json"

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        if not self.path.exists():
            return []
        with open(self.path) as file:
            return messages_from_dict(json.load(file))

    def add_message(self, message: BaseMessage) -> None:
        messages = self.messages
        messages.append(message)
        with open(self.path, "w") as file:
            json.dump(messages_to_dict(messages), file, ensure_ascii=False, indent=2)

    def clear(self) -> None:
        with open(self.path, "w") as file:
            json.dump([], file)


class CorruptHistoryError(ValueError):
    """A history file exists but does not hold a valid list of messages.

    `path` is the offending file. Nothing is overwritten: move the file aside (or
    restore it from a backup) to continue that session.
    """

    def __init__(self, session_id: str, path: Path, reason: str) -> None:
        super().__init__(
            f"the history of session {session_id!r} ({path.name}) is corrupt: {reason}. "
            "Move the file aside or restore it from a backup."
        )
        self.session_id = session_id
        self.path = path


def validate_session_id(session_id: object) -> str:
    """Return `session_id` if it is safe to use as a file name, else raise `ValueError`.

    Allowed: 1 to `MAX_SESSION_ID_LENGTH` characters from `a-z`, `0-9`, `-` and `_`,
    starting with a letter or digit, and not a Windows device name (`con`, `nul`, ...).
    So `..`, absolute paths, `/`, `\\`, NUL bytes, upper case and over-long ids are
    all rejected. UUIDs in their usual lowercase form are accepted.
    """
    if not isinstance(session_id, str):
        raise ValueError(f"session id must be a str, not {type(session_id).__name__}")
    shown = repr(session_id if len(session_id) <= 40 else session_id[:40] + "...")
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise ValueError(
            f"session id {shown} is {len(session_id)} characters long; "
            f"the limit is {MAX_SESSION_ID_LENGTH}"
        )
    if not SESSION_ID_PATTERN.fullmatch(session_id):
        raise ValueError(
            f"session id {shown} is not allowed: use 1-{MAX_SESSION_ID_LENGTH} characters "
            "from a-z, 0-9, '-' and '_', starting with a letter or digit"
        )
    if session_id in _WINDOWS_DEVICE_NAMES:
        raise ValueError(f"session id {shown} is a reserved device name on Windows")
    return session_id


def _fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX only; Windows cannot open directories)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class FileChatMessageHistory(BaseChatMessageHistory):
    """A chat history in `<storage_dir>/<session_id>.json`, safe across processes.

    See the module docstring for the full contract. `lock_timeout` is how long an
    operation waits for another process holding the same session; after that it
    raises `filelock.Timeout` (a `TimeoutError`). Files are created with mode 0600
    (chat histories are private). A crash may leave a `.<session>.json.*.tmp` file
    behind; it is never read and is safe to delete.
    """

    def __init__(
        self, session_id: str, storage_dir: str | Path, *, lock_timeout: float = 10.0
    ) -> None:
        self.session_id = validate_session_id(session_id)
        self.storage_dir = Path(storage_dir)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.storage_dir / f"{session_id}.json"
        # Poll often: operations hold the lock for milliseconds, not the default 50 ms.
        self._lock = FileLock(
            self.storage_dir / f"{session_id}.json.lock", timeout=lock_timeout, poll_interval=0.002
        )

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        """All messages of the session, oldest first (empty if the file does not exist)."""
        with self._lock:
            return self._read()

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append `messages` in one locked read-modify-write: all of them or none."""
        new = list(messages)
        if new:
            self.update(lambda current: [*current, *new])

    def clear(self) -> None:
        """Remove every message of the session (the file then holds an empty list)."""
        self.update(lambda current: [])

    def update(
        self, change: Callable[[list[BaseMessage]], Sequence[BaseMessage]]
    ) -> list[BaseMessage]:
        """Replace the messages with `change(current messages)`, atomically; return them.

        The lock is held from the read to the replace, so no other writer can slip in
        between. If `change` or the write raises, the file keeps its previous content.
        """
        with self._lock:
            updated = list(change(self._read()))
            self._write(updated)
            return updated

    def _read(self) -> list[BaseMessage]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except UnicodeDecodeError as error:
            raise CorruptHistoryError(self.session_id, self.path, "not UTF-8 text") from error
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CorruptHistoryError(
                self.session_id, self.path, f"invalid JSON ({error})"
            ) from error
        if not isinstance(data, list):
            raise CorruptHistoryError(
                self.session_id, self.path, f"expected a JSON list, found {type(data).__name__}"
            )
        try:
            return messages_from_dict(data)
        except (KeyError, TypeError, ValueError) as error:
            raise CorruptHistoryError(
                self.session_id, self.path, f"not a list of messages ({error!r})"
            ) from error

    def _write(self, messages: list[BaseMessage]) -> None:
        # Serialise before touching the disk: an error here leaves every file as it was.
        # One message per line keeps the file readable and uses the fast C encoder.
        lines = [json.dumps(item, ensure_ascii=False) for item in messages_to_dict(messages)]
        text = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
        descriptor, temporary = tempfile.mkstemp(
            dir=self.storage_dir, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(self.storage_dir)
