"""What runs inside a student's process: confinement, import, then the request loop.

`main` is entered in a process the zygote forked (see `grading.zygote`), whose
launcher entered new namespaces. It confines itself (`grading.confine`: allowlist
root, limits, its own uid), sends its output to a capture file, guards the network
at Python level too, imports the student's entry file (`chat_application.py` for the capstone) and answers the
grader's requests until the connection closes. It reports values and exception
names, never verdicts: the grader decides from what the fakes observed.

It knows no assignment: the entry file and the names it must define come from the
plan, and the objects it builds are whatever factory of the submission's module the
grader names, with the fakes injected as the keyword arguments the grader asks for.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import socket
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from pydantic import SecretStr

from grading import codec, confine, defaults
from grading.codec import Op
from grading.plan import SOCKET_MOUNT, SUBMISSION_MOUNT, IsolationPlan

__all__ = ["chat_model", "main", "redis_client"]

# Packages a submission must not import: the grader, the reference solution, the tests.
BLOCKED_PACKAGES = ("grading", "solutions", "tests", "pytest", "_pytest")


class _BlockedImports(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"submissions may not import {fullname!r}")
        return None


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
        api_key=SecretStr("grader"),
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


def _load_harness(source: str) -> ModuleType | None:
    """The assignment's harness, run as a module once the submission is imported (it
    imports the student's module by its name: `import lesson_03 as submission`).

    It is grader-owned but runs here, beside the submission: what it reports is this
    process's word, checked by the grader like any returned value.
    """
    if not source:
        return None
    harness = ModuleType("assignment_harness")
    exec(compile(source, "assignment_harness.py", "exec"), harness.__dict__)
    return harness


class _Session:
    """The objects the grader created in this process, by the ids it chose."""

    def __init__(
        self,
        module: ModuleType,
        redis_socket: str,
        model_socket: str,
        harness: ModuleType | None = None,
    ):
        self.module = module
        self.harness = harness
        self.redis_socket = redis_socket
        self.model_socket = model_socket
        self.objects: dict[int, Any] = {}

    def redis_client(self, decode_responses: bool) -> Any:
        return redis_client(self.redis_socket, decode_responses)

    def chat_model(self) -> Any:
        return chat_model(self.model_socket)

    def resource(self, name: str) -> Any:
        """A fake the grader asked to inject: "redis", "redis-decoded", "model", or
        "redis-unreachable" (a client of a socket nothing listens on)."""
        if name in ("redis", "redis-decoded"):
            return self.redis_client(decode_responses=name == "redis-decoded")
        if name == "redis-unreachable":
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            # No retries: redis-py's default backs off for seconds before it gives up.
            return redis.Redis(
                unix_socket_path=self.redis_socket + ".unreachable",
                socket_timeout=2,
                retry=Retry(NoBackoff(), 0),
            )
        if name == "model":
            return self.chat_model()
        raise ValueError(f"unknown resource {name!r}")

    def handle(self, request: dict[str, Any]) -> Any:
        op = Op(request["op"])
        if op is Op.NEW:
            if request.get("harness"):
                if self.harness is None:
                    raise ValueError("this assignment has no harness")
                factory = getattr(self.harness, str(request["factory"]))
            else:
                factory = getattr(self.module, str(request["factory"]))
            args = codec.decode_argument(request.get("args", []))
            kwargs = codec.decode_argument(request.get("kwargs", {}))
            for keyword, resource in dict(request.get("inject", {})).items():
                kwargs[str(keyword)] = self.resource(str(resource))
            self.objects[request["id"]] = factory(*args, **kwargs)
            return None
        if op is Op.CALL:
            target = self.objects[request["target"]]
            method = getattr(target, request["method"])
            args = codec.decode_argument(request.get("args", []))
            kwargs = codec.decode_argument(request.get("kwargs", {}))
            return codec.encode_value(method(*args, **kwargs))
        if op is Op.GETATTR:
            return codec.encode_value(getattr(self.objects[request["target"]], request["name"]))
        if op is Op.CLASS_INFO:
            value = getattr(self.module, request["name"], None)
            if not isinstance(value, type):
                return {"$dict": [["exists", value is not None], ["mro", []]]}
            return {"$dict": [["exists", True], ["mro", [c.__name__ for c in value.__mro__]]]}
        raise ValueError(f"unknown operation {op.value!r}")


def _redirect_output(output_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own standard streams
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115


def _unix_sockets_only() -> None:
    """Refuse every IP connection at Python level too (the network namespace has none)."""
    from memory_course.offline import offline_guard

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

    # Patching the class is the point: every socket the submission makes is guarded.
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


def _import_submission(submission_dir: str, entry_file: str) -> ModuleType:
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            del sys.modules[name]
    sys.meta_path.insert(0, _BlockedImports())
    sys.dont_write_bytecode = True
    sys.path.insert(0, submission_dir)
    path = Path(submission_dir, entry_file)
    if not path.is_file():
        raise FileNotFoundError(f"the submission has no {entry_file}")
    module_name = entry_file.removesuffix(".py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    from memory_course.deprecations import silence_known_deprecations

    silence_known_deprecations()
    spec.loader.exec_module(module)
    return module


def _where_in_submission(exc: BaseException, submission_dir: str) -> str | None:
    """`file, line N` of the innermost frame of the submission's own files, if any."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(submission_dir.rstrip("/") + "/")]
    if not ours:
        return None
    frame = ours[-1]
    return f"{Path(frame.filename).relative_to(submission_dir)}, line {frame.lineno}"


