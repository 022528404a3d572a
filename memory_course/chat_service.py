"""The chat service of lesson 10: FastAPI, Redis-backed sessions, trimming, streaming.

    app = create_app(get_chat_model(), get_redis_client())

HTTP contract (every response about a session carries its id in `X-Session-ID`):

| request                                   | result                                       |
|-------------------------------------------|----------------------------------------------|
| `POST /chat` `{"message": ...}`, no header | 200 `{"reply": ...}`, a new session          |
| `POST /chat` with `X-Session-ID: <uuid>`  | 200, the session's history reaches the model |
| `POST /chat/stream` (same rules)          | 200 `text/event-stream`: `token` events, then `done` |
| `DELETE /sessions` with `X-Session-ID`    | 204; the session's messages are gone         |
| header not a UUID                         | 400 `{"detail": ...}`                        |
| `DELETE /sessions` without the header     | 400                                          |
| a well-formed id the server never issued, or whose TTL expired | 404            |
| empty or missing `message`                | 422 (FastAPI's validation error)             |
| the model fails                           | 503; nothing is saved                        |

Session ids are issued by the server (a client cannot pick one) and travel in a
header, never in the URL, so they stay out of access logs, browser history and
`Referer` headers. Each session's messages live in one Redis list whose TTL is reset
on every write (a sliding expiry). Before the model, `trim_messages` keeps the system
message and the most recent turns that fit in `max_tokens`; Redis keeps everything.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Response
from fastapi.responses import StreamingResponse
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict, trim_messages
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable
from langchain_core.runnables.history import RunnableWithMessageHistory
from pydantic import BaseModel, Field

__all__ = [
    "SESSION_HEADER",
    "ChatReply",
    "ChatRequest",
    "RedisSessionHistory",
    "SessionStore",
    "build_chain",
    "create_app",
    "make_trimmer",
    "parse_session_id",
]

SESSION_HEADER = "X-Session-ID"


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
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        items = self.redis.lrange(self.key, 0, -1)
        return messages_from_dict([json.loads(item) for item in items])

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not messages:
            return
        payloads = [json.dumps(message_to_dict(m)) for m in messages]
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(self.key, *payloads)
        pipe.expire(self.key, self.ttl_seconds)
        pipe.execute()

    def clear(self) -> None:
        self.redis.delete(self.key)


class SessionStore:
    """Where the service keeps sessions: `<key_prefix><session id>` → a Redis list."""

    def __init__(self, redis_client: Any, *, ttl_seconds: int, key_prefix: str = "chat:") -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive: sessions must expire")
        self.redis = redis_client
        self.ttl_seconds = ttl_seconds
        self.key_prefix = key_prefix

    def key(self, session_id: str) -> str:
        return f"{self.key_prefix}{session_id}"

    def history(self, session_id: str) -> RedisSessionHistory:
        return RedisSessionHistory(self.redis, self.key(session_id), self.ttl_seconds)

    def exists(self, session_id: str) -> bool:
        return bool(self.redis.exists(self.key(session_id)))

    def delete(self, session_id: str) -> bool:
        """Remove the session; True if it existed."""
        return bool(self.redis.delete(self.key(session_id)))


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


def build_chain(
    llm: BaseChatModel, store: SessionStore, *, system_prompt: str, max_tokens: int
) -> RunnableWithMessageHistory:
    """prompt → trimmer → model, wrapped so history is loaded from and saved to `store`."""
    prompt = ChatPromptTemplate.from_messages(
        [("system", system_prompt), MessagesPlaceholder("history"), ("human", "{message}")]
    )
    return RunnableWithMessageHistory(
        prompt | make_trimmer(max_tokens) | llm,
        store.history,
        input_messages_key="message",
        history_messages_key="history",
    )


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
    """The chat service: `llm` answers, `redis_client` keeps sessions for `ttl_seconds`.

    `max_tokens` bounds the prompt (approximate tokens) after trimming. `new_session_id`
    issues ids for new sessions; pass a seeded generator for reproducible examples.
    The app's `state.store` is the `SessionStore`, for inspection in lessons and tests.
    """
    store = SessionStore(redis_client, ttl_seconds=ttl_seconds, key_prefix=key_prefix)
    chain = build_chain(llm, store, system_prompt=system_prompt, max_tokens=max_tokens)
    app = FastAPI(title="Chat service", version="1.0")
    app.state.store = store
    app.state.chain = chain

    def resolve_session(header: str | None) -> str:
        session_id = parse_session_id(header, required=False)
        if session_id is None:
            return str(new_session_id())
        if not store.exists(session_id):
            raise HTTPException(
                404,
                "Unknown or expired session. Send the request without "
                f"{SESSION_HEADER} to start a new one.",
            )
        return session_id

    def config(session_id: str) -> dict[str, Any]:
        return {"configurable": {"session_id": session_id}}

    @app.post("/chat", response_model=ChatReply)
    def chat(body: ChatRequest, response: Response, x_session_id: SessionHeader = None):
        session_id = resolve_session(x_session_id)
        try:
            answer = chain.invoke({"message": body.message}, config(session_id))
        except Exception as error:
            raise HTTPException(
                503, "The model is unavailable; the message was not saved."
            ) from error
        response.headers[SESSION_HEADER] = session_id
        return ChatReply(reply=answer.text)

    @app.post("/chat/stream")
    def chat_stream(body: ChatRequest, x_session_id: SessionHeader = None) -> StreamingResponse:
        session_id = resolve_session(x_session_id)

        def events() -> Iterator[str]:
            # RunnableWithMessageHistory saves the turn when the stream ends, so a
            # stream that fails or is abandoned leaves the history unchanged.
            reply = []
            try:
                for chunk in chain.stream({"message": body.message}, config(session_id)):
                    if chunk.text:
                        reply.append(chunk.text)
                        yield _sse("token", {"text": chunk.text})
            except Exception:
                yield _sse("error", {"detail": "The model failed; the message was not saved."})
                return
            yield _sse("done", {"reply": "".join(reply)})

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={SESSION_HEADER: session_id, "Cache-Control": "no-cache"},
        )

    @app.delete("/sessions", status_code=204)
    def delete_session(x_session_id: SessionHeader = None) -> Response:
        session_id = parse_session_id(x_session_id, required=True)
        if not store.delete(session_id):
            raise HTTPException(404, "Unknown or expired session.")
        return Response(status_code=204)

    return app


def _sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event: `event:` and `data:` lines, then a blank line."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
