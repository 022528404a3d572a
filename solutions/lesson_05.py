"""Lesson 5 · worked solutions: one UUID per (user, conversation), and moving a history."""

from __future__ import annotations

import json
import uuid

from langchain_core.chat_history import BaseChatMessageHistory

__all__ = ["PAIR_NAMESPACE", "copy_history", "pair_session_uuid"]

# Fixed once for the application: changing it would orphan every stored conversation.
PAIR_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com/chat-sessions/pairs")


def pair_session_uuid(user_id: str, conversation_id: str) -> str:
    """Exercise 1: a stable UUID string for the pair `(user_id, conversation_id)`.

    The pair is encoded as a JSON array before hashing, so the boundary between the two
    fields is unambiguous: `("a:b", "c")` and `("a", "b:c")` get different UUIDs, whatever
    characters the ids contain. Same pair, same UUID, in every process.
    """
    if not isinstance(user_id, str) or not isinstance(conversation_id, str):
        raise TypeError("user_id and conversation_id must be strings")
    name = json.dumps([user_id, conversation_id], ensure_ascii=False)
    return str(uuid.uuid5(PAIR_NAMESPACE, name))


def copy_history(
    source: BaseChatMessageHistory, target: BaseChatMessageHistory, *, replace: bool = False
) -> int:
    """Exercise 2: copy every message of `source` into `target`, in order; return the count.

    The messages go in with one `add_messages` call (one transaction or write where the
    backend supports it). A target that already holds messages is refused with
    `ValueError`, so a conversation is never silently merged into another, unless
    `replace=True`, which clears the target first. The source is left unchanged.
    """
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
