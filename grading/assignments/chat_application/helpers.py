"""Helpers shared by the graded tests (public and hidden).

They inspect what the grader itself observed (the fake Redis, the fake model's
requests) without assuming any key name or storage layout of a submission.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from grading.fakes import FakeRedisService

ROLE_NAMES = {
    "human": "human",
    "user": "human",
    "humanmessage": "human",
    "ai": "ai",
    "assistant": "ai",
    "aimessage": "ai",
    "system": "system",
}


def marker(label: str | int) -> str:
    """A word that appears nowhere else, to find a message in stored data."""
    return f"mk{label}x"


def is_uuid4(value: Any) -> bool:
    try:
        return (
            isinstance(value, str)
            and uuid.UUID(value).version == 4
            and str(uuid.UUID(value)) == value.lower()
        )
    except ValueError:
        return False


def stored_contents(redis_store: FakeRedisService) -> list[tuple[str, str, str]]:
    """What is stored (names, types, contents), ignoring TTLs, to compare snapshots."""
    return [(state.name, state.type, state.text) for state in redis_store.dump()]


def session_ttls(redis_store: FakeRedisService, session_id: str) -> list[int]:
    """The TTL of every key whose name contains the session id."""
    return [state.ttl for state in redis_store.keys_named_with(session_id)]


def assert_expiring(
    redis_store: FakeRedisService, session_id: str, low: float, high: float
) -> None:
    ttls = session_ttls(redis_store, session_id)
    assert ttls, (
        "no Redis key name contains the session id: the session's data must be stored under keys of its own"
    )
    assert all(low <= ttl <= high for ttl in ttls), (
        f"every key of the session should expire in {low:g}..{high:g} s; their TTLs are {ttls} (-1: no expiry)"
    )


def normalise_role(value: Any) -> str | None:
    return ROLE_NAMES.get(str(value).strip().lower().replace("_", "").replace(" ", ""))


def export_messages(data: Any) -> list[tuple[str | None, str]] | None:
    """The first list of message-like objects in parsed export JSON, as (role, text)."""
    candidates: list[Any] = [data]
    while candidates:
        value = candidates.pop(0)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            pairs = [_message_pair(item) for item in value]
            if all(pair is not None for pair in pairs):
                return pairs  # type: ignore[return-value]
        if isinstance(value, dict):
            candidates.extend(value.values())
        elif isinstance(value, list):
            candidates.extend(value)
    return None


def _message_pair(item: dict[str, Any]) -> tuple[str | None, str] | None:
    source = item.get("data") if isinstance(item.get("data"), dict) else item
    text = next(
        (source[k] for k in ("content", "text", "message") if isinstance(source.get(k), str)), None
    )
    if text is None:
        return None
    role = next(
        (item[k] for k in ("role", "type", "sender", "author", "speaker") if k in item), None
    )
    return normalise_role(role) if role is not None else None, text


def mentions_role(text: str, role: str) -> bool:
    words = {"human": r"\b(user|human|you)\b", "ai": r"\b(assistant|ai|bot)\b"}[role]
    return re.search(words, text, re.IGNORECASE) is not None


def appear_in_order(text: str, parts: list[str]) -> bool:
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True
