# BEGIN SOLUTION NO PROMPT
"""Lesson 5 · worked solutions: one UUID per (user, conversation), and moving a history."""
# END SOLUTION
# BEGIN PROMPT
# """Lesson 5 · Your turn: one UUID per (user, conversation), and moving a history.
#
# Write the two exercises of notebook 5's "Your turn" here, then check them from the
# notebook's check cell or with `python -m grading check lesson_05`.
# """
# END PROMPT

from __future__ import annotations

import json
import uuid

from langchain_core.chat_history import BaseChatMessageHistory

__all__ = ["PAIR_NAMESPACE", "copy_history", "pair_session_uuid"]

# Fixed once for the application: changing it would orphan every stored conversation.
PAIR_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com/chat-sessions/pairs")


def pair_session_uuid(user_id: str, conversation_id: str) -> str:
    """Exercise 1: a stable UUID string for the pair `(user_id, conversation_id)`.

    Returns `str(uuid.uuid5(PAIR_NAMESPACE, name))`, a version-5 UUID in its canonical
    form (lowercase, with hyphens), where `name` encodes the pair so that the boundary
    between the two fields is unambiguous. Different pairs get different UUIDs, whatever
    characters the ids contain: `("a:b", "c")` and `("a", "b:c")`, `("ab", "c")` and
    `("a", "bc")`, empty ids, quotes, separators, control characters, non-ASCII text.
    The same pair gets the same UUID on every call and in every process. An id that is
    not a `str` raises `TypeError`.
    """
    # BEGIN SOLUTION
    if not isinstance(user_id, str) or not isinstance(conversation_id, str):
        raise TypeError("user_id and conversation_id must be strings")
    # A JSON array marks where one field ends and the next begins, whatever they contain.
    name = json.dumps([user_id, conversation_id], ensure_ascii=False)
    return str(uuid.uuid5(PAIR_NAMESPACE, name))
    # END SOLUTION


def copy_history(
    source: BaseChatMessageHistory, target: BaseChatMessageHistory, *, replace: bool = False
) -> int:
    """Exercise 2: copy every message of `source` into `target`, in order; return the count.

    Each message keeps its type (system, human, ai) and its content. They go in with a
    single `target.add_messages` call (one transaction or write where the backend
    supports it); an empty source adds nothing and returns 0. The source is left
    unchanged.

    A target that already holds messages is refused with `ValueError` and left as it
    was, so a conversation is never silently merged into another, unless
    `replace=True`: then the target is cleared first and afterwards holds exactly the
    source's messages.
    """
    # BEGIN SOLUTION
    messages = source.messages
    if target.messages:
        if not replace:
            raise ValueError(
                "the target history already has messages; pass replace=True to overwrite it"
            )
        target.clear()
    if messages:
        target.add_messages(messages)
    return len(messages)
    # END SOLUTION
