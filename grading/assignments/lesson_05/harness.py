"""Lesson 5's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_05` is imported, and imports it by that name.
Every method returns plain values (UUID strings, counts, messages); verdicts are the
grader's. Histories are the harness's own: in memory (recording every write the
student's code makes) or SQLite files in the process's private /tmp, read back through
a fresh history object, so what is reported is what was stored.
"""

import tempfile
from pathlib import Path

import lesson_05 as submission  # the student's module, imported first by the grader
from langchain_core.chat_history import InMemoryChatMessageHistory
from pydantic import Field


class UuidScene:
    """`pair_session_uuid`, one pair or many per request."""

    def uuid(self, user_id, conversation_id):
        return submission.pair_session_uuid(user_id, conversation_id)

    def uuids(self, pairs):
        return [submission.pair_session_uuid(user, conversation) for user, conversation in pairs]


class RecordingHistory(InMemoryChatMessageHistory):
    """An in-memory history that records its writes: `[n]` for one `add_messages` of n
    messages, `"add_message"` for each single message added."""

    writes: list = Field(default_factory=list)

    def add_messages(self, messages):
        messages = list(messages)
        self.writes.append(len(messages))
        self.messages.extend(messages)

    def add_message(self, message):
        self.writes.append("add_message")
        self.messages.append(message)


class CopyScene:
    """Histories by kind ("memory" or "sqlite") and name, and `copy_history` between them.

    A "memory" history is one object per name, kept for the whole scene. A "sqlite"
    history is a new `SQLChatMessageHistory` on one SQLite file each time it is used,
    so reading one shows what the database holds.
    """

    def __init__(self):
        self.memory = {}
        self.engine = None

    def _sqlite(self, name):
        from langchain_community.chat_message_histories import SQLChatMessageHistory
        from sqlalchemy import create_engine

        if self.engine is None:
            folder = tempfile.mkdtemp(prefix="lesson05-")
            self.engine = create_engine(f"sqlite:///{Path(folder, 'chat.db')}")
        return SQLChatMessageHistory(session_id=name, connection=self.engine)

    def _history(self, kind, name):
        if kind == "memory":
            if name not in self.memory:
                self.memory[name] = RecordingHistory()
            return self.memory[name]
        if kind == "sqlite":
            return self._sqlite(name)
        raise ValueError(f"unknown history kind {kind!r}")

    def seed(self, kind, name, messages):
        """Store `messages` in the history (the harness's own write, not recorded)."""
        history = self._history(kind, name)
        if isinstance(history, RecordingHistory):
            history.messages.extend(messages)
        else:
            history.add_messages(messages)

    def copy(self, source, target, **options):
        """`copy_history` from one `[kind, name]` to another; what it returned."""
        return submission.copy_history(self._history(*source), self._history(*target), **options)

    def messages(self, kind, name):
        return list(self._history(kind, name).messages)

    def writes(self, name):
        """What `copy_history` wrote to the memory history `name`, call by call."""
        return list(self.memory[name].writes)
