"""The grader's view of one test's fake Redis and fake chat model.

Both run in a confined process of their own (`grading.services`); these classes ask
it, over a control socket only the grader holds, what the student's code really
stored and really sent, whatever the code claims. What comes back is treated as
untrusted data: bounded by the codec, and every field checked for its type here.

- `FakeRedisService`: `dump()` lists every key with its type, TTL and contents as
  text, so tests never depend on a submission's key names; `advance(seconds)` moves
  the fake server's clock forward for expiry tests; `append(key, *values)` writes
  raw list elements (foreign data the student's code must refuse to read).
- `ModelService`: `prompts` are the messages of every request, as received;
  `reply_to(i)` the offline model's reply; `fail_next(n)` makes the next `n`
  completions fail with HTTP 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grading.codec import Op
from grading.sandbox import ServiceProcess, ServiceUnavailable

__all__ = ["FakeRedisService", "KeyState", "ModelService", "Prompt"]


@dataclass(frozen=True)
class KeyState:
    """One Redis key: its type, its TTL in seconds (-1: none) and its contents as text."""

    name: str
    type: str
    ttl: int
    text: str

    def mentions(self, needle: str) -> bool:
        return needle in self.name or needle in self.text


def _key_state(raw: Any) -> KeyState:
    if not isinstance(raw, dict):
        raise ServiceUnavailable("the fake Redis answered a malformed key list")
    try:
        return KeyState(str(raw["name"]), str(raw["type"]), int(raw["ttl"]), str(raw["text"]))
    except (KeyError, TypeError, ValueError):
        raise ServiceUnavailable("the fake Redis answered a malformed key list") from None


class FakeRedisService:
    """The test's fake Redis, inspected through its service process."""

    def __init__(self, service: ServiceProcess):
        self._service = service

    def dump(self) -> list[KeyState]:
        """Every live key with its type, TTL and contents (sorted by name)."""
        raw = self._service.request(Op.DUMP)
        if not isinstance(raw, list):
            raise ServiceUnavailable("the fake Redis answered a malformed key list")
        return [_key_state(item) for item in raw]

    def keys_mentioning(self, needle: str) -> list[KeyState]:
        """Keys whose name or contents contain `needle` (a session id, a marker word)."""
        return [state for state in self.dump() if state.mentions(needle)]

    def keys_named_with(self, needle: str) -> list[KeyState]:
        return [state for state in self.dump() if needle in state.name]

    def stored_text(self) -> str:
        """Everything stored, names and contents, as one text to search."""
        return "\n".join(f"{s.name}\n{s.text}" for s in self.dump())

    def append(self, key: str, *values: str) -> None:
        """RPUSH raw `values` to the list `key`: data the student's code did not write."""
        self._service.request(Op.APPEND, key=str(key), values=[str(v) for v in values])

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward: every expiry comes `seconds` closer."""
        self._service.request(Op.ADVANCE, seconds=float(seconds))


class Prompt(list):
    """The messages of one model request as `(role, content)` pairs, in order."""

    @property
    def roles(self) -> list[str]:
        return [role for role, _ in self]

    @property
    def contents(self) -> list[str]:
        return [content for _, content in self]

    @property
    def history(self) -> list[tuple[str, str]]:
        """The messages between the system prompt(s) and the last user message."""
        body = [pair for pair in self if pair[0] not in ("system", "developer")]
        return body[:-1]


def _content(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(part.get("text", "")) for part in value if isinstance(part, dict))
    return "" if value is None else str(value)


class ModelService:
    """The test's fake model (the OpenAI-compatible stub), inspected through its service."""

    def __init__(self, service: ServiceProcess):
        self._service = service

    def fail_next(self, count: int = 1) -> None:
        self._service.request(Op.FAIL_NEXT, count=int(count))

    @property
    def requests(self) -> list[dict[str, Any]]:
        raw = self._service.request(Op.REQUESTS)
        if not isinstance(raw, list):
            raise ServiceUnavailable("the fake model answered a malformed request list")
        return [body if isinstance(body, dict) else {} for body in raw]

    @property
    def prompts(self) -> list[Prompt]:
        prompts = []
        for body in self.requests:
            messages = body.get("messages", [])
            messages = messages if isinstance(messages, list) else []
            prompts.append(
                Prompt(
                    (str(m.get("role")), _content(m.get("content")))
                    for m in messages
                    if isinstance(m, dict)
                )
            )
        return prompts

    def reply_to(self, prompt_index: int = -1) -> str:
        """The reply the model gave (or would give) to request `prompt_index`."""
        return str(self._service.request(Op.REPLY_TO, index=int(prompt_index)))
