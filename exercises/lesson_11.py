"""Lesson 11 · Your turn: a trimmed graph, forgetting a user, editing a message.

Write the three exercises of notebook 11's "Your turn" here, then check them from the
notebook's check cell or with `python -m grading check lesson_11`.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
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
    raise NotImplementedError


def thread_id_for(user_id: str, conversation_id: str) -> str:
    """Exercise 2: the thread id `"<user_id>:<conversation_id>"` (`SEPARATOR` between).

    Raises `ValueError` if `user_id` is empty or contains the separator, or if
    `conversation_id` is empty (a conversation id may contain the separator). Without
    that rule, user "a:b" with conversation "c" and user "a" with conversation "b:c"
    would share a thread, and forgetting user "a" would delete user "a:b"'s threads.
    """
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError
