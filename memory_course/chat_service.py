"""The chat service of lesson 10: FastAPI, Redis-backed sessions, trimming, streaming.

    app = create_app(get_chat_model(), get_redis_client())            # def endpoints
    app = create_async_app(get_chat_model(), redis.asyncio.Redis())   # async def endpoints

Both apps follow one HTTP contract (every 200 response about a session carries its id
in `X-Session-ID`):

| request                                   | result                                       |
|-------------------------------------------|----------------------------------------------|
| `POST /chat` `{"message": ...}`, no header | 200 `{"reply": ...}`, a new session          |
| `POST /chat` with `X-Session-ID: <uuid>`  | 200, the session's history reaches the model |
| `POST /chat/stream` (same rules)          | 200 `text/event-stream`: `token` events, then `done` |
| `DELETE /sessions` with `X-Session-ID`    | 204; the session's messages are gone         |
| `GET /metrics`                            | 200 JSON: sessions, history sizes, turn outcomes, swallowed callback errors |
| header not a UUID                         | 400 `{"detail": ...}`                        |
| `DELETE /sessions` without the header     | 400                                          |
| a well-formed id the server never issued, or whose TTL expired | 404            |
| empty or missing `message`                | 422 (FastAPI's validation error)             |
| the model fails, or Redis fails to read   | 503; nothing is saved                        |
| Redis fails to save the turn              | 503 "the message was not kept"; nothing is saved |
| a stream that fails (model or save)       | the stream ends with an `error` event instead of `done`; nothing is saved |
| the client leaves a stream before its end | nothing is saved; `/metrics` counts the turn as `abandoned` |

Why a failed save needs code of its own: `RunnableWithMessageHistory` saves the turn in
a listener (`with_listeners(on_end=...)`) that runs after the model answered. The
callback manager catches whatever a listener raises, logs a warning ("Error in
RootListenersTracer.on_chain_end callback: ...") and returns the reply as if all went
well. So each turn hands the chain a `CheckedHistory`, which records the outcome of its
write, and the endpoint calls `raise_if_not_saved()` before it answers. The write is one
MULTI/EXEC transaction, so a failed save stores nothing, not half a turn.

A stream the client leaves stores nothing either. On the async path the cancelled
`astream` never saves; on the sync path the service must see to it, because closing an
unfinished `chain.stream(...)` makes `RunnableWithMessageHistory` save the question and
the partial reply: the turn's history is sealed before the stream is closed.

Session ids are issued by the server (a client cannot pick one) and travel in a
header, never in the URL, so they stay out of access logs, browser history and
`Referer` headers. Each session's messages live in one Redis list whose TTL is reset
on every write (a sliding expiry). Before the model, `trim_messages` keeps the system
message and the most recent turns that fit in `max_tokens`; Redis keeps everything.

The two apps differ only in how they wait. `create_app` takes a synchronous redis-py
(or fakeredis) client and declares plain `def` endpoints, which FastAPI runs in its
thread pool. `create_async_app` takes a `redis.asyncio` (or `fakeredis.FakeAsyncRedis`)
client and declares `async def` endpoints that `await` the chain's `ainvoke`/`astream`
on the event loop. `RunnableWithMessageHistory` calls its history factory synchronously
even inside `ainvoke`, so the factory here does no I/O at all: it returns the history
the endpoint opened for the turn.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, Literal, overload

import anyio
from fastapi import FastAPI, Header, HTTPException, Response
from fastapi.responses import StreamingResponse
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict, trim_messages
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import ConfigurableFieldSpec, Runnable, RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from memory_course.checked_history import CheckedHistory, SaveFailedError

__all__ = [
    "CALLBACK_ERRORS",
    "SESSION_HEADER",
    "AsyncRedisSessionHistory",
    "AsyncSessionStore",
    "CallbackErrorCounter",
    "ChatReply",
    "ChatRequest",
    "RedisSessionHistory",
    "ServiceMetrics",
    "SessionStore",
    "build_chain",
    "create_app",
    "create_async_app",
    "make_trimmer",
    "parse_session_id",
    "summarize_sizes",
    "turn_config",
]

SESSION_HEADER = "X-Session-ID"

MODEL_FAILED = "The model is unavailable; the message was not saved."
STORE_FAILED = "The session store is unavailable; the message was not saved."
SAVE_FAILED = "The reply could not be saved, so the message was not kept. Send it again."
UNKNOWN_SESSION = "Unknown or expired session."


# -- histories and stores --------------------------------------------------------------


def _encode(messages: Sequence[BaseMessage]) -> list[str]:
    return [json.dumps(message_to_dict(m)) for m in messages]


def _decode(items: Sequence[bytes | str]) -> list[BaseMessage]:
    return messages_from_dict([json.loads(item) for item in items])


class RedisSessionHistory(BaseChatMessageHistory):
    """One session's messages in a Redis list, each item one JSON-encoded message.

    `add_messages` appends and resets the TTL in a single round trip (a MULTI/EXEC
    pipeline), so the cost of a turn does not grow with the length of the history.
    """

    def __init__(self, redis_client: Any, key: str, ttl_seconds: int) -> None:
        self.redis = redis_client
        self.key = key
        self.ttl_seconds = ttl_seconds

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        return _decode(self.redis.lrange(self.key, 0, -1))

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not messages:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(self.key, *_encode(messages))
        pipe.expire(self.key, self.ttl_seconds)
        pipe.execute()

    def clear(self) -> None:
        self.redis.delete(self.key)


class AsyncRedisSessionHistory(BaseChatMessageHistory):
    """`RedisSessionHistory` for a `redis.asyncio` client: the same list, awaited.

    `RunnableWithMessageHistory.ainvoke`/`astream` read with `aget_messages` and save
    with `aadd_messages`, so nothing here blocks the event loop. The synchronous
    methods raise: an asyncio client cannot answer outside its event loop.
    """

    def __init__(self, redis_client: Any, key: str, ttl_seconds: int) -> None:
        self.redis = redis_client
        self.key = key
        self.ttl_seconds = ttl_seconds

    async def aget_messages(self) -> list[BaseMessage]:
        return _decode(await self.redis.lrange(self.key, 0, -1))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not messages:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(self.key, *_encode(messages))
        pipe.expire(self.key, self.ttl_seconds)
        await pipe.execute()

    async def aclear(self) -> None:
        await self.redis.delete(self.key)

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        raise NotImplementedError("async history: use `await history.aget_messages()`")

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        raise NotImplementedError("async history: use `await history.aadd_messages(...)`")

    def clear(self) -> None:
        raise NotImplementedError("async history: use `await history.aclear()`")


class _StoreBase(ABC):
    """What both stores share: key naming and the rule that sessions expire."""

    def __init__(self, redis_client: Any, *, ttl_seconds: int, key_prefix: str = "chat:") -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive: sessions must expire")
        self.redis = redis_client
        self.ttl_seconds = ttl_seconds
        self.key_prefix = key_prefix

    def key(self, session_id: str) -> str:
        return f"{self.key_prefix}{session_id}"

    @abstractmethod
    def history(self, session_id: str) -> BaseChatMessageHistory:
        """The session's history object (each store returns its own kind)."""

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every session key (glob characters in the prefix escaped)."""
        return re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix) + "*"


class SessionStore(_StoreBase):
    """Where the service keeps sessions: `<key_prefix><session id>` → a Redis list."""

    def history(self, session_id: str) -> RedisSessionHistory:
        return RedisSessionHistory(self.redis, self.key(session_id), self.ttl_seconds)

    def exists(self, session_id: str) -> bool:
        return bool(self.redis.exists(self.key(session_id)))

    def delete(self, session_id: str) -> bool:
        """Remove the session; True if it existed."""
        return bool(self.redis.delete(self.key(session_id)))

    def session_sizes(self) -> list[int]:
        """The number of messages in every live session (SCAN, then LLEN in one pipeline)."""
        keys = list(self.redis.scan_iter(match=self.pattern, count=500))
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.llen(key)
        return [int(n) for n in pipe.execute() if n] if keys else []  # 0: expired meanwhile


class AsyncSessionStore(_StoreBase):
    """`SessionStore` for a `redis.asyncio` client: same keys, every call awaited."""

    def history(self, session_id: str) -> AsyncRedisSessionHistory:
        return AsyncRedisSessionHistory(self.redis, self.key(session_id), self.ttl_seconds)

    async def exists(self, session_id: str) -> bool:
        return bool(await self.redis.exists(self.key(session_id)))

    async def delete(self, session_id: str) -> bool:
        return bool(await self.redis.delete(self.key(session_id)))

    async def session_sizes(self) -> list[int]:
        keys = [key async for key in self.redis.scan_iter(match=self.pattern, count=500)]
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.llen(key)
        return [int(n) for n in await pipe.execute() if n] if keys else []


# -- the chain ----------------------------------------------------------------------------


def make_trimmer(max_tokens: int) -> Runnable:
    """The step placed before the model: the system message plus the latest turns.

    `start_on="human"` makes the kept history begin with a user message (never an
    orphaned AI reply); `include_system=True` keeps the system prompt whatever the budget.
    """
    return trim_messages(
        max_tokens=max_tokens,
        strategy="last",
        token_counter=count_tokens_approximately,
        start_on="human",
        include_system=True,
    )


def _this_turns_history(history: BaseChatMessageHistory) -> BaseChatMessageHistory:
    """The history factory: no I/O, it returns the history the endpoint opened."""
    return history


def build_chain(llm: BaseChatModel, *, system_prompt: str, max_tokens: int) -> Runnable:
    """prompt → trimmer → model, wrapped so each turn loads and saves its own history.

    The history comes with the turn, in `config["configurable"]["history"]` (see
    `turn_config`), so the endpoint holds the very object the chain writes to and can
    check afterwards that the write happened.
    """
    prompt = ChatPromptTemplate.from_messages(
        [("system", system_prompt), MessagesPlaceholder("history"), ("human", "{message}")]
    )
    return RunnableWithMessageHistory(
        prompt | make_trimmer(max_tokens) | llm,
        _this_turns_history,
        input_messages_key="message",
        history_messages_key="history",
        history_factory_config=[
            ConfigurableFieldSpec(
                id="history",
                annotation=BaseChatMessageHistory,
                name="History",
                description="The history of the session this turn belongs to.",
                default=None,
                is_shared=True,
            )
        ],
    )


def turn_config(history: BaseChatMessageHistory) -> RunnableConfig:
    """The config that hands `history` to a chain made by `build_chain`."""
    return {"configurable": {"history": history}}


# -- the HTTP contract, shared by both apps ----------------------------------------------


@overload
def parse_session_id(value: str | None, *, required: Literal[True]) -> str: ...
@overload
def parse_session_id(value: str | None, *, required: bool) -> str | None: ...
def parse_session_id(value: str | None, *, required: bool) -> str | None:
    """The canonical form of the `X-Session-ID` header value, or an HTTP 400.

    Returns None when the header is absent and not `required`.
    """
    if value is None or not value.strip():
        if required:
            raise HTTPException(400, f"The {SESSION_HEADER} header is required.")
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        # The bad value is not echoed back: headers are attacker-controlled input.
        raise HTTPException(
            400, f"{SESSION_HEADER} must be a UUID (32 hex digits, as 8-4-4-4-12)."
        ) from None


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000, description="What the user says.")


class ChatReply(BaseModel):
    reply: str


SessionHeader = Annotated[str | None, Header(alias=SESSION_HEADER)]


class CallbackErrorCounter(logging.Filter):
    """Counts the warnings LangChain's callback manager logs when it swallows an error.

    A listener that raises (such as `RunnableWithMessageHistory`'s save) is reported
    only as a WARNING on the `langchain_core.callbacks.manager` logger: "Error in
    <handler>.<event> callback: ...". Installed as a *filter* on that logger, this
    counts those records and lets them through, so logging is otherwise unchanged.
    The count is process-wide, like the logger.
    """

    LOGGER = "langchain_core.callbacks.manager"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.count = 0
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error in"):
            with self._lock:
                self.count += 1
                self.last = record.getMessage()
        return True

    def install(self) -> CallbackErrorCounter:
        """Attach to the callback manager's logger (once, however often it is called)."""
        logger = logging.getLogger(self.LOGGER)
        if self not in logger.filters:
            logger.addFilter(self)
        return self


CALLBACK_ERRORS = CallbackErrorCounter()


def summarize_sizes(sizes: Sequence[int]) -> dict[str, Any]:
    """Live sessions and the distribution of their lengths (in messages)."""
    buckets = {"1-10": 0, "11-100": 0, "101+": 0}
    for size in sizes:
        buckets["1-10" if size <= 10 else "11-100" if size <= 100 else "101+"] += 1
    return {
        "active": len(sizes),
        "messages": sum(sizes),
        "largest": max(sizes, default=0),
        "sizes": buckets,
    }


class ServiceMetrics:
    """How one app's turns ended, counted (thread-safe: `def` endpoints run in threads).

    Outcomes: `saved`, `model_failed`, `store_failed` (Redis failed before the model),
    `save_failed` (the reply was computed but not stored) and `abandoned` (a stream the
    client left before it ended).
    """

    OUTCOMES = ("saved", "model_failed", "store_failed", "save_failed", "abandoned")

    def __init__(self, callback_errors: CallbackErrorCounter = CALLBACK_ERRORS) -> None:
        self._lock = threading.Lock()
        self._turns: Counter[str] = Counter(dict.fromkeys(self.OUTCOMES, 0))
        self.callback_errors = callback_errors.install()

    def count(self, outcome: str) -> None:
        with self._lock:
            self._turns[outcome] += 1

    def snapshot(self, sizes: Sequence[int]) -> dict[str, Any]:
        with self._lock:
            turns = dict(self._turns)
        return {
            "sessions": summarize_sizes(sizes),
            "turns": turns,
            "callback_errors": self.callback_errors.count,
        }


def _failure(error: BaseException) -> tuple[str, str]:
    """(outcome, detail) for an exception raised while running a turn."""
    if isinstance(error, SaveFailedError):
        return "save_failed", SAVE_FAILED
    if isinstance(error, RedisError):
        return "store_failed", STORE_FAILED
    return "model_failed", MODEL_FAILED


class _TurnHistory(CheckedHistory):
    """The `CheckedHistory` of one turn, which can be sealed when the client leaves.

    A stream abandoned by its client must store nothing, whichever the path. The async
    one stores nothing by itself, but closing a synchronous `chain.stream(...)` before
    its end (explicitly, or later by the garbage collector) makes
    `RunnableWithMessageHistory` save the question and the reply so far, unmarked.
    A sealed history ignores those writes.
    """

    sealed = False

    def seal(self) -> None:
        self.sealed = True

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not self.sealed:
            super().add_messages(messages)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not self.sealed:
            await super().aadd_messages(messages)


class _Turn:
    """One chat turn: its checked history and how it ended. Both apps use it."""

    def __init__(self, service: _Service, session_id: str, message: str) -> None:
        self.service = service
        self.session_id = session_id
        self.history = _TurnHistory(service.store.history(session_id))
        self.input = {"message": message}
        self.config = turn_config(self.history)
        self.parts: list[str] = []
        self.outcome: str | None = None

    def _end(self, outcome: str) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.service.metrics.count(outcome)

    def check_saved(self) -> None:
        """Call when the chain has returned: raises `SaveFailedError` if nothing was stored."""
        self.history.raise_if_not_saved()
        self._end("saved")

    def failed(self, error: Exception) -> HTTPException:
        outcome, detail = _failure(error)
        self._end(outcome)
        return HTTPException(503, detail)

    def token_event(self, chunk: BaseMessage) -> str | None:
        if not chunk.text:
            return None
        self.parts.append(chunk.text)
        return _sse("token", {"text": chunk.text})

    def done_event(self) -> str:
        return _sse("done", {"reply": "".join(self.parts)})

    def error_event(self, error: Exception) -> str:
        outcome, detail = _failure(error)
        self._end(outcome)
        return _sse("error", {"detail": detail})

    def close(self) -> None:
        """Always called when a stream stops. One stopped before its end was abandoned:
        its history is sealed, so that nothing of the turn is stored afterwards."""
        if self.outcome is None:
            self.history.seal()
        self._end("abandoned")


class _Service:
    """What both apps share: store, chain, metrics, session rules and error mapping."""

    def __init__(self, store: _StoreBase, chain: Runnable, new_session_id: Callable) -> None:
        self.store = store
        self.chain = chain
        self.new_session_id = new_session_id
        self.metrics = ServiceMetrics()

    def session_from_header(self, header: str | None) -> tuple[str, bool]:
        """(session id, whether it must already exist): a new id when there is no header."""
        session_id = parse_session_id(header, required=False)
        if session_id is None:
            return str(self.new_session_id()), False
        return session_id, True

    @staticmethod
    def unknown_session(*, hint: bool = True) -> HTTPException:
        restart = f" Send the request without {SESSION_HEADER} to start a new one." if hint else ""
        return HTTPException(404, UNKNOWN_SESSION + restart)

    @contextmanager
    def store_errors(self) -> Iterator[None]:
        """Redis errors outside a turn (checking, deleting, counting) become a 503."""
        try:
            yield
        except RedisError as error:
            raise HTTPException(503, "The session store is unavailable.") from error

    def turn(self, session_id: str, message: str) -> _Turn:
        return _Turn(self, session_id, message)

    def stream_response(self, events: Any, session_id: str) -> StreamingResponse:
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={SESSION_HEADER: session_id, "Cache-Control": "no-cache"},
        )


