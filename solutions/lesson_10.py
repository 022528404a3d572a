"""Worked solutions for lesson 10 (production patterns).

Exercise 1: `add_history_endpoint(app)` adds `GET /sessions/messages` to an app made by
`memory_course.chat_service.create_app`.

Exercise 2: `trim_keeping_first_exchange(messages, max_tokens)` trims like
`trim_messages(strategy="last", ...)` but always keeps the first human message and the
reply to it; `make_pinned_trimmer(max_tokens)` is the same as a runnable, to place
between the prompt and the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    convert_to_messages,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import Runnable, RunnableLambda

from memory_course.chat_service import SESSION_HEADER, parse_session_id

__all__ = ["add_history_endpoint", "make_pinned_trimmer", "trim_keeping_first_exchange"]


def add_history_endpoint(app: FastAPI) -> FastAPI:
    """Add `GET /sessions/messages` to a chat-service app and return the app.

    The response is `{"messages": [{"type": ..., "content": ...}, ...]}`, oldest first,
    for the session in the `X-Session-ID` header: 400 if the header is missing or not a
    UUID, 404 if the session does not exist (never issued, deleted or expired).
    Reading does not refresh the session's TTL: only conversation keeps it alive.
    """
    store = app.state.store

    @app.get("/sessions/messages")
    def session_messages(
        x_session_id: Annotated[str | None, Header(alias=SESSION_HEADER)] = None,
    ) -> dict[str, Any]:
        session_id = parse_session_id(x_session_id, required=True)
        if not store.exists(session_id):
            raise HTTPException(404, "Unknown or expired session.")
        messages = store.history(session_id).messages
        return {"messages": [{"type": m.type, "content": m.text} for m in messages]}

    return app


def trim_keeping_first_exchange(
    messages: Sequence[BaseMessage] | Any, max_tokens: int
) -> list[BaseMessage]:
    """The system message, the first exchange, then the latest messages that still fit.

    `messages` may be any input `convert_to_messages` accepts (a `PromptValue` too).
    The first exchange is the first human message and the AI reply that follows it;
    the recent part is trimmed with `strategy="last"` and `start_on="human"` to what
    remains of `max_tokens` (approximate tokens). If the pinned part leaves no room for
    the latest human message, only the most recent messages are kept, as plain trimming
    would: the current question must always reach the model.
    """
    messages = convert_to_messages(messages)
    system = messages[:1] if messages and isinstance(messages[0], SystemMessage) else []
    rest = messages[len(system) :]
    first_human = next((i for i, m in enumerate(rest) if isinstance(m, HumanMessage)), None)
    reply = None
    if first_human is not None:
        reply = next(
            (i for i in range(first_human + 1, len(rest)) if isinstance(rest[i], AIMessage)),
            None,
        )
    plain: dict[str, Any] = {
        "strategy": "last",
        "token_counter": count_tokens_approximately,
        "start_on": "human",
    }
    if reply is None or reply == len(rest) - 1:
        # No complete first exchange with anything after it: nothing to pin.
        return trim_messages(messages, max_tokens=max_tokens, include_system=True, **plain)
    pinned = system + rest[: reply + 1]
    budget = max_tokens - count_tokens_approximately(pinned)
    recent = trim_messages(rest[reply + 1 :], max_tokens=budget, **plain) if budget > 0 else []
    if not recent:
        return trim_messages(messages, max_tokens=max_tokens, include_system=True, **plain)
    return pinned + recent


def make_pinned_trimmer(max_tokens: int) -> Runnable:
    """`trim_keeping_first_exchange` as a runnable: `prompt | make_pinned_trimmer(n) | llm`."""
    return RunnableLambda(
        lambda messages: trim_keeping_first_exchange(messages, max_tokens),
        name="trim_keeping_first_exchange",
    )
