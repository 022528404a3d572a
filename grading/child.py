"""What runs inside a student's process: confinement, import, then the protocol loop.

`main` is entered in a freshly forked process (see `grading.sandbox`). It confines
itself (namespaces were entered by its parent; here: hidden paths, resource limits,
its own uid, a network guard, blocked imports), redirects its output to a capture
file, imports the student's `chat_application.py` and answers the grader's requests
until the connection closes. It reports values and exception names, never verdicts:
the grader decides from what it observes in its own fake Redis and fake model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.abc
import importlib.util
import json
import math
import os
import socket
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from grading import confine
from grading.protocol import (
    MAX_REQUEST_BYTES,
    ProtocolError,
    describe_exception,
    read_frame,
    write_frame,
)

__all__ = ["SESSION_FIELDS", "chat_model", "encode", "main", "redis_client"]

SESSION_FIELDS = ("session_id", "user_id", "created_at", "last_active", "message_count")
# Packages a submission must not import: the grader, the reference solution, the tests.
BLOCKED_PACKAGES = ("grading", "solutions", "tests", "pytest", "_pytest")


class _BlockedImports(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"submissions may not import {fullname!r}")
        return None


def _encode_text(value: str) -> str:
    return str(value)


def _describe(obj: Any, depth: int) -> dict[str, Any]:
    """An object as the fields and keys the grader may ask about (SessionInfo)."""
    fields: dict[str, Any] = {}
    items: dict[str, Any] = {}
    for name in SESSION_FIELDS:
        try:
            fields[name] = encode(getattr(obj, name), depth + 1)
        except AttributeError:
            pass
        except Exception as exc:
            fields[name] = {"$error": describe_exception(exc)}
        try:
            items[name] = encode(obj[name], depth + 1)
        except Exception as exc:
            items[name] = {"$error": describe_exception(exc)}
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
        "to_dict": to_dict,
    }


def encode(value: Any, depth: int = 0) -> Any:
    """A Python value as protocol JSON (see `grading.protocol` for the tagged forms)."""
    if depth > 32:
        return {"$repr": "<nested too deeply>"}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$repr": repr(value)}
    if isinstance(value, str):
        return _encode_text(value)
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    from langchain_core.messages import BaseMessage

    if isinstance(value, BaseMessage):
        content = value.content if isinstance(value.content, str) else value.text
        return {"$message": value.type, "content": str(content)}
    return _describe(value, depth)


def _decode_argument(value: Any) -> Any:
    """Requests carry plain JSON plus `{"$message": type, "content": ...}` messages."""
    if isinstance(value, list):
        return [_decode_argument(item) for item in value]
    if isinstance(value, dict):
        if "$message" in value:
            from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

            kinds = {"human": HumanMessage, "ai": AIMessage, "system": SystemMessage}
            return kinds[value["$message"]](content=value["content"])
        return {key: _decode_argument(item) for key, item in value.items()}
    return value


def redis_client(socket_path: str, decode_responses: bool) -> Any:
    """The client a submission receives: the grader's fake Redis, on a Unix socket."""
    import redis

    return redis.Redis(
        unix_socket_path=socket_path, decode_responses=decode_responses, socket_timeout=10
    )


def chat_model(socket_path: str) -> Any:
    """The model a submission receives: `ChatOpenAI` talking to the grader's fake model.

    It is reached through a Unix socket, so the host name is never resolved.
    """
    import httpx
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url="http://localhost/v1",
        api_key="grader",
        model="stub",
        max_retries=0,
        timeout=30,
        # Plain HTTP over a Unix socket: no TLS context to build (loading CAs is slow).
        http_client=httpx.Client(
            transport=httpx.HTTPTransport(uds=socket_path, verify=False), verify=False
        ),
        http_async_client=httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=socket_path, verify=False), verify=False
        ),
    )


class _Session:
    """The objects the grader created in this process, by the ids it chose."""

    def __init__(self, module: ModuleType, spec: dict[str, Any]):
        self.module = module
        self.spec = spec
        self.objects: dict[int, Any] = {}

    def redis_client(self, decode_responses: bool) -> Any:
        return redis_client(self.spec["redis_socket"], decode_responses)

    def chat_model(self) -> Any:
        return chat_model(self.spec["model_socket"])

    def handle(self, request: dict[str, Any]) -> Any:
        op = request["op"]
        if op == "new":
            kwargs = _decode_argument(request.get("kwargs", {}))
            if request.get("redis_client"):
                kwargs["redis_client"] = self.redis_client(request.get("decode_responses", False))
            if request.get("llm"):
                kwargs["llm"] = self.chat_model()
            self.objects[request["id"]] = self.module.ChatApplication(**kwargs)
            return None
        if op == "history":
            kwargs = _decode_argument(request.get("kwargs", {}))
            client = self.redis_client(request.get("decode_responses", False))
            history_class = self.module.LimitedRedisChatHistory
            self.objects[request["id"]] = history_class(request["session_id"], client, **kwargs)
            return None
        if op == "call":
            target = self.objects[request["target"]]
            method = getattr(target, request["method"])
            args = _decode_argument(request.get("args", []))
            kwargs = _decode_argument(request.get("kwargs", {}))
            return encode(method(*args, **kwargs))
        if op == "getattr":
            return encode(getattr(self.objects[request["target"]], request["name"]))
        if op == "class_info":
            value = getattr(self.module, request["name"], None)
            if not isinstance(value, type):
                return {"$dict": [["exists", value is not None], ["mro", []]]}
            return {"$dict": [["exists", True], ["mro", [c.__name__ for c in value.__mro__]]]}
        raise ValueError(f"unknown operation {op!r}")


