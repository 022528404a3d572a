"""The request/response protocol between the grader and a student's process.

Frames are a 4-byte big-endian length followed by that many bytes of UTF-8 JSON, sent
over a Unix socketpair. The grader sends requests (`new`, `call`, `getattr`, ...); the
student's process answers with `{"ok": value}` or `{"error": {...}}`. Answers carry
values and exception names only, never verdicts: every verdict is computed by the
grader from what it observed itself.

Values are JSON with a few tagged forms, encoded by the student's side and decoded
by the grader's side:

- `{"$datetime": "2025-01-01T00:00:00+00:00"}` a `datetime`;
- `{"$message": "human", "content": "..."}` a LangChain message;
- `{"$object": "SessionInfo", "fields": {...}, "items": {...}, "to_dict": ...}` any
  other object, described by the attributes and mapping keys the grader asked about;
- `{"$error": {"type": ..., "mro": [...], "message": ...}}` an exception raised while
  describing a value (for example by `info["message_count"]`).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = [
    "FrameTooLarge",
    "ProtocolError",
    "describe_exception",
    "read_frame",
    "write_frame",
]

HEADER = struct.Struct(">I")
# What the grader accepts from a student's process: a generous bound for exports of
# long sessions, small enough that a hostile answer cannot exhaust the grader's memory.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# What the student's process accepts from the grader (tests send at most ~1 MB).
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class ProtocolError(Exception):
    """The peer closed the connection or sent something that is not a valid frame."""


class FrameTooLarge(ProtocolError):
    """A frame announced more bytes than the reader accepts."""


def write_frame(sock: socket.socket, payload: Any) -> None:
    """Send `payload` as one JSON frame (blocking, honouring the socket's timeout)."""
    data = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    sock.sendall(HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError("connection closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, max_bytes: int) -> Any:
    """Read one JSON frame; `ProtocolError` on EOF or garbage, `socket.timeout` on timeout."""
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    if size > max_bytes:
        raise FrameTooLarge(f"frame of {size} bytes exceeds the limit of {max_bytes}")
    data = _read_exactly(sock, size)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"invalid frame: {exc}") from None


def describe_exception(exc: BaseException, limit: int = 2000) -> dict[str, Any]:
    """An exception as data: its class name, the names of its classes, its message."""
    mro = [cls.__name__ for cls in type(exc).__mro__]
    try:
        message = str(exc)
    except Exception:  # a hostile __str__ must not break the answer
        message = "<unprintable exception>"
    return {"type": type(exc).__name__, "mro": mro, "message": message[:limit]}
