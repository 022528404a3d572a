# BEGIN SOLUTION NO PROMPT
"""Lesson 10 · worked solutions: read a session back, and trim without forgetting who you talk to."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 10 · Your turn: read a session back, and trim without forgetting who you talk to.
#
# Write the two exercises of notebook 10's "Your turn" here, then check them from the
# notebook's check cell or with `python -m grading check lesson_10`.
# """
# END PROMPT

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
    """Exercise 1: add `GET /sessions/messages` to a chat-service app; return that same app.

    `app` is made by `memory_course.chat_service.create_app`; its sessions are in
    `app.state.store` (a `SessionStore`: `exists(session_id)`, `history(session_id)`).
    The session is named by the `X-Session-ID` header (`SESSION_HEADER`), read with
    `parse_session_id(value, required=True)`, so every spelling of a UUID that it
    accepts (upper case, surrounding spaces) names the same session as its canonical
    form. The answers:

    - 200 `{"messages": [{"type": ..., "content": ...}, ...]}`: every stored message
      of that session and of no other, oldest first; `type` is the message's type
      ("human", "ai") and `content` its text;
    - 400 if the header is missing or is not a UUID (what `parse_session_id` raises);
    - 404 if no such session exists: never issued, deleted or expired. An unknown
      session is not an empty one.

    Reading changes nothing: it stores nothing, does not call the model and does not
    refresh the session's TTL (only conversation keeps a session alive).
    """
    # BEGIN SOLUTION
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
    # END SOLUTION


def trim_keeping_first_exchange(
    messages: Sequence[BaseMessage] | Any, max_tokens: int
) -> list[BaseMessage]:
    """Exercise 2: the system message, the first exchange, then the latest messages that fit.

    `messages` may be any input `convert_to_messages` accepts (a `PromptValue` too);
    tokens are counted with `count_tokens_approximately`. The result is a new list:

    - the system message, if the conversation starts with one;
    - the first exchange: the messages up to and including the first AI message that
      follows the first human message (normally that human message and the reply to
      it), exactly as given;
    - then the most recent messages that fit in what remains of `max_tokens`, as
      `trim_messages(strategy="last", start_on="human")` picks them from the messages
      after the reply: the longest run of the latest messages that fits and starts on
      a human message, in their order.

    The result never exceeds `max_tokens`. There is nothing to pin when the
    conversation has no complete first exchange followed by more messages (no human
    message, no reply yet, or nothing after the reply), nor when the pinned part leaves
    no room for any such run of the latest messages (the current question must reach
    the model). Then the conversation is trimmed by recency alone, as
    `trim_messages(strategy="last", start_on="human", include_system=True)` does; that
    leaves a conversation that fits, and starts on a human message after any system
    message, unchanged.
    """
    # BEGIN SOLUTION
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
    # END SOLUTION


def make_pinned_trimmer(max_tokens: int) -> Runnable:
    """`trim_keeping_first_exchange(messages, max_tokens)` as a runnable.

    Placed between the prompt and the model (`prompt | make_pinned_trimmer(n) | llm`), it
    receives the prompt's `ChatPromptValue` and passes the trimmed messages on.
    """
    # BEGIN SOLUTION
    return RunnableLambda(
        lambda messages: trim_keeping_first_exchange(messages, max_tokens),
        name="trim_keeping_first_exchange",
    )
    # END SOLUTION