def _serve(sock: socket.socket, session: _Session) -> None:
    while True:
        try:
            request = codec.read_frame(sock, defaults.MAX_REQUEST_BYTES)
        except (codec.ProtocolError, OSError):
            return
        try:
            answer: dict[str, Any] = {"ok": session.handle(request)}
        except BaseException as exc:  # SystemExit and friends are answers too
            answer = {"error": codec.describe_exception(exc)}
        try:
            codec.write_frame(sock, answer)
        except (ValueError, TypeError) as exc:  # an unencodable value
            codec.write_frame(sock, {"error": codec.describe_exception(exc)})
        except OSError:
            return


def main(plan: IsolationPlan, fds: list[int], namespaces: list[str]) -> NoReturn:
    """Run the student's side of one grading process; never returns."""
    code = 0
    try:
        sock_fd, output_fd = fds
        confine.close_fds_except({sock_fd, output_fd})
        sock = socket.socket(fileno=sock_fd)
        try:
            protections = confine.confine_process(plan, namespaces)
        except OSError as exc:
            codec.write_frame(sock, {"fatal": f"confinement failed: {exc}"})
            os._exit(1)
        in_world = any(p.startswith("allowlist root") for p in protections)
        if not in_world and plan.work_dir:
            os.environ.update(HOME=plan.work_dir, TMPDIR=plan.work_dir)
        _redirect_output(output_fd)
        os.close(output_fd)
        _unix_sockets_only()
        protections.append("python network guard (Unix sockets only)")
        submission = SUBMISSION_MOUNT if in_world else str(plan.submission_dir)
        sockets = SOCKET_MOUNT if in_world else str(plan.socket_dir or "")
        try:
            module = _import_submission(submission, plan.entry_file)
            harness = _load_harness(plan.harness_source)
        except BaseException as exc:
            error = codec.describe_exception(exc)
            where = _where_in_submission(exc, submission)
            if where and not isinstance(exc, SyntaxError):  # a SyntaxError says it already
                error["message"] = f"{error['message']} ({where})"
            codec.write_frame(sock, {"import_error": error, "protections": protections})
            os._exit(0)
        missing = [name for name in plan.required_names if not hasattr(module, name)]
        codec.set_described_fields(plan.described_fields)
        codec.write_frame(sock, {"ready": {"protections": protections, "missing": missing}})
        session = _Session(module, f"{sockets}/redis.sock", f"{sockets}/model.sock", harness)
        _serve(sock, session)
    except BaseException:
        code = os.EX_SOFTWARE
    os._exit(code)
