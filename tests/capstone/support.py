"""Helpers of the capstone tests: models that fail or act mid-turn, and views of the store."""

from __future__ import annotations

from memory_course import OfflineChatModel, RecordingChatModel
from solutions.chat_application import ChatApplication, LimitedRedisChatHistory


class FailingModel(OfflineChatModel):
    """Answers normally until `fail` is set, then raises."""

    fail: bool = False

    def _reply(self, messages, stop):
        if self.fail:
            raise RuntimeError("the model is down")
        return super()._reply(messages, stop)


class CallbackModel(RecordingChatModel):
    """Runs `on_call` (if set) while answering, to act in the middle of a turn."""

    on_call: object = None

    def _reply(self, messages, stop):
        if callable(self.on_call):
            self.on_call()
        return super()._reply(messages, stop)


def is_cluster(client) -> bool:
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


def primaries(client) -> int:
    """How many nodes hold data: 1, or a cluster's masters."""
    return len(client.get_primaries()) if is_cluster(client) else 1


def keys_under(client, prefix: str = "chat:") -> list[str]:
    return sorted(k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000))


def traces_of(client, session_id: str, prefix: str = "chat:") -> list[str]:
    """Every key whose name, or zset member, holds `session_id`."""
    found = []
    for key in keys_under(client, prefix):
        if session_id in key:
            found.append(key)
        elif client.type(key) == b"zset" and client.zscore(key, session_id) is not None:
            found.append(f"{key} (member)")
    return found


def stored_messages(app: ChatApplication, session_id: str):
    return LimitedRedisChatHistory(
        session_id, app.redis, max_messages=10_000, key_prefix=app.key_prefix
    ).messages