def _redirect_output(output_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own standard streams
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115


def _close_other_fds(keep: set[int]) -> None:
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = list(range(3, 1024))
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _unix_sockets_only() -> None:
    """Refuse every IP connection: the grader's fake Redis and model are Unix sockets."""
    from memory_course import offline_guard

    offline_guard.install()
    guarded_connect = socket.socket.connect
    guarded_connect_ex = socket.socket.connect_ex

    def refuse(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise offline_guard.OfflineViolation(
                f"network access to {address!r} is blocked while grading"
            )

    def connect(self: socket.socket, address: Any) -> None:
        refuse(self, address)
        return guarded_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse(self, address)
        return guarded_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def _confine(spec: dict[str, Any], namespaces: list[str], output_fd: int) -> list[str]:
    """Apply every protection available here; the names of those in force."""
    applied = [f"{name} namespace" for name in namespaces]
    # Its own session and process group: kill(0, ...) cannot reach the grader.
    os.setsid()
    if "mount" in namespaces:
        hidden = confine.hide_paths(spec["hide_paths"])
        if hidden:
            applied.append(f"grader files hidden ({len(hidden)} paths)")
        if "pid" in namespaces and confine.mount_private_proc():
            applied.append("private /proc")
    limits = spec["limits"]
    processes = limits["processes"] if spec.get("uid") is not None else None
    applied += [
        f"limit: {name}"
        for name in confine.apply_limits(
            memory_bytes=limits["memory_bytes"],
            file_bytes=limits["file_bytes"],
            cpu_seconds=limits["cpu_seconds"],
            processes=processes,
        )
    ]
    work_dir = spec["work_dir"]
    if spec.get("uid") is not None and confine.drop_privileges(spec["uid"], spec["gid"]):
        applied.append(f"dedicated uid {spec['uid']}")
    elif "user" in namespaces and confine.drop_capabilities():
        applied.append("no capabilities")
    if confine.set_no_new_privs():
        applied.append("no new privileges")
    confine.set_parent_death_signal()
    os.chdir(work_dir)
    os.environ.clear()
    os.environ.update(
        {
            "HOME": work_dir,
            "TMPDIR": work_dir,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "MEMORY_COURSE_OFFLINE": "1",
        }
    )
    _redirect_output(output_fd)
    _unix_sockets_only()
    applied.append("python network guard (Unix sockets only)")
    return applied


def _import_submission(submission_dir: str) -> ModuleType:
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            del sys.modules[name]
    sys.meta_path.insert(0, _BlockedImports())
    sys.dont_write_bytecode = True
    sys.path.insert(0, submission_dir)
    path = Path(submission_dir, "chat_application.py")
    if not path.is_file():
        raise FileNotFoundError("the submission has no chat_application.py")
    spec = importlib.util.spec_from_file_location("chat_application", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chat_application"] = module
    from memory_course.deprecations import silence_known_deprecations

    silence_known_deprecations()
    spec.loader.exec_module(module)
    return module


def _serve(sock: socket.socket, session: _Session) -> None:
    while True:
        try:
            request = read_frame(sock, MAX_REQUEST_BYTES)
        except (ProtocolError, OSError):
            return
        try:
            answer: dict[str, Any] = {"ok": session.handle(request)}
        except BaseException as exc:  # SystemExit and friends are answers too
            answer = {"error": describe_exception(exc)}
        try:
            write_frame(sock, answer)
        except (ValueError, TypeError) as exc:  # an unencodable value
            write_frame(sock, {"error": describe_exception(exc)})
        except OSError:
            return


def main(spec: dict[str, Any], sock_fd: int, output_fd: int, namespaces: list[str]) -> NoReturn:
    """Run the student's side of one grading process; never returns."""
    code = 0
    try:
        _close_other_fds({sock_fd, output_fd})
        sock = socket.socket(fileno=sock_fd)
        protections = _confine(spec, namespaces, output_fd)
        os.close(output_fd)
        try:
            module = _import_submission(spec["submission_dir"])
        except BaseException as exc:
            write_frame(sock, {"import_error": describe_exception(exc)})
            os._exit(0)
        missing = [
            name
            for name in ("ChatApplication", "LimitedRedisChatHistory", "SessionNotFoundError")
            if not hasattr(module, name)
        ]
        write_frame(sock, {"ready": {"protections": protections, "missing": missing}})
        _serve(sock, _Session(module, spec))
    except BaseException:
        code = 70
    os._exit(code)
