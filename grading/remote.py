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

import itertools
from typing import Any

from grading.codec import (
    Message,
    Op,
    RemoteError,
    RemoteObject,
    decode_value,
    message,
    remote_error,
)
from grading.sandbox import SubmissionCrashed, SubmissionProcess

__all__ = [
    "Message",
    "RemoteApp",
    "RemoteError",
    "RemoteHistory",
    "RemoteObject",
    "message",
]

decode = decode_value


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
        request = {"op": Op.CALL.value, "target": self._id, "method": method, "args": list(args)}
        return self._result({**request, "kwargs": kwargs}, f"calling {method}()")

    def _get(self, name: str) -> Any:
        request = {"op": Op.GETATTR.value, "target": self._id, "name": name}
        return self._result(request, f"reading .{name}")


class RemoteApp(_Remote):
    """A `ChatApplication` in the student's process; methods are forwarded by name."""

    def __init__(self, process: SubmissionProcess, options: dict[str, Any], **injected: Any):
        request = {"op": Op.NEW.value, "kwargs": options, **injected}
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
        request = {"op": Op.HISTORY.value, "session_id": session_id, "kwargs": options, **kw}
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
    answer = process.request({"op": Op.CLASS_INFO.value, "name": name}, f"inspecting {name}")
    if "error" in answer:
        raise remote_error(answer["error"])
    return list(decode(answer["ok"]).get("mro", []))
