"""Lesson 6's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_06` is imported, and imports it by that name.
Each scene works in a folder of its own under the process's private /tmp. What a
history holds is read back twice: through the student's object, and from the file by
the course's plain `FileChatMessageHistory`, which trusts nothing the submission keeps
in memory. Every method returns plain values (lists of `[type, content]` pairs, ids,
exception names); verdicts are the grader's.
"""

import contextlib
import os
import resource
import signal
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import lesson_06 as submission  # the student's module, imported first by the grader
from langchain_core.messages import AIMessage, HumanMessage

from memory_course.file_history import FileChatMessageHistory

ROLES = {"human": HumanMessage, "ai": AIMessage}


def _pairs(messages):
    return [[message.type, message.content] for message in messages]


def _error_name(call):
    """The class name of what `call()` raised, or None if it returned."""
    try:
        call()
    except Exception as exc:
        return type(exc).__name__
    return None


class HistoryScene:
    """`BoundedFileChatMessageHistory` objects of the student, one per session id."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="lesson06-"))
        self.histories = {}

    def make(self, session_id, max_messages):
        self.histories[session_id] = submission.BoundedFileChatMessageHistory(
            session_id, self.folder, max_messages=max_messages
        )

    def add(self, session_id, pairs):
        """`pairs` is a list of `[role, text]`, role "human" or "ai"."""
        messages = [ROLES[role](text) for role, text in pairs]
        self.histories[session_id].add_messages(messages)

    def messages(self, session_id):
        """What the student's object reads."""
        return _pairs(self.histories[session_id].messages)

    def on_disk(self, session_id):
        """What the file holds, read by the course's plain file history."""
        try:
            return _pairs(FileChatMessageHistory(session_id, self.folder).messages)
        except Exception as exc:
            return f"unreadable: {type(exc).__name__}: {exc}"

    def seed(self, session_id, count):
        """`count` messages written by a plain `FileChatMessageHistory`, not the student's."""
        FileChatMessageHistory(session_id, self.folder).add_messages(
            [HumanMessage(f"earlier {n}") for n in range(count)]
        )

    def add_when_disk_full(self, session_id, pairs, room=100):
        """Add `pairs` while files may grow only `room` bytes past the session file's
        current size: the write fails part-way, as on a full disk. Returns the name of
        the exception `add_messages` raised (None if it raised nothing)."""
        path = self.folder / f"{session_id}.json"
        size = path.stat().st_size if path.exists() else 0
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        # Past the limit a write fails with EFBIG instead of the signal killing the process.
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + room, hard))
        try:
            return _error_name(lambda: self.add(session_id, pairs))
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    def add_unstorable(self, session_id, text):
        """Add one message JSON cannot store (a datetime among its extra fields)."""
        message = HumanMessage(
            text, additional_kwargs={"sent_at": datetime(2025, 1, 1, tzinfo=UTC)}
        )
        return _error_name(lambda: self.histories[session_id].add_messages([message]))

    def add_in_parallel(self, session_id, max_messages, threads, each):
        """`threads` threads, each with its own history object on the same file, add
        `each` messages `"<thread>:<n>"` one at a time, all starting together."""
        barrier = threading.Barrier(threads)
        errors = []

        def worker(number):
            history = submission.BoundedFileChatMessageHistory(
                session_id, self.folder, max_messages=max_messages
            )
            barrier.wait()
            for n in range(each):
                try:
                    history.add_messages([HumanMessage(f"{number}:{n}")])
                except Exception as exc:  # reported, not raised: the file is the verdict
                    errors.append(type(exc).__name__)

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        return errors[:5]


class ListingScene:
    """A folder of stored sessions and other files, for `list_sessions`."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="lesson06-"))

    def store(self, session_ids):
        """Save one message in each session with the course's file history."""
        for session_id in session_ids:
            FileChatMessageHistory(session_id, self.folder).add_messages([HumanMessage("hi")])

    def write(self, name, text=""):
        (self.folder / name).write_text(text, encoding="utf-8")

    def make_folder(self, name):
        (self.folder / name).mkdir()

    def files(self):
        return sorted(os.listdir(self.folder))

    def list_sessions(self, as_text=False):
        return submission.list_sessions(str(self.folder) if as_text else self.folder)

    def list_missing(self):
        return submission.list_sessions(self.folder / "nothing-here")
