"""The grader's view of objects living in a student's process.

`RemoteApp` forwards method calls (`app.chat(sid, "hi")`) through the protocol and
returns decoded values; `RemoteHistory` does the same for `LimitedRedisChatHistory`.
An exception raised by the student's code comes back as a `RemoteError` whose class
also derives from the first built-in exception in the original's ancestry, so
`pytest.raises(ValueError)` works, and `mro_names` tells its own ancestry by name
(`"SessionNotFoundError" in error.mro_names`). A failure of the process itself
(time-out, exit, crash) is a `SubmissionFailure`, never a `RemoteError`, so no
expected-exception check can be satisfied by crashing.
"""

from __future__ import annotations

import builtins
import itertools
import json
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from grading.sandbox import SubmissionCrashed, SubmissionProcess

__all__ = [
    "Message",
    "RemoteApp",
    "RemoteError",
    "RemoteHistory",
    "RemoteObject",
    "decode",
    "message",
]


class RemoteError(Exception):
    """An exception raised by the student's code, carried back by name and message."""

    type_name: str = "Exception"
    mro_names: tuple[str, ...] = ()
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


def remote_error(info: dict[str, Any], where: str = "") -> RemoteError:
    """Rebuild a `RemoteError` from `describe_exception` data."""
    mro = tuple(str(name) for name in info.get("mro", []))
    builtin_name = next(
        (
            name
            for name in mro
            if name not in {"Exception", "BaseException", "object"}
            and isinstance(getattr(builtins, name, None), type)
            and issubclass(getattr(builtins, name), Exception)
        ),
        None,
    )
    type_name = str(info.get("type", "Exception"))
    error = _error_class(type_name, builtin_name)(str(info.get("message", "")))
    error.type_name = type_name
    error.mro_names = mro
    error.remote_message = str(info.get("message", ""))
    error.where = where
    return error


class Message(NamedTuple):
    """A LangChain message as reported by the student's process."""

    type: str
    content: str


def message(kind: str, content: str) -> dict[str, str]:
    """A message argument for a request: `kind` is "human", "ai" or "system"."""
    return {"$message": kind, "content": content}


class _Failure:
    def __init__(self, info: dict[str, Any]):
        self.info = info


class RemoteObject:
    """An object returned by the student's code (a `SessionInfo`), as described.

    Attribute access, `obj[key]` and `obj.to_dict()` give what the student's object
    gave for the fields of `SessionInfo`; an exception it raised is re-raised here.
    `to_dict()` returns the parsed result of `json.dumps(obj.to_dict())` done in the
    student's process, so a value that is not JSON-ready fails there.
    """

    def __init__(self, data: dict[str, Any]):
        self.type_name = str(data.get("$object"))
        self.is_dataclass = bool(data.get("dataclass"))
        self._fields = {k: decode(v) for k, v in dict(data.get("fields", {})).items()}
        self._items = {k: decode(v) for k, v in dict(data.get("items", {})).items()}
        self._to_dict = data.get("to_dict", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._fields:
            raise AttributeError(f"{self.type_name} object has no attribute {name!r}")
        return _unwrap(self._fields[name])

    def __getitem__(self, key: str) -> Any:
        if key not in self._items:
            raise KeyError(key)
        return _unwrap(self._items[key])

    def to_dict(self) -> Any:
        if "$error" in self._to_dict:
            raise remote_error(self._to_dict["$error"])
        return json.loads(self._to_dict["json"])

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{key}={value!r}"
            for key, value in self._fields.items()
            if key in ("session_id", "user_id", "message_count")
        )
        return f"{self.type_name}({shown}, ...)"


class RemoteRepr(str):
    """A value of a type the protocol does not carry, as its type name."""


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Failure):
        raise remote_error(value.info)
    return value


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def decode(value: Any) -> Any:
    """Protocol JSON to grader-side values (see `grading.protocol`)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$datetime" in value:
        try:
            return datetime.fromisoformat(str(value["$datetime"]))
        except ValueError:
            return RemoteRepr(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(str(value["$date"]))
    if "$dict" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["$dict"]}
    if "$message" in value:
        return Message(str(value["$message"]), str(value.get("content", "")))
    if "$object" in value:
        return RemoteObject(value)
    if "$error" in value:
        return _Failure(value["$error"])
    return RemoteRepr(str(value.get("$repr", "<unknown>")))


class _Remote:
    _ids = itertools.count(1)

    def __init__(self, process: SubmissionProcess, request: dict[str, Any], doing: str):
        self._process = process
        self._id = next(self._ids)
        self._result({**request, "id": self._id}, doing)

    def _result(self, request: dict[str, Any], doing: str) -> Any:
        answer = self._process.request(request, doing)
        if "error" in answer:
            raise remote_error(answer["error"], doing)
        return decode(answer["ok"])

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        request = {"op": "call", "target": self._id, "method": method, "args": list(args)}
        return self._result({**request, "kwargs": kwargs}, f"calling {method}()")

    def _get(self, name: str) -> Any:
        request = {"op": "getattr", "target": self._id, "name": name}
        return self._result(request, f"reading .{name}")


class RemoteApp(_Remote):
    """A `ChatApplication` in the student's process; methods are forwarded by name."""

    def __init__(self, process: SubmissionProcess, options: dict[str, Any], **injected: Any):
        request = {"op": "new", "kwargs": options, **injected}
        super().__init__(process, request, "constructing ChatApplication")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name)

    def __repr__(self) -> str:
        return "app"


class _Method:
    """A forwarded method; its repr keeps pytest's assertion messages short."""

    def __init__(self, app: RemoteApp, name: str):
        self._app, self._name = app, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._app._call(self._name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"app.{self._name}"


class RemoteHistory(_Remote):
    """A `LimitedRedisChatHistory` in the student's process."""

    def __init__(self, process: SubmissionProcess, session_id: str, options: dict[str, Any], **kw):
        request = {"op": "history", "session_id": session_id, "kwargs": options, **kw}
        super().__init__(process, request, "constructing LimitedRedisChatHistory")

    @property
    def messages(self) -> list[Message]:
        value = self._get("messages")
        if not isinstance(value, list):
            raise SubmissionCrashed(f"messages returned {type(value).__name__}, not a list")
        return value

    def add_messages(self, messages: list[dict[str, str]]) -> Any:
        return self._call("add_messages", messages)

    def clear(self) -> Any:
        return self._call("clear")


def class_mro(process: SubmissionProcess, name: str) -> list[str]:
    """The class names in the ancestry of the submission's module attribute `name`."""
    answer = process.request({"op": "class_info", "name": name}, f"inspecting {name}")
    if "error" in answer:
        raise remote_error(answer["error"])
    return list(decode(answer["ok"]).get("mro", []))
