# BEGIN SOLUTION NO PROMPT
"""Lesson 11 · worked solutions: a trimmed graph, forgetting a user, editing a message."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 11 · Your turn: a trimmed graph, forgetting a user, editing a message.
#
# Write the three exercises of notebook 11's "Your turn" here, then check them from the
# notebook's check cell or with `python -m grading check lesson_11`.
# """
# END PROMPT

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
    """Exercise 1: the one-node chat graph whose node sends `llm` a trimmed window.

    A `StateGraph(MessagesState)` compiled with `checkpointer` (the one given: a new
    graph on the same checkpointer continues the same threads). Each run calls `llm`
    once and appends its reply to the state, so the thread's state (and checkpoint)
    keeps the whole conversation. The model is sent only
    `trim_messages(state["messages"], max_tokens=max_tokens, strategy="last",
    token_counter=count_tokens_approximately, start_on="human", include_system=True)`:
    any system message, then the longest run of the most recent messages that fits in
    `max_tokens` and starts on a human message.
    """
    # BEGIN SOLUTION

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
    # END SOLUTION


def thread_id_for(user_id: str, conversation_id: str) -> str:
    """Exercise 2: the thread id `"<user_id>:<conversation_id>"` (`SEPARATOR` between).

    Raises `ValueError` if `user_id` is empty or contains the separator, or if
    `conversation_id` is empty (a conversation id may contain the separator). Without
    that rule, user "a:b" with conversation "c" and user "a" with conversation "b:c"
    would share a thread, and forgetting user "a" would delete user "a:b"'s threads.
    """
    # BEGIN SOLUTION
    if not user_id or SEPARATOR in user_id:
        raise ValueError(f"user_id must be non-empty and must not contain {SEPARATOR!r}")
    if not conversation_id:
        raise ValueError("conversation_id must be non-empty")
    return f"{user_id}{SEPARATOR}{conversation_id}"
    # END SOLUTION


def user_namespace(user_id: str) -> tuple[str, str]:
    """Where a user's own data lives in the Store."""
    return ("users", user_id)


def forget_user(checkpointer: BaseCheckpointSaver, store: BaseStore, user_id: str) -> list[str]:
    """Exercise 2: delete every thread and every Store item of `user_id`; return the threads.

    The user's threads are those whose id starts with `"<user_id>:"` (ids made by
    `thread_id_for`); find them among all of `checkpointer`'s checkpoints
    (`checkpointer.list(None)`) and delete each with `checkpointer.delete_thread`.
    Other users' threads stay, including those of a user whose id merely starts with
    this one ("alexander" is not "alex"). Delete every item of `store` under
    `user_namespace(user_id)`, in sub-namespaces too; mind that `store.search` returns
    one page of items per call (`limit`, 10 by default). Returns the deleted thread
    ids, sorted, each once (`[]` for a user with no threads).

    Listing every checkpoint is fine for a lesson; a large deployment would keep an
    index of each user's threads instead of scanning.
    """
    # BEGIN SOLUTION
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
    # END SOLUTION


def edit_and_regenerate(
    graph: CompiledStateGraph, config: RunnableConfig, index: int, new_text: str
) -> str:
    """Exercise 3: replace the thread's `index`-th human message by `new_text`; return the reply.

    `config` names the thread (`{"configurable": {"thread_id": ...}}`); `index` counts the
    human messages of its latest state from 0. Fork the thread from the checkpoint that
    held exactly the messages said before that human message, with nothing left to run
    (a finished turn, or the thread's first input checkpoint for index 0), found by
    walking back along the thread's *current* branch (from `graph.get_state(config)`,
    parent by parent through `parent_config`), so an earlier edit's old branch is never
    picked. Invoke the graph there with `new_text` as a human message and return the
    reply's text. Afterwards the thread's latest state is the messages before the edited
    one, then `new_text` and its reply; what followed the edited message stays on the
    old branch, which remains in `get_state_history` (nothing is deleted or rewritten).

    Raises `IndexError` if there is no such human message (`index` negative, or not
    below the number of human messages), without calling the graph.
    """
    # BEGIN SOLUTION
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
    # END SOLUTION
