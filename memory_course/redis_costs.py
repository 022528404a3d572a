"""What one chat turn and one session listing cost in Redis, per storage design.

Lesson 10 compares three designs, each behind the same `RunnableWithMessageHistory`
prompt (system + history + input) and the same offline model:

* `lesson`: the lesson's first, naive JSON-blob history
  (`memory_course.naive_redis_history`), the baseline;
* `community`: langchain-community's `RedisChatMessageHistory` (one `LPUSH` and one
  `EXPIRE` per message);
* `reference`: the capstone's reference `ChatApplication` (one pipelined read, one
  `MULTI`/`EXEC`). It also updates session metadata and user indexes each turn; the
  other two store the history only.

Round trips and bytes sent are counted with `memory_course.redis_metrics.measure`;
there are no timings, so on a fresh fakeredis client the tables are the same on every
run:

    import fakeredis
    from memory_course.redis_costs import round_trip_table

    rows = round_trip_table(fakeredis.FakeRedis(server=fakeredis.FakeServer()))

The reference solution is withheld in the student copy of the course: there
`reference_available()` is False and both tables simply omit the reference rows
(lesson 12 is where you write your own).
"""

from __future__ import annotations

import importlib
import importlib.util
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import naive_redis_history
from memory_course.deprecations import silence_known_deprecations
from memory_course.offline.offline_model import OfflineChatModel
from memory_course.redis_metrics import measure

__all__ = [
    "HISTORY_LENGTHS",
    "IMPLEMENTATIONS",
    "SESSION_COUNTS",
    "Contender",
    "available_implementations",
    "filler",
    "list_sessions_table",
    "reference_available",
    "round_trip_table",
]

IMPLEMENTATIONS = ("lesson", "community", "reference")
HISTORY_LENGTHS = (10, 50, 500)
SESSION_COUNTS = (1, 10, 100)
UNTRIMMED = 100_000  # max_messages large enough that nothing is ever trimmed
STEADY_HISTORY = 50  # the default max_messages
SYSTEM_PROMPT = "You are a helpful assistant."
QUESTION = "What did I say first?"
USER = "bench-user"

_REFERENCE = "solutions.chat_application"


def _reference_module() -> ModuleType | None:
    """The reference solution's module, or None where it is withheld (student copy)."""
    if importlib.util.find_spec("solutions") is None:
        return None
    if importlib.util.find_spec(_REFERENCE) is None:
        return None
    return importlib.import_module(_REFERENCE)


def reference_available() -> bool:
    """Whether the reference solution is importable (it is withheld in the student copy)."""
    return _reference_module() is not None


def available_implementations() -> tuple[str, ...]:
    """`IMPLEMENTATIONS`, without `reference` where the reference solution is withheld."""
    if reference_available():
        return IMPLEMENTATIONS
    return tuple(name for name in IMPLEMENTATIONS if name != "reference")


def filler(count: int) -> list[BaseMessage]:
    """`count` realistic, deterministic messages: questions and answers in turn."""
    messages: list[BaseMessage] = []
    for index in range(count):
        if index % 2 == 0:
            messages.append(HumanMessage(f"Question {index}: what do you know about item {index}?"))
        else:
            messages.append(
                AIMessage(
                    f"Item {index - 1} is one of the things we discussed. It has a name, "
                    "a colour and a size, and I can tell you more if you ask."
                )
            )
    return messages


def _community_history_class() -> type:
    from langchain_community.chat_message_histories import RedisChatMessageHistory

    class CommunityHistory(RedisChatMessageHistory):
        """langchain-community's history on a client we pass in.

        Its own constructor only takes a URL and opens a connection of its own; every
        read and write below is the unchanged library code.
        """

        def __init__(self, session_id: str, redis_client: Any, key_prefix: str, ttl: int):
            self.redis_client = redis_client
            self.session_id = session_id
            self.key_prefix = key_prefix
            self.ttl = ttl

    return CommunityHistory


