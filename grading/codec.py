"""The wire format between the grader and the processes it confines, both directions.

Frames are a 4-byte big-endian length followed by that many bytes of UTF-8 JSON, over
a Unix socketpair. The grader sends requests (`Op`); the other side answers
`{"ok": value}` or `{"error": {...}}`. A student process answers values and exception
names only, never verdicts; a service process answers what its fakes observed.

Everything read from a confined process is hostile: `read_frame` bounds the frame's
size, its nesting depth and the time the whole frame may take to arrive (a reply
trickled one byte at a time still ends at the deadline).

Values are JSON with a few tagged forms, encoded by `encode_value` (in the confined
process) and decoded by `decode_value` (in the grader):

- `{"$datetime": "2025-01-01T00:00:00+00:00"}` a `datetime`; `{"$date": ...}` a `date`;
- `{"$message": "human", "content": "..."}` a LangChain message (both directions);
- `{"$dict": [[key, value], ...]}` a dict with any keys;
- `{"$object": "SessionInfo", "fields": {...}, "items": {...}, "to_dict": ...}` any
  other object, described by the attributes and keys the grader asks about;
- `{"$error": {"type": ..., "mro": [...], "message": ...}}` an exception raised while
  describing a value; `{"$repr": "..."}` a value of no other form.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import math
import select
import socket
import struct
import time
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple

from grading import defaults

__all__ = [
    "MISSING_KEY",
    "FrameTooLarge",
    "Message",
    "Op",
    "ProtocolError",
    "RemoteError",
    "RemoteObject",
    "RemoteRepr",
    "decode_argument",
    "decode_value",
    "describe_exception",
    "encode_value",
    "message",
    "read_frame",
    "remote_error",
    "write_frame",
]

HEADER = struct.Struct(">I")


class Op(StrEnum):
    """Operation names of requests. Student process: NEW..CLASS_INFO; services: the rest."""

    NEW = "new"  # call a factory (class or function) of the submission's module
    CALL = "call"  # call a method of an object constructed earlier
    GETATTR = "getattr"  # read an attribute of such an object
    CLASS_INFO = "class_info"  # ancestry of a module attribute
    DUMP = "dump"  # every live key of the fake Redis
    ADVANCE = "advance"  # move the fake Redis clock forward
    APPEND = "append"  # the grader appends raw elements to a list of the fake Redis
    REQUESTS = "requests"  # bodies the fake model received
    REPLY_TO = "reply_to"  # the fake model's reply to one request
    FAIL_NEXT = "fail_next"  # make the next completions fail with HTTP 500


class ProtocolError(Exception):
    """The peer closed the connection or sent something that is not a valid frame."""


class FrameTooLarge(ProtocolError):
    """A frame announced more bytes than the reader accepts."""


# ---------------------------------------------------------------- framing


def write_frame(sock: socket.socket, payload: Any) -> None:
    """Send `payload` as one JSON frame (blocking, honouring the socket's timeout).

    ASCII JSON: a lone surrogate travels as its `\\udXXX` escape, so text that is not
    valid Unicode arrives as it was sent (a test of input validation can send one).
    """
    data = json.dumps(payload, ensure_ascii=True, allow_nan=False).encode("ascii")
    sock.sendall(HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise TimeoutError("no complete frame before the deadline")
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError("connection closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def read_frame(
    sock: socket.socket,
    max_bytes: int,
    deadline: float | None = None,
    max_depth: int = defaults.MAX_JSON_DEPTH,
) -> Any:
    """One JSON frame. `ProtocolError` on EOF, garbage, excess size or depth;
    `TimeoutError` when the whole frame has not arrived by `deadline` (monotonic)."""
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size, deadline))
    if size > max_bytes:
        raise FrameTooLarge(f"frame of {size} bytes exceeds the limit of {max_bytes}")
    data = _read_exactly(sock, size, deadline)
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"invalid frame: {type(exc).__name__}") from None
    if _depth(value, max_depth) > max_depth:
        raise ProtocolError(f"frame nested deeper than {max_depth} levels")
    return value


def describe_exception(exc: BaseException, limit: int = 2000) -> dict[str, Any]:
    """An exception as data: its class name, the names of its classes, its message, and
    the class names of its explicit cause (`raise ... from cause`), if any."""
    mro = [cls.__name__ for cls in type(exc).__mro__]
    try:
        text = str(exc)
    except Exception:  # a hostile __str__ must not break the answer
        text = "<unprintable exception>"
    cause = exc.__cause__
    cause_mro = [cls.__name__ for cls in type(cause).__mro__] if cause is not None else []
    return {"type": type(exc).__name__, "mro": mro, "message": text[:limit], "cause": cause_mro}


# ------------------------------------------------- values: confined process side

# Attributes and keys read from objects of no known type (the capstone's SessionInfo),
# as the assignment declares them (`described_fields`); set once per student process.
DESCRIBED_FIELDS: tuple[str, ...] = ()


# Read from a described object as a key no assignment declares.
MISSING_KEY = "no_such_field"


def set_described_fields(names: tuple[str, ...]) -> None:
    """Which attributes and keys `encode_value` reads from an object of no known type."""
    global DESCRIBED_FIELDS
    DESCRIBED_FIELDS = tuple(str(name) for name in names)


def _describe(obj: Any, depth: int) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    items: dict[str, Any] = {}
    for name in DESCRIBED_FIELDS:
        try:
            fields[name] = encode_value(getattr(obj, name), depth + 1)
        except AttributeError:
            pass
        except Exception as exc:
            fields[name] = {"$error": describe_exception(exc)}
        try:
            items[name] = encode_value(obj[name], depth + 1)
        except Exception as exc:
            items[name] = {"$error": describe_exception(exc)}
    # The answer to a key that is not a field (a mapping-like object raises KeyError).
    try:
        missing: Any = {"value": encode_value(obj[MISSING_KEY], depth + 1)}
    except Exception as exc:
        missing = {"$error": describe_exception(exc)}
    to_dict: Any
    try:
        to_dict = {"json": json.dumps(obj.to_dict(), allow_nan=False)}
    except Exception as exc:
        to_dict = {"$error": describe_exception(exc)}
    return {
        "$object": type(obj).__name__,
        "dataclass": dataclasses.is_dataclass(obj),
        "fields": fields,
        "items": items,
        "missing_key": missing,
        "to_dict": to_dict,
    }


def encode_value(value: Any, depth: int = 0) -> Any:
    """A Python value as protocol JSON (in the confined process)."""
    if depth > 32:
        return {"$repr": "<nested too deeply>"}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$repr": repr(value)}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode_value(item, depth + 1) for item in value]
    if isinstance(value, dict):
        pairs = [[encode_value(k, depth + 1), encode_value(v, depth + 1)] for k, v in value.items()]
        return {"$dict": pairs}
    from langchain_core.messages import BaseMessage

    if isinstance(value, BaseMessage):
        content = value.content if isinstance(value.content, str) else value.text
        return {"$message": value.type, "content": str(content)}
    return _describe(value, depth)


def decode_argument(value: Any) -> Any:
    """Request arguments (plain JSON plus `$message`s) as Python values (confined side)."""
    if isinstance(value, list):
        return [decode_argument(item) for item in value]
    if isinstance(value, dict):
        if "$message" in value:
            from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

            kinds = {"human": HumanMessage, "ai": AIMessage, "system": SystemMessage}
            return kinds[value["$message"]](content=value["content"])
        return {key: decode_argument(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------- values: grader side


def message(kind: str, content: str) -> dict[str, str]:
    """A message argument for a request: `kind` is "human", "ai" or "system"."""
    return {"$message": kind, "content": content}


class Message(NamedTuple):
    """A LangChain message as reported by the student's process."""

    type: str
    content: str


class RemoteRepr(str):
    """A value of a type the protocol does not carry, as its type name."""


class RemoteError(Exception):
    """An exception raised by the student's code, carried back by name and message."""

    type_name: str = "Exception"
    mro_names: tuple[str, ...] = ()
    # The class names of the exception's explicit cause (`raise ... from cause`).
    cause_names: tuple[str, ...] = ()
    remote_message: str = ""
    where: str = ""

    def __str__(self) -> str:
        where = f" (raised by your code while {self.where})" if self.where else ""
        return f"{self.remote_message or '(no message)'}{where}"


@cache
def _error_class(type_name: str, builtin_name: str | None) -> type[RemoteError]:
    base = getattr(builtins, builtin_name) if builtin_name else None
    bases: tuple[type, ...] = (RemoteError, base) if base is not None else (RemoteError,)
    # Shown by pytest as `SessionNotFoundError: ...`, like a built-in exception.
    return type(type_name, bases, {"__module__": "builtins"})


def remote_error(info: Any, where: str = "") -> RemoteError:
    """Rebuild a `RemoteError` from `describe_exception` data (any shape tolerated)."""
    info = info if isinstance(info, dict) else {}
    raw_mro = info.get("mro", [])
    mro = tuple(str(name)[:100] for name in raw_mro[:64]) if isinstance(raw_mro, list) else ()
    builtins_in_mro = [
        name
        for name in mro
        if name not in {"Exception", "BaseException", "object"}
        and isinstance(getattr(builtins, name, None), type)
        and issubclass(getattr(builtins, name), Exception)
    ]
    type_name = str(info.get("type", "Exception"))[:100]
    if not type_name.isidentifier():
        type_name = "Exception"
    text = str(info.get("message", ""))[:2000]
    error: RemoteError | None = None
    # The first built-in base that is built from a message alone (UnicodeEncodeError,
    # say, needs five arguments: its base UnicodeError stands in for it).
    for builtin_name in [*builtins_in_mro, None]:
        try:
            error = _error_class(type_name, builtin_name)(text)
            break
        except TypeError:
            continue
    assert error is not None  # RemoteError alone always takes a message
    error.type_name = type_name
    error.mro_names = mro
    raw_cause = info.get("cause", [])
    if isinstance(raw_cause, list):
        error.cause_names = tuple(str(name)[:100] for name in raw_cause[:64])
    error.remote_message = text
    error.where = where
    return error


class _Failure:
    def __init__(self, info: Any):
        self.info = info


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Failure):
        raise remote_error(value.info)
    return value


