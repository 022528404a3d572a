"""Lesson 8's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_08` is imported, and imports it by that name.
Every store is the grader's fake Redis, reached through the client the grader injects,
so what ends up stored is observed by the grader itself (`redis_store.dump()`).

A lost reply is a real one for redis-py: a `UnixReplyLosingConnection` (the course's
`memory_course.offline.lost_replies`) lets a command reach the fake Redis and run, reads
its reply, then drops the connection and raises the `ConnectionError` redis-py raises
when a server hangs up. The same hook lets
a second caller in at a chosen moment, so a race between two callers with the same
token happens every time, in the same order. Every scene returns plain values (texts,
counts, outcomes); verdicts are the grader's.
"""

import lesson_08 as submission  # the student's module, imported first by the grader
import redis
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage
from redis.backoff import NoBackoff
from redis.retry import Retry

from memory_course.offline.lost_replies import LoseNext, UnixReplyLosingConnection
from memory_course.resilient_history import IdempotentRedisChatMessageHistory

SESSION = "s1"  # the history of RetryScene lives in the list "chat:s1"


def _client_like(client, after_reply=None):
    """A client of the same server as `client` (decoded replies) that fails at once.

    No hidden retries (redis-py's default would re-send a command itself); with
    `after_reply`, its connections lose the replies it picks.
    """
    options = {
        "path": client.connection_pool.connection_kwargs["path"],
        "decode_responses": True,
        "socket_timeout": 3,
        "retry": Retry(NoBackoff(), 0),
    }
    if after_reply is None:
        pool = redis.ConnectionPool(connection_class=redis.UnixDomainSocketConnection, **options)
    else:
        pool = redis.ConnectionPool(
            connection_class=UnixReplyLosingConnection, after_reply=after_reply, **options
        )
    return redis.Redis(connection_pool=pool)


def _turn(texts):
    """Messages alternating user, assistant: `texts[0]` is the user's."""
    kinds = (HumanMessage, AIMessage)
    return [kinds[i % 2](text) for i, text in enumerate(texts)]


class RetryScene:
    """The student's history around `IdempotentRedisChatMessageHistory("s1")` on the
    fake Redis, whose client loses the next `lose` replies (see `lose`)."""

    def __init__(self, redis, attempts=3, lose=0):
        self._lose = LoseNext(lose)
        store = IdempotentRedisChatMessageHistory(SESSION, _client_like(redis, self._lose))
        self.history = submission.RetryingChatMessageHistory(
            store, attempts=attempts, wait_seconds=0
        )

    def lose(self, count):
        """The client loses the next `count` replies (after Redis has acted)."""
        self._lose.count = count

    def add(self, *texts):
        self.history.add_messages(_turn(texts))

    def contents(self):
        return [message.content for message in self.history.messages]

    def clear(self):
        self.history.clear()

    def last_attempts(self):
        return self.history.last_attempts


_ERRORS = {
    "ConnectionError": lambda: redis.ConnectionError("Connection reset by peer"),
    "TimeoutError": lambda: redis.TimeoutError("Timeout reading from socket"),
    "ResponseError": lambda: redis.ResponseError("WRONGTYPE Operation against a key"),
    "ValueError": lambda: ValueError("a stored message is not valid JSON"),
}


class _ScriptedHistory(BaseChatMessageHistory):
    """An in-memory history whose next calls raise the errors named in `failures`."""

    def __init__(self, failures):
        self.failures = list(failures)
        self.calls = 0
        self.inner = InMemoryChatMessageHistory()

    def _step(self):
        self.calls += 1
        if self.failures:
            raise _ERRORS[self.failures.pop(0)]()

    @property
    def messages(self):
        self._step()
        return self.inner.messages

    def add_messages(self, messages):
        self._step()
        self.inner.add_messages(messages)

    def clear(self):
        self._step()
        self.inner.clear()


class ScriptedScene:
    """The student's history around a history whose next calls fail as scripted."""

    def __init__(self, failures, attempts=3):
        self.inner = _ScriptedHistory(failures)
        self.history = submission.RetryingChatMessageHistory(
            self.inner, attempts=attempts, wait_seconds=0
        )

    def add(self, *texts):
        self.history.add_messages(_turn(texts))

    def contents(self):
        return [message.content for message in self.history.messages]

    def calls(self):
        """How many times the wrapped history was called."""
        return self.inner.calls

    def last_attempts(self):
        return self.history.last_attempts


class AppendScene:
    """`append_once` on the fake Redis, called plainly, after a lost reply, or in a race."""

    def __init__(self, redis):
        self.redis = redis
        self.plain = _client_like(redis)

    def append(self, key, token, value, ttl_seconds=None):
        options = {} if ttl_seconds is None else {"ttl_seconds": ttl_seconds}
        return submission.append_once(self.redis, key, token, value, **options)

    def _state(self, key):
        return self.plain.dbsize(), self.plain.llen(key)

    def append_losing_a_reply(self, key, token, value):
        """The reply read right after Redis changed (a key written, the list grown) is
        lost; a call that raises `ConnectionError` is retried once, as a caller would.

        Returns what each call returned (or "ConnectionError"), and whether a reply was
        lost at all.
        """
        before = self._state(key)
        lost = []

        def after_reply():
            if lost or self._state(key) == before:
                return False
            lost.append(True)
            return True

        client = _client_like(self.redis, after_reply)
        outcomes = []
        for _ in range(2):
            try:
                outcomes.append(submission.append_once(client, key, token, value))
                break
            except redis.ConnectionError:
                outcomes.append("ConnectionError")
        return {"outcomes": outcomes, "lost": bool(lost)}

    def append_with_a_rival(self, key, token, value):
        """Two callers with the same token: right after the first caller's first command
        is answered, the second one runs `append_once` from start to end (on a client of
        its own); then the first one goes on. What each returned."""
        rival = {}

        def after_reply():
            if not rival:
                rival["started"] = True
                rival["returned"] = submission.append_once(self.plain, key, token, value)
            return False

        first = submission.append_once(_client_like(self.redis, after_reply), key, token, value)
        return {"first": first, "second": rival.get("returned")}
