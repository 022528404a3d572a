"""The fakes a submission talks to, served from a confined process of their own.

Each test gets one service process, forked by the zygote and confined like student
code (allowlist root, its own uid, memory and CPU caps, no network): fakeredis on one
listening Unix socket and the OpenAI-compatible stub (answered by the offline model)
on another, both handed over as descriptors. The grader inspects them through a
control socket (`grading.fakes`); the student never holds that socket.

Because the student's code drives these fakes, they are hardened as if they faced an
attacker: Lua scripts run without any bridge to Python (no `python` object, no
`os`, `io`, `require` or `load`), a Redis command larger than
`MAX_REDIS_COMMAND_BYTES` ends the connection, an HTTP body larger than the stub's
limit is refused, and whatever memory the student makes them hold counts against
this process's cap, not the grader's.
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
from typing import Any, NoReturn

from grading import codec, confine, defaults
from grading.codec import Op

__all__ = ["harden_lua", "main", "serve_fakes"]

# Globals removed from every Lua state: each is a way out of the script's sandbox
# (files, processes, modules, code loading, the debug library, the Python bridge).
UNSAFE_LUA_GLOBALS = (
    "python",
    "io",
    "os",
    "package",
    "require",
    "dofile",
    "loadfile",
    "load",
    "loadstring",
    "debug",
)


# Redis scripts may read os.clock(); nothing else of `os` remains.
_CLOSE_LUA = (
    "local clock = os and os.clock\n"
    + "\n".join(f"{name} = nil" for name in UNSAFE_LUA_GLOBALS)
    + "\nif clock then os = {clock = clock} end"
)


def _deny_attribute(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python attributes are not reachable from Lua here")


def harden_lua() -> bool:
    """Make every Lua runtime fakeredis creates a closed one; whether Lua is available."""
    try:
        import lupa
        from fakeredis.commands_mixins import scripting_mixin
    except ImportError:
        return False
    modules = {
        getattr(lupa, name, None) for name in ("lua51", "lua52", "lua53", "lua54", "luajit21")
    }
    modules.add(getattr(scripting_mixin, "LUA_MODULE", None))
    for module in [m for m in modules if m is not None]:
        original = getattr(module, "LuaRuntime", None)
        if original is None or getattr(original, "_grading_hardened", False):
            continue

        def hardened(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            kwargs.update(
                register_eval=False, register_builtins=False, attribute_filter=_deny_attribute
            )
            runtime = _original(*args, **kwargs)
            runtime.execute(_CLOSE_LUA)
            return runtime

        hardened._grading_hardened = True  # type: ignore[attr-defined]
        module.LuaRuntime = hardened
    return True


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The model stub's HTTP handler on a listening Unix socket the grader handed over."""

    daemon_threads = True

    def __init__(self, listening: socket.socket, handler: Any):
        super().__init__("", handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listening
        self.server_address = listening.getsockname()


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return "\n".join(f"{_text(k)}\n{_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return "\n".join(_text(v) for v in value)
    return str(value)


class Fakes:
    """The fake Redis and fake model of one test, and the control operations on them."""

    def __init__(self, redis_socket: socket.socket, model_socket: socket.socket):
        import fakeredis

        from memory_course.offline.fake_redis_server import FakeRedisServer
        from memory_course.offline.offline_model import OfflineChatModel
        from memory_course.offline.openai_stub import OpenAICompatibleServer

        self.server = fakeredis.FakeServer()
        self.client = fakeredis.FakeRedis(server=self.server)
        self.redis = FakeRedisServer(
            fake_server=self.server,
            listening=redis_socket,
            max_command_bytes=defaults.MAX_REDIS_COMMAND_BYTES,
        ).start()
        self.stub = OpenAICompatibleServer(model=OfflineChatModel(), port=0)
        self.stub._httpd.server_close()  # its TCP listener is not used
        self.http = _UnixHTTPServer(model_socket, self.stub._handler_class())
        self.http_thread = threading.Thread(
            target=self.http.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        )
        self.http_thread.start()

    def stop(self) -> None:
        self.redis.stop()
        self.http.shutdown()
        self.http.server_close()

    def dump(self) -> list[dict[str, Any]]:
        states, budget = [], defaults.MAX_ANSWER_BYTES // 2
        for raw in sorted(self.client.scan_iter(count=1000)):
            kind = _text(self.client.type(raw))
            getter = {
                "string": lambda k: self.client.get(k),
                "list": lambda k: self.client.lrange(k, 0, -1),
                "hash": lambda k: self.client.hgetall(k),
                "set": lambda k: sorted(self.client.smembers(k)),
                "zset": lambda k: self.client.zrange(k, 0, -1, withscores=True),
                "stream": lambda k: self.client.xrange(k),
            }.get(kind)
            try:
                text = _text(getter(raw)) if getter else ""
            except Exception:  # a key that expired between scan and read
                continue
            ttl = int(self.client.ttl(raw))
            if ttl == -2:
                continue
            name = _text(raw)
            text = text[: max(budget, 0)]
            budget -= len(text) + len(name)
            states.append({"name": name, "type": kind, "ttl": ttl, "text": text})
        return states

    def advance(self, seconds: float) -> None:
        self.redis.advance(seconds)

    def reply_to(self, index: int) -> str:
        from memory_course.offline.offline_model import compose_reply
        from memory_course.offline.openai_stub import openai_messages_to_langchain

        body = self.stub.requests[index]
        return compose_reply(openai_messages_to_langchain(body.get("messages", [])))

    def handle(self, request: Any) -> Any:
        op = Op(request["op"])
        if op is Op.DUMP:
            return self.dump()
        if op is Op.ADVANCE:
            self.advance(float(request["seconds"]))
            return None
        if op is Op.APPEND:
            values = [str(value) for value in request["values"]]
            return int(self.client.rpush(str(request["key"]), *values))
        if op is Op.REQUESTS:
            return self.stub.requests
        if op is Op.REPLY_TO:
            return self.reply_to(int(request["index"]))
        if op is Op.FAIL_NEXT:
            self.stub.fail_next(int(request["count"]))
            return None
        raise ValueError(f"unknown operation {op.value!r}")


def serve_fakes(control: socket.socket, fakes: Fakes) -> None:
    """Answer the grader's control requests until it closes the socket."""
    while True:
        try:
            request = codec.read_frame(control, defaults.MAX_REQUEST_BYTES)
        except (codec.ProtocolError, OSError):
            return
        try:
            answer: dict[str, Any] = {"ok": fakes.handle(request)}
        except Exception as exc:
            answer = {"error": codec.describe_exception(exc)}
        try:
            codec.write_frame(control, answer)
        except (OSError, ValueError, TypeError):
            return


def main(plan: Any, fds: list[int], namespaces: list[str]) -> NoReturn:
    """The service process: confine, serve the fakes, answer the grader; never returns."""
    code = 0
    try:
        control_fd, redis_fd, model_fd = fds
        confine.close_fds_except(set(fds))
        control = socket.socket(fileno=control_fd)
        redis_socket = socket.socket(fileno=redis_fd)
        model_socket = socket.socket(fileno=model_fd)
        try:
            protections = confine.confine_process(plan, namespaces)
        except OSError as exc:
            codec.write_frame(control, {"fatal": f"confinement failed: {exc}"})
            os._exit(1)
        harden_lua()
        fakes = Fakes(redis_socket, model_socket)
        codec.write_frame(control, {"ready": {"protections": protections}})
        serve_fakes(control, fakes)
    except BaseException:
        code = os.EX_SOFTWARE  # the fakes failed: the grader reports them unavailable
    os._exit(code)
