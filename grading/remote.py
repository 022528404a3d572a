"""The grader's view of objects living in a student's process.

`RemoteInstance` builds an object with a factory of the submission's module and
forwards method calls (`app.chat(sid, "hi")`) through the protocol, returning
decoded values. An assignment's conftest names the factories and adds typed
properties where it needs them (the capstone's `RemoteHistory.messages`).
An exception raised by the student's code comes back as a `RemoteError` whose class
also derives from the first built-in exception in the original's ancestry, so
`pytest.raises(ValueError)` works, and `mro_names` tells its own ancestry by name
(`"SessionNotFoundError" in error.mro_names`). A failure of the process itself
(time-out, exit, crash) is a `SubmissionFailure`, never a `RemoteError`, so no
expected-exception check can be satisfied by crashing. `expect_error` is that check for
graded tests that read the error afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
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
    "RemoteError",
    "RemoteInstance",
    "RemoteObject",
    "SubmissionCrashed",
    "class_mro",
    "expect_error",
    "message",
]

decode = decode_value


class RemoteInstance:
    """An object built in the student's process by a factory of the submission's module.

    `RemoteInstance(process, "ChatApplication", inject={"redis_client": "redis"},
    max_messages=4)` calls `ChatApplication(max_messages=4, redis_client=<fake Redis>)`
    there. Injectable resources: "redis", "redis-decoded" (a client of the test's fake
    Redis, bytes or str replies), "redis-unreachable" (a client of a socket nothing
    listens on: every command fails at once) and "model" (a chat model on the test's
    fake model).
    `harness=True` takes the factory from the assignment's harness instead (grader-owned
    code that builds what an exercise's functions take: a model, a manager, a chain).
    Public methods are forwarded by name (`instance.chat(sid, "hi")`); subclasses in an
    assignment's conftest add properties with `_get(name)` and `_call(method, ...)`.
    """

    _ids = itertools.count(1)

    def __init__(
        self,
        process: SubmissionProcess,
        factory: str,
        *args: Any,
        inject: dict[str, str] | None = None,
        label: str | None = None,
        harness: bool = False,
        **kwargs: Any,
    ):
        self._process = process
        self._id = next(self._ids)
        self._label = label or factory
        request = {
            "op": Op.NEW.value,
            "id": self._id,
            "factory": factory,
            "args": list(args),
            "kwargs": kwargs,
            "inject": dict(inject or {}),
            "harness": harness,
        }
        self._result(request, f"constructing {factory}")

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

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name)

    def __repr__(self) -> str:
        return self._label


class _Method:
    """A forwarded method; its repr keeps pytest's assertion messages short."""

    def __init__(self, target: RemoteInstance, name: str):
        self._target, self._name = target, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target._call(self._name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"{self._target!r}.{self._name}"


def class_mro(process: SubmissionProcess, name: str) -> list[str]:
    """The class names in the ancestry of the submission's module attribute `name`."""
    answer = process.request({"op": Op.CLASS_INFO.value, "name": name}, f"inspecting {name}")
    if "error" in answer:
        raise remote_error(answer["error"])
    return list(decode(answer["ok"]).get("mro", []))


def expect_error(
    call: Callable[[], object], expected: str, *, kind: str | None = None
) -> RemoteError:
    """The `RemoteError` that `call()` raised in the student's code.

    If `call()` returned instead, the test fails saying `expected` and what came back
    (`"<expected>; it returned 3 instead"`). With `kind`, a class name, an error without
    it in its ancestry fails the test too (`"<expected>, not KeyError"`). A crash or
    time-out is no `RemoteError`: it is never taken for the expected error.
    """
    __tracebackhide__ = True
    try:
        value = call()
    except RemoteError as error:
        if kind is not None and kind not in error.mro_names:
            raise AssertionError(f"{expected}, not {error.type_name}") from None
        return error
    raise AssertionError(f"{expected}; it returned {value!r} instead")
