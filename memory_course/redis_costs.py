"""What one chat turn and one session listing cost in Redis, per storage design.

Lesson 10 compares storage designs, each but the last behind the same
`RunnableWithMessageHistory` prompt (system + history + input) and the same offline
model:

* `lesson`: the lesson's first, naive JSON-blob history
  (`memory_course.naive_redis_history`), the baseline;
* `community`: langchain-community's `RedisChatMessageHistory` (one `LPUSH` and one
  `EXPIRE` per message);
* `service`: lesson 10's own `memory_course.chat_service.RedisSessionHistory` (one
  `LRANGE`, then one `MULTI`/`EXEC` that appends and resets the TTL);
* `reference`: a capstone `ChatApplication` (one pipelined read, one `MULTI`/`EXEC`).
  It also updates session metadata and user indexes each turn; the others store the
  history only.

This package never imports the capstone's reference solution. Whoever wants its rows
passes the module in as `reference=` (anything with `ChatApplication` and
`LimitedRedisChatHistory`, as `solutions.chat_application` has; `make bench` does so);
without it the tables have no `reference` rows.

Round trips and bytes sent are counted with `memory_course.redis_metrics.measure`;
there are no timings, so on a fresh fakeredis client the tables are the same on every
run:

    import fakeredis
    from memory_course.redis_costs import round_trip_table

    rows = round_trip_table(fakeredis.FakeRedis(server=fakeredis.FakeServer()))
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import naive_redis_history
from memory_course.chat_service import RedisSessionHistory
from memory_course.deprecations import silence_known_deprecations
from memory_course.offline.offline_model import OfflineChatModel
from memory_course.redis_metrics import measure

__all__ = [
    "HISTORY_LENGTHS",
    "IMPLEMENTATIONS",
    "SESSION_COUNTS",
    "Contender",
    "filler",
    "list_sessions_table",
    "round_trip_table",
]

IMPLEMENTATIONS = ("lesson", "community", "service", "reference")
HISTORY_LENGTHS = (10, 50, 500)
SESSION_COUNTS = (1, 10, 100)
UNTRIMMED = 100_000  # max_messages large enough that nothing is ever trimmed
STEADY_HISTORY = 50  # the default max_messages
SYSTEM_PROMPT = "You are a helpful assistant."
QUESTION = "What did I say first?"
USER = "bench-user"
HISTORY_TTL = 3600  # seconds: the TTL of the `community` and `service` histories


def _implementations(reference: Any) -> tuple[str, ...]:
    """`IMPLEMENTATIONS`, without `reference` when no reference module is passed in."""
    if reference is not None:
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
    `max_messages` bounds what `lesson` and `reference` keep; `community` and `service`
    keep every message in Redis. `"reference"` needs the module passed as `reference`
    (anything with `ChatApplication` and `LimitedRedisChatHistory`) and raises
    `ValueError` without one; the other names ignore it.
    """

    def __init__(
        self, name: str, client: Any, prefix: str, max_messages: int, reference: Any = None
    ) -> None:
        self.name = name
        self.client = client
        self.prefix = f"{prefix}{name}:"
        self.max_messages = max_messages
        if name == "reference":
            if reference is None:
                raise ValueError(
                    'Contender("reference", ...) needs the reference module: pass '
                    "reference=<a module with ChatApplication and LimitedRedisChatHistory>"
                )
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
            self.history = lambda session_id: community(
                session_id, client, self.prefix, HISTORY_TTL
            )
        elif name == "service":
            self.history = lambda session_id: RedisSessionHistory(
                client, f"{self.prefix}{session_id}", HISTORY_TTL
            )
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


def round_trip_table(
    client: Any, *, key_prefix: str = "bench:", reference: Any = None
) -> list[dict[str, Any]]:
    """Round trips and bytes sent by one chat turn, per implementation and history length.

    Counts only, no timings: on a fresh fakeredis client the rows are the same on
    every run. Each turn runs on a session already holding `history_length` messages
    (never trimmed). Returns one dict per row with keys `implementation`,
    `history_length`, `round_trips`, `bytes_sent`, in the order of `IMPLEMENTATIONS`.
    The `reference` rows come last, and only when a reference module is passed in.
    """
    silence_known_deprecations()
    rows = []
    for name in _implementations(reference):
        contender = Contender(name, client, key_prefix, UNTRIMMED, reference)
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


def list_sessions_table(
    client: Any, *, key_prefix: str = "bench:", reference: Any = None
) -> list[dict[str, Any]]:
    """`list_sessions` round trips for 1, 10 and 100 sessions, lesson vs reference.

    Then half of the sessions expire (their keys are deleted, as expiry does) and the
    listing runs again: `stale_ids_left` counts the ids of expired sessions still
    stored in the user's index afterwards. Deterministic on a fresh fakeredis client.
    Only `lesson` and `reference` keep an index of a user's sessions; the `reference`
    rows are there only when a reference module is passed in.
    """
    silence_known_deprecations()
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
        prefix = f"{key_prefix}reference:"
        for session_id in expired:  # as expiry does, whatever the reference names its keys
            client.delete(*client.scan_iter(match=f"{prefix}*{session_id}*", count=1000))
        app.list_sessions(user)
        stale = _ids_still_indexed(client, prefix, expired)
        rows.append(
            {
                "implementation": "reference",
                "sessions": count,
                "round_trips": metrics.round_trips,
                "stale_ids_left": stale,
            }
        )
    return rows


def _ids_still_indexed(client: Any, prefix: str, session_ids: list[str]) -> int:
    """How many of `session_ids` some sorted set under `prefix` still holds (an index)."""
    keys = client.scan_iter(match=f"{prefix}*", count=1000)
    indexes = [key for key in keys if client.type(key) in (b"zset", "zset")]
    return sum(
        1
        for session_id in session_ids
        if any(client.zscore(index, session_id) is not None for index in indexes)
    )
