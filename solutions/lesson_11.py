"""Worked solutions for lesson 11 (LangGraph persistence).

Exercise 1: `build_trimmed_graph(llm, checkpointer, max_tokens)`: the one-node chat graph,
but the model sees only a trimmed window while the checkpoint keeps every message.

Exercise 2: `forget_user(checkpointer, store, user_id)`: delete a user's threads (ids
made by `thread_id_for`) and the user's Store items.

Exercise 3: `edit_and_regenerate(graph, config, index, new_text)`: replace a human message
by forking the thread from the checkpoint just before it, and return the new reply.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

__all__ = [
    "build_trimmed_graph",
    "edit_and_regenerate",
    "forget_user",
    "thread_id_for",
    "user_namespace",
]

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


def edit_and_regenerate(
    graph: CompiledStateGraph, config: RunnableConfig, index: int, new_text: str
) -> str:
    """Replace the thread's `index`-th human message (0-based) by `new_text`; return the reply.

    The thread is forked from the checkpoint that held exactly the messages said before
    that human message, found by walking back along the thread's *current* branch (from
    its latest checkpoint, parent by parent), so an earlier fork's branches are never
    picked. Everything after the edited message stays on the old branch, which remains
    in `get_state_history`; the thread's latest state is the new branch.
    """
    snapshot = graph.get_state(config)
    messages = snapshot.values.get("messages", [])
    humans = [position for position, message in enumerate(messages) if message.type == "human"]
    if not 0 <= index < len(humans):
        raise IndexError(f"the thread has {len(humans)} human messages, no message {index}")
    before = [message.id for message in messages[: humans[index]]]
    while True:
        held = [message.id for message in snapshot.values.get("messages", [])]
        # A finished turn (nothing pending) or an input checkpoint (only __start__ pending).
        if held == before and set(snapshot.next) <= {"__start__"}:
            break
        if snapshot.parent_config is None:  # not reached for a thread this graph wrote
            raise LookupError("no checkpoint holds the messages before that one")
        snapshot = graph.get_state(snapshot.parent_config)
    result = graph.invoke({"messages": [HumanMessage(new_text)]}, snapshot.config)
    return result["messages"][-1].content
