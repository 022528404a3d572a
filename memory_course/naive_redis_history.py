"""The lesson's first, naive Redis design, kept only as a baseline for comparison.

This is how the capstone (lesson 12) is usually written on a first attempt, and how
the lesson's text first shows it: the whole conversation as one JSON blob. Lesson 10
(`memory_course.redis_costs`) measures it next to langchain-community's
`RedisChatMessageHistory` and the lesson's own `RedisSessionHistory`, to show what it
costs; `make bench` adds the capstone's reference design. Do not build on it:

* `LimitedRedisChatHistory` keeps the whole conversation as one JSON string. Every
  turn reads it (once for the prompt, once more inside `add_messages`) and writes all
  of it back, so bytes per turn grow with the history, and two concurrent turns on
  one session overwrite each other (read-modify-write without a transaction).
* `list_sessions` fetches each session with its own round trip (1 + N in total) and
  never forgets the ids of expired sessions.

The only change from the lesson's text is a `key_prefix` on the two session helpers,
so the measurements can run on a shared Redis without touching anyone else's keys.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict


class LimitedRedisChatHistory(BaseChatMessageHistory):
    """The lesson's history: the whole conversation as one JSON string."""

    def __init__(
        self,
        session_id: str,
        redis_client: Any,
        max_messages: int = 50,
        ttl_seconds: int = 3600,
        key_prefix: str = "chat:",
    ) -> None:
        self.session_id = session_id
        self.redis_client = redis_client
        self.max_messages = max_messages
        self.ttl_seconds = ttl_seconds
        self.key = f"{key_prefix}{session_id}"

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]  # the base allows a property
        data = self.redis_client.get(self.key)
        if not data:
            return []
        return messages_from_dict(json.loads(data))

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        current = self.messages
        current.extend(messages)
        current = current[-self.max_messages :]
        self.redis_client.set(self.key, json.dumps(messages_to_dict(current)), ex=self.ttl_seconds)

    def clear(self) -> None:
        self.redis_client.delete(self.key)


def create_session(
    redis_client: Any, user_id: str, ttl_seconds: int = 3600, key_prefix: str = ""
) -> str:
    """The lesson's session creation: a hash per session, a set per user."""
    session_id = str(uuid.uuid4())
    now = datetime.now().isoformat()
    redis_client.hset(
        f"{key_prefix}session:{session_id}",
        mapping={"user_id": user_id, "created_at": now, "last_active": now},
    )
    redis_client.expire(f"{key_prefix}session:{session_id}", ttl_seconds)
    redis_client.sadd(f"{key_prefix}user:{user_id}:sessions", session_id)
    return session_id


def list_sessions(redis_client: Any, user_id: str, key_prefix: str = "") -> list[dict]:
    """The lesson's listing: one round trip per session; expired ids stay forever."""
    sessions = []
    for session_id in redis_client.smembers(f"{key_prefix}user:{user_id}:sessions"):
        session_id = session_id.decode() if isinstance(session_id, bytes) else session_id
        data = redis_client.hgetall(f"{key_prefix}session:{session_id}")
        if data:
            data = {
                (k.decode() if isinstance(k, bytes) else k): (
                    v.decode() if isinstance(v, bytes) else v
                )
                for k, v in data.items()
            }
            sessions.append({"session_id": session_id, **data})
    return sorted(sessions, key=lambda s: s["last_active"], reverse=True)
