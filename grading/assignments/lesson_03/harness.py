"""Lesson 3's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_03` is imported, and imports it by that name.
Every method returns plain values (ids, counts, status pairs); verdicts are the
grader's. The model of `RespondScene` is the grader's fake model, so the prompts it
received are observed by the grader itself.
"""

import itertools
import threading

import lesson_03 as submission  # the student's module, imported first by the grader
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course.clock import ManualClock
from memory_course.sessions import MultiSessionManager


class LimitScene:
    """A `LimitedSessionManager` on a manual clock, with ids s1, s2, ... in order."""

    def __init__(self, limit):
        self.clock = ManualClock()
        counter = itertools.count(1)
        self.manager = submission.LimitedSessionManager(
            clock=self.clock,
            id_factory=lambda: f"s{next(counter)}",
            max_sessions_per_user=limit,
        )

    def create(self, user_id):
        self.clock.advance(1)
        return self.manager.create_session(user_id).session_id

    def use(self, user_id, session_id):
        """Fetch the session's history (marks it used) and add one message to it."""
        self.clock.advance(1)
        self.manager.get_history(user_id, session_id).add_user_message(f"in {session_id}")

    def sessions(self, user_id):
        return sorted(info.session_id for info in self.manager.list_sessions(user_id))

    def evicted(self):
        return [info.session_id for info in self.manager.evicted]

    def exists(self, session_id):
        return session_id in self.manager

    def message_counts(self):
        """Messages in each history the manager ever made, evicted ones included."""
        return {sid: len(history.messages) for sid, history in self._all_histories.items()}

    def track_histories(self):
        """Remember every history created from now on (to see eviction clear it)."""
        self._all_histories = {}
        make = self.manager._history_factory

        def remember(session_id):
            history = make(session_id)
            self._all_histories[session_id] = history
            return history

        self.manager._history_factory = remember

    def create_in_parallel(self, user_id, threads, each):
        """`threads` threads create `each` sessions at once; how many exist afterwards."""
        barrier = threading.Barrier(threads)
        errors = []

        def worker():
            barrier.wait()
            for _ in range(each):
                try:
                    self.manager.create_session(user_id)
                except Exception as exc:  # reported, not raised: the count is the verdict
                    errors.append(type(exc).__name__)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        return {
            "sessions": len(self.manager.list_sessions(user_id)),
            "evicted": len(self.manager.evicted),
            "errors": errors[:5],
        }


class RespondScene:
    """A plain `MultiSessionManager` and a chat on the grader's model, for `respond`."""

    def __init__(self, llm):
        counter = itertools.count(1)
        self.manager = MultiSessionManager(
            clock=ManualClock(), id_factory=lambda: f"s{next(counter)}"
        )
        prompt = ChatPromptTemplate.from_messages(
            [("system", "Be helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
        )
        self.chat = RunnableWithMessageHistory(
            prompt | llm,
            self.manager.session_history,
            input_messages_key="input",
            history_messages_key="history",
        )

    def create(self, user_id):
        return self.manager.create_session(user_id).session_id

    def respond(self, user_id, session_id, text):
        status, body = submission.respond(self.manager, self.chat, user_id, session_id, text)
        return [status, body]

    def delete(self, user_id, session_id):
        self.manager.delete_session(user_id, session_id)

    def not_found(self):
        return list(submission.NOT_FOUND)

    def message_count(self, session_id):
        return len(self.manager._histories[session_id].messages)

    def last_active(self, session_id):
        return self.manager._info[session_id].last_active