class RemoteObject:
    """An object returned by the student's code (a `SessionInfo`), as described.

    Attribute access, `obj[key]` and `obj.to_dict()` give what the student's object
    gave for the described fields; an exception it raised is re-raised here.
    `obj[MISSING_KEY]` gives what it did for a key that is not a field.
    """

    def __init__(self, data: dict[str, Any]):
        self.type_name = str(data.get("$object"))[:100]
        self.is_dataclass = bool(data.get("dataclass"))
        fields, items = data.get("fields", {}), data.get("items", {})
        self._fields = {str(k): decode_value(v) for k, v in dict(fields).items()}
        self._items = {str(k): decode_value(v) for k, v in dict(items).items()}
        to_dict = data.get("to_dict", {})
        self._to_dict = to_dict if isinstance(to_dict, dict) else {}
        missing = data.get("missing_key", {})
        self._missing = missing if isinstance(missing, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._fields:
            raise AttributeError(f"{self.type_name} object has no attribute {name!r}")
        return _unwrap(self._fields[name])

    def __getitem__(self, key: str) -> Any:
        if key == MISSING_KEY:  # what the student's object did for a key it lacks
            if "$error" in self._missing:
                raise remote_error(self._missing["$error"], f"reading [{key!r}]")
            return decode_value(self._missing.get("value"))
        if key not in self._items:
            raise KeyError(key)
        return _unwrap(self._items[key])

    def to_dict(self) -> Any:
        if "$error" in self._to_dict:
            raise remote_error(self._to_dict["$error"])
        return json.loads(str(self._to_dict.get("json", "null")))

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in list(self._fields.items())[:3])
        return f"{self.type_name}({shown}, ...)"


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def decode_value(value: Any) -> Any:
    """Protocol JSON to grader-side values; malformed tags become `RemoteRepr`."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    try:
        if "$datetime" in value:
            try:
                return datetime.fromisoformat(str(value["$datetime"]))
            except ValueError:
                return RemoteRepr(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(str(value["$date"]))
        if "$dict" in value:
            return {_hashable(decode_value(k)): decode_value(v) for k, v in value["$dict"]}
        if "$message" in value:
            return Message(str(value["$message"]), str(value.get("content", "")))
        if "$object" in value:
            return RemoteObject(value)
        if "$error" in value:
            return _Failure(value["$error"])
        return RemoteRepr(str(value.get("$repr", "<unknown>")))
    except (TypeError, ValueError):
        return RemoteRepr("<malformed value>")