def _new_app(
    store: _StoreBase,
    llm: BaseChatModel,
    *,
    max_tokens: int,
    system_prompt: str,
    new_session_id: Callable[[], uuid.UUID],
    title: str,
) -> tuple[FastAPI, _Service]:
    chain = build_chain(llm, system_prompt=system_prompt, max_tokens=max_tokens)
    service = _Service(store, chain, new_session_id)
    app = FastAPI(title=title, version="1.0")
    app.state.store = store
    app.state.chain = chain
    app.state.metrics = service.metrics
    return app, service


# -- the two apps -----------------------------------------------------------------------


def create_app(
    llm: BaseChatModel,
    redis_client: Any,
    *,
    ttl_seconds: int = 3600,
    max_tokens: int = 1000,
    system_prompt: str = "You are a helpful assistant.",
    key_prefix: str = "chat:",
    new_session_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> FastAPI:
    """The chat service on a synchronous client: `llm` answers, Redis keeps sessions.

    `redis_client` is a redis-py or fakeredis client; sessions expire `ttl_seconds` after
    their last turn. `max_tokens` bounds the prompt (approximate tokens) after trimming.
    `new_session_id` issues ids for new sessions; pass a seeded generator for
    reproducible examples. The endpoints are plain `def` functions: FastAPI runs each
    call in its thread pool. `app.state` holds `store`, `chain` and `metrics`.
    """
    store = SessionStore(redis_client, ttl_seconds=ttl_seconds, key_prefix=key_prefix)
    app, service = _new_app(
        store,
        llm,
        max_tokens=max_tokens,
        system_prompt=system_prompt,
        new_session_id=new_session_id,
        title="Chat service",
    )
    chain = service.chain

    def resolve_session(header: str | None) -> str:
        session_id, must_exist = service.session_from_header(header)
        with service.store_errors():
            if must_exist and not store.exists(session_id):
                raise service.unknown_session()
        return session_id

    @app.post("/chat", response_model=ChatReply)
    def chat(body: ChatRequest, response: Response, x_session_id: SessionHeader = None):
        turn = service.turn(resolve_session(x_session_id), body.message)
        try:
            answer = chain.invoke(turn.input, turn.config)
            turn.check_saved()  # the save runs in a listener, whose errors are swallowed
        except Exception as error:
            raise turn.failed(error) from error
        response.headers[SESSION_HEADER] = turn.session_id
        return ChatReply(reply=answer.text)

    @app.post("/chat/stream")
    def chat_stream(body: ChatRequest, x_session_id: SessionHeader = None) -> StreamingResponse:
        turn = service.turn(resolve_session(x_session_id), body.message)

        def events() -> Generator[str, None, None]:
            stream = chain.stream(turn.input, turn.config)
            try:
                for chunk in stream:
                    if event := turn.token_event(chunk):
                        yield event
                turn.check_saved()
            except Exception as error:
                yield turn.error_event(error)
            else:
                yield turn.done_event()
            finally:
                turn.close()  # if the client left: seal the history first, because
                # closing an unfinished stream saves half a reply
                stream.close()  # type: ignore[attr-defined]  # a generator, typed Iterator

        return service.stream_response(_closing_in_threadpool(events()), turn.session_id)

    @app.delete("/sessions", status_code=204)
    def delete_session(x_session_id: SessionHeader = None) -> Response:
        session_id = parse_session_id(x_session_id, required=True)
        with service.store_errors():
            if not store.delete(session_id):
                raise service.unknown_session(hint=False)
        return Response(status_code=204)

    @app.get("/metrics")
    def metrics() -> dict[str, Any]:
        with service.store_errors():
            sizes = store.session_sizes()
        return service.metrics.snapshot(sizes)

    return app


def create_async_app(
    llm: BaseChatModel,
    redis_client: Any,
    *,
    ttl_seconds: int = 3600,
    max_tokens: int = 1000,
    system_prompt: str = "You are a helpful assistant.",
    key_prefix: str = "chat:",
    new_session_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> FastAPI:
    """`create_app` with `async def` endpoints, for a `redis.asyncio` client.

    `redis_client` is a `redis.asyncio.Redis` or a `fakeredis.FakeAsyncRedis`. Every
    endpoint awaits (`ainvoke`, `astream`, Redis calls) on the event loop, so one
    process serves many slow turns without a thread each. Same contract, same options.
    """
    store = AsyncSessionStore(redis_client, ttl_seconds=ttl_seconds, key_prefix=key_prefix)
    app, service = _new_app(
        store,
        llm,
        max_tokens=max_tokens,
        system_prompt=system_prompt,
        new_session_id=new_session_id,
        title="Chat service (async)",
    )
    chain = service.chain

    async def resolve_session(header: str | None) -> str:
        session_id, must_exist = service.session_from_header(header)
        with service.store_errors():
            if must_exist and not await store.exists(session_id):
                raise service.unknown_session()
        return session_id

    @app.post("/chat", response_model=ChatReply)
    async def chat(body: ChatRequest, response: Response, x_session_id: SessionHeader = None):
        turn = service.turn(await resolve_session(x_session_id), body.message)
        try:
            answer = await chain.ainvoke(turn.input, turn.config)
            turn.check_saved()  # the save runs in a listener, whose errors are swallowed
        except Exception as error:
            raise turn.failed(error) from error
        response.headers[SESSION_HEADER] = turn.session_id
        return ChatReply(reply=answer.text)

    @app.post("/chat/stream")
    async def chat_stream(
        body: ChatRequest, x_session_id: SessionHeader = None
    ) -> StreamingResponse:
        turn = service.turn(await resolve_session(x_session_id), body.message)

        async def events() -> AsyncIterator[str]:
            try:
                async for chunk in chain.astream(turn.input, turn.config):
                    if event := turn.token_event(chunk):
                        yield event
                turn.check_saved()
            except Exception as error:
                yield turn.error_event(error)
            else:
                yield turn.done_event()
            finally:
                turn.close()

        return service.stream_response(events(), turn.session_id)

    @app.delete("/sessions", status_code=204)
    async def delete_session(x_session_id: SessionHeader = None) -> Response:
        session_id = parse_session_id(x_session_id, required=True)
        with service.store_errors():
            if not await store.delete(session_id):
                raise service.unknown_session(hint=False)
        return Response(status_code=204)

    @app.get("/metrics")
    async def metrics() -> dict[str, Any]:
        with service.store_errors():
            sizes = await store.session_sizes()
        return service.metrics.snapshot(sizes)

    return app


async def _closing_in_threadpool(events: Generator[str, None, None]) -> AsyncIterator[str]:
    """Starlette's `iterate_in_threadpool`, plus: close `events` if the client leaves.

    Starlette pulls a sync generator chunk by chunk in its thread pool, and when the
    client disconnects it stops pulling but leaves the generator suspended (with the
    chain's stream, and a real model's connection, open inside it) until the garbage
    collector finds it. Closing it at once runs its `finally` blocks now.
    """
    try:
        async for event in iterate_in_threadpool(events):
            yield event
    finally:
        with anyio.CancelScope(shield=True):  # the task is being cancelled: finish anyway
            await run_in_threadpool(events.close)


def _sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event: `event:` and `data:` lines, then a blank line."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