class Contender:
    """One way of storing history, with the four operations a measurement needs.

    `name` is one of `IMPLEMENTATIONS`; every key lives under `{prefix}{name}:`.
    `reference` raises `LookupError` where the reference solution is withheld.
    """

    def __init__(self, name: str, client: Any, prefix: str, max_messages: int) -> None:
        self.name = name
        self.client = client
        self.prefix = f"{prefix}{name}:"
        self.max_messages = max_messages
        if name == "reference":
            reference = _reference_module()
            if reference is None:
                raise LookupError("the reference solution is withheld in the student copy")
            self._reference_history = reference.LimitedRedisChatHistory
            self.app = reference.ChatApplication(
                redis_client=client,
                llm=OfflineChatModel(),
                max_messages=max_messages,
                system_prompt=SYSTEM_PROMPT,
                key_prefix=self.prefix,
            )
            return
        if name == "lesson":
            self.history: Callable[[str], Any] = lambda session_id: (
                naive_redis_history.LimitedRedisChatHistory(
                    session_id, client, max_messages=max_messages, key_prefix=self.prefix
                )
            )
        elif name == "community":
            community = _community_history_class()
            self.history = lambda session_id: community(session_id, client, self.prefix, 3600)
        else:
            raise ValueError(f"unknown implementation {name!r}")
        prompt = ChatPromptTemplate.from_messages(
            [SystemMessage(SYSTEM_PROMPT), MessagesPlaceholder("history"), ("human", "{input}")]
        )
        self.chain = RunnableWithMessageHistory(
            prompt | OfflineChatModel(),
            self.history,
            input_messages_key="input",
            history_messages_key="history",
        )

    def new_session(self) -> str:
        if self.name == "reference":
            return self.app.create_session(USER)
        return str(uuid.uuid4())

    def fill(self, session_id: str, count: int) -> None:
        """Store `count` filler messages in the session, without a chat turn."""
        if not count:
            return
        if self.name == "reference":
            history = self._reference_history(
                session_id, self.client, max_messages=self.max_messages, key_prefix=self.prefix
            )
            history.add_messages(filler(count))
        else:
            self.history(session_id).add_messages(filler(count))

    def chat(self, session_id: str, message: str) -> str:
        if self.name == "reference":
            return self.app.chat(session_id, message)
        config: RunnableConfig = {"configurable": {"session_id": session_id}}
        return self.chain.invoke({"input": message}, config=config).text

    def stored(self, session_id: str) -> int:
        """How many messages the session holds now."""
        if self.name == "reference":
            return self.app.get_session_info(session_id).message_count
        return len(self.history(session_id).messages)


def round_trip_table(client: Any, *, key_prefix: str = "bench:") -> list[dict[str, Any]]:
    """Round trips and bytes sent by one chat turn, per implementation and history length.

    Counts only, no timings: on a fresh fakeredis client the rows are the same on
    every run. Each turn runs on a session already holding `history_length` messages
    (never trimmed). Returns one dict per row with keys `implementation`,
    `history_length`, `round_trips`, `bytes_sent`. The reference solution is withheld
    in the student copy; there the `reference` rows are omitted.
    """
    silence_known_deprecations()
    rows = []
    for name in available_implementations():
        contender = Contender(name, client, key_prefix, UNTRIMMED)
        for length in HISTORY_LENGTHS:
            session_id = contender.new_session()
            contender.fill(session_id, length)
            client.ping()  # the connection is open before counting starts
            with measure(client) as metrics:
                contender.chat(session_id, QUESTION)
            rows.append(
                {
                    "implementation": name,
                    "history_length": length,
                    "round_trips": metrics.round_trips,
                    "bytes_sent": metrics.bytes_sent,
                }
            )
    return rows


def list_sessions_table(client: Any, *, key_prefix: str = "bench:") -> list[dict[str, Any]]:
    """`list_sessions` round trips for 1, 10 and 100 sessions, lesson vs reference.

    Then half of the sessions expire (their keys are deleted, as expiry does) and the
    listing runs again: `stale_ids_left` counts the ids of expired sessions still
    stored in the user's index afterwards. Deterministic on a fresh fakeredis client.
    The reference solution is withheld in the student copy; there the `reference`
    rows are omitted.
    """
    silence_known_deprecations()
    reference = _reference_module()
    rows = []
    for count in SESSION_COUNTS:
        user = f"{USER}-{count}"
        prefix = f"{key_prefix}lesson:"
        ids = [
            naive_redis_history.create_session(client, user, key_prefix=prefix)
            for _ in range(count)
        ]
        with measure(client) as metrics:
            listed = naive_redis_history.list_sessions(client, user, key_prefix=prefix)
        assert len(listed) == count
        expired = ids[: count // 2]
        for session_id in expired:
            client.delete(f"{prefix}session:{session_id}")
        naive_redis_history.list_sessions(client, user, key_prefix=prefix)
        index = f"{prefix}user:{user}:sessions"
        stale = sum(1 for s in expired if client.sismember(index, s))
        rows.append(
            {
                "implementation": "lesson",
                "sessions": count,
                "round_trips": metrics.round_trips,
                "stale_ids_left": stale,
            }
        )
        if reference is None:
            continue

        app = reference.ChatApplication(
            redis_client=client, llm=OfflineChatModel(), key_prefix=f"{key_prefix}reference:"
        )
        ids = [app.create_session(user) for _ in range(count)]
        with measure(client) as metrics:
            listed = app.list_sessions(user)
        assert len(listed) == count
        expired = ids[: count // 2]
        for session_id in expired:
            client.delete(f"{key_prefix}reference:{session_id}:info")
        app.list_sessions(user)
        index = f"{key_prefix}reference:user:{user}:sessions"
        stale = sum(1 for s in expired if client.zscore(index, s) is not None)
        rows.append(
            {
                "implementation": "reference",
                "sessions": count,
                "round_trips": metrics.round_trips,
                "stale_ids_left": stale,
            }
        )
    return rows
