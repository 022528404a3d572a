"""Helpers shared by the graded tests (public and hidden).

They inspect what the grader itself observed (the fake Redis, the fake model's
requests) without assuming any key name or storage layout of a submission.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from grading.fakes import FakeRedisService
from grading.remote import RemoteObject, expect_error

ROLE_NAMES = {
    "human": "human",
    "user": "human",
    "humanmessage": "human",
    "ai": "ai",
    "assistant": "ai",
    "aimessage": "ai",
    "system": "system",
}


# The contract's limits (constants of exercises/chat_application.py, kept as they are).
MAX_MESSAGE_CHARS = 16_000
MAX_USER_ID_CHARS = 128
MAX_SESSION_ID_CHARS = 256
SESSION_INFO_FIELDS = ("session_id", "user_id", "created_at", "last_active", "message_count")
# Nothing answers there: in the sandbox every IP connection is refused at once.
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


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
    data = item.get("data")
    source = data if isinstance(data, dict) else item
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


def info_field(info: Any, name: str) -> Any:
    """One field of what get_session_info or list_sessions returned, however it is shaped.

    Reads `.name`, else `[name]` (a bare id string counts as its own `session_id`), so
    tests of other requirements do not depend on the `SessionInfo` type: only the info
    tests check that.
    """
    if isinstance(info, str) and name == "session_id":
        return info
    if isinstance(info, dict):
        assert name in info, f"a listed session has no {name!r}: {sorted(map(str, info))}"
        return info[name]
    if isinstance(info, RemoteObject):
        try:
            return getattr(info, name)
        except AttributeError:
            pass
        try:
            return info[name]
        except KeyError:
            pass
    shown = info.type_name if isinstance(info, RemoteObject) else type(info).__name__
    raise AssertionError(f"could not read {name!r} from a {shown} (neither .{name} nor [{name!r}])")


def session_ids(listed: Any) -> list[str]:
    """The session ids, in order, of what list_sessions returned (see `info_field`)."""
    assert isinstance(listed, list), (
        f"list_sessions should return a list; it returned {type(listed).__name__}"
    )
    return [info_field(item, "session_id") for item in listed]


def session_text(redis_store: FakeRedisService, session_id: str) -> str:
    """The contents of the keys whose name contains the session id: its own data."""
    return "\n".join(state.text for state in redis_store.keys_named_with(session_id))


def assert_not_extended(before: list[int], after: list[int], doing: str) -> None:
    """No TTL grew between two `session_ttls` readings (-1, no expiry, stays -1)."""
    assert len(after) == len(before) and all(
        (old < 0 and new < 0) or 0 <= new <= old for old, new in zip(before, after, strict=True)
    ), f"{doing} must not extend the session; its TTLs went from {before} to {after}"


# `raises_remote(call, expected)`: the exception `call()` raised in the student's code; a
# failure if it returned. For checks where any exception will do (its exact type is graded
# elsewhere).
raises_remote = expect_error


def attribute(instance: Any, name: str) -> Any:
    """An attribute of an object built in the student's process (`app.max_messages`)."""
    return instance._get(name)
