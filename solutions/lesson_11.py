"""Worked solutions for lesson 11 (LangGraph persistence).

Exercise 1: `build_trimmed_graph(llm, checkpointer, max_tokens)`: the one-node chat graph,
but the model sees only a trimmed window while the checkpoint keeps every message.

Exercise 2: `forget_user(checkpointer, store, user_id)`: delete a user's threads (ids
made by `thread_id_for`) and the user's Store items.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import trim_messages
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

__all__ = ["build_trimmed_graph", "forget_user", "thread_id_for", "user_namespace"]

SEPARATOR = ":"


def build_trimmed_graph(
    llm: BaseChatModel, checkpointer: BaseCheckpointSaver, max_tokens: int
) -> CompiledStateGraph:
    """A `StateGraph(MessagesState)` whose node trims what it sends to `llm`.

    The state (and so the checkpoint) keeps the whole conversation; each model call
    gets the most recent messages within `max_tokens` (approximate tokens), starting
    on a human message, with any system message kept.
    """

    def call_model(state: MessagesState) -> dict:
        window = trim_messages(
            state["messages"],
            max_tokens=max_tokens,
            strategy="last",
            token_counter=count_tokens_approximately,
            start_on="human",
            include_system=True,
        )
        return {"messages": [llm.invoke(window)]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_edge(START, "model")
    builder.add_edge("model", END)
    return builder.compile(checkpointer=checkpointer)


def thread_id_for(user_id: str, conversation_id: str) -> str:
    """`"<user_id>:<conversation_id>"`; a user id may not contain the separator.

    Without that rule, user "a" could see user "a:b"'s threads by prefix.
    """
    if not user_id or SEPARATOR in user_id:
        raise ValueError(f"user_id must be non-empty and must not contain {SEPARATOR!r}")
    if not conversation_id:
        raise ValueError("conversation_id must be non-empty")
    return f"{user_id}{SEPARATOR}{conversation_id}"


def user_namespace(user_id: str) -> tuple[str, str]:
    """Where a user's own data lives in the Store."""
    return ("users", user_id)


def forget_user(checkpointer: BaseCheckpointSaver, store: BaseStore, user_id: str) -> list[str]:
    """Delete every thread of `user_id` and every Store item under `user_namespace(user_id)`.

    Returns the deleted thread ids, sorted. Threads are found by listing all
    checkpoints, which is fine for a lesson; a large deployment would keep an index
    of each user's threads instead of scanning.
    """
    prefix = thread_id_for(user_id, "x")[:-1]
    thread_ids = sorted(
        {
            checkpoint.config["configurable"]["thread_id"]
            for checkpoint in checkpointer.list(None)
            if checkpoint.config["configurable"]["thread_id"].startswith(prefix)
        }
    )
    for thread_id in thread_ids:
        checkpointer.delete_thread(thread_id)
    namespace = user_namespace(user_id)
    while items := store.search(namespace, limit=100):
        for item in items:
            store.delete(tuple(item.namespace), item.key)
    return thread_ids
