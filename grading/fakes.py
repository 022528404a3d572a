"""The grader's fake Redis and fake chat model, served on Unix sockets.

Both live in the grader's process, so tests inspect what the student's code really
stored and really sent, whatever it claims:

- `FakeRedisService`: fakeredis behind a Unix socket. `dump()` lists every key with
  its type, TTL and contents as text, so tests never depend on a submission's key
  names; `advance(seconds)` moves the server's clock forward for expiry tests.
- `ModelService`: `memory_course.openai_stub.OpenAICompatibleServer`'s handler behind
  a Unix socket. `prompts` are the messages of every request, as received;
  `fail_next(n)` makes the next `n` completions fail with HTTP 500.
"""

from __future__ import annotations

import os
import socketserver
import threading
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import fakeredis
from fakeredis._clients._tcp_server import TCPFakeRequestHandler

from memory_course.offline_model import OfflineChatModel, compose_reply
from memory_course.openai_stub import OpenAICompatibleServer, openai_messages_to_langchain

__all__ = ["FakeRedisService", "KeyState", "ModelService", "Prompt"]


class _RedisHandler(TCPFakeRequestHandler):
    def setup(self) -> None:
        # Unix-socket peers have no address; give each connection its own identity.
        self.client_address = ("unix", next(self.server.client_ids))  # type: ignore[attr-defined]
        super().setup()


class _UnixRedisServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, fake_server: fakeredis.FakeServer):
        self._shutdown_event = threading.Event()
        self.fake_server = fake_server
        self.client_ids = count()
        self.clients: dict[Any, Any] = {}
        super().__init__(path, _RedisHandler)

    def shutdown(self) -> None:
        self._shutdown_event.set()
        super().shutdown()


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005})
    thread.daemon = True
    thread.start()
    return thread


@dataclass(frozen=True)
class KeyState:
    """One Redis key: its type, its TTL in seconds (-1: none) and its contents as text."""

    name: str
    type: str
    ttl: int
    text: str

    def mentions(self, needle: str) -> bool:
        return needle in self.name or needle in self.text


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return "\n".join(f"{_text(k)}\n{_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return "\n".join(_text(v) for v in value)
    return str(value)


class FakeRedisService:
    """A fakeredis server on a Unix socket, with generic inspection for tests."""

    def __init__(self, socket_path: Path):
        self.socket_path = str(socket_path)
        self.server = fakeredis.FakeServer()
        self._unix = _UnixRedisServer(self.socket_path, self.server)
        os.chmod(self.socket_path, 0o666)  # reachable by the submission's own uid
        self._thread = _serve(self._unix)
        self.client = fakeredis.FakeRedis(server=self.server)

    def stop(self) -> None:
        self._unix.shutdown()
        self._unix.server_close()
        self._thread.join(timeout=5)

    def dump(self) -> list[KeyState]:
        """Every live key with its type, TTL and contents (sorted by name)."""
        states = []
        for raw in sorted(self.client.scan_iter(count=1000)):
            kind = _text(self.client.type(raw))
            getter = {
                "string": lambda k: self.client.get(k),
                "list": lambda k: self.client.lrange(k, 0, -1),
                "hash": lambda k: self.client.hgetall(k),
                "set": lambda k: sorted(self.client.smembers(k)),
                "zset": lambda k: self.client.zrange(k, 0, -1, withscores=True),
                "stream": lambda k: self.client.xrange(k),
                "ReJSON-RL": lambda k: self.client.json().get(k),
            }.get(kind)
            try:
                contents = _text(getter(raw)) if getter else ""
            except Exception:  # a key that expired between scan and read
                continue
            ttl = self.client.ttl(raw)
            if ttl == -2:
                continue
            states.append(KeyState(_text(raw), kind, int(ttl), contents))
        return states

    def keys_mentioning(self, needle: str) -> list[KeyState]:
        """Keys whose name or contents contain `needle` (a session id, a marker word)."""
        return [state for state in self.dump() if state.mentions(needle)]

    def keys_named_with(self, needle: str) -> list[KeyState]:
        return [state for state in self.dump() if needle in state.name]

    def stored_text(self) -> str:
        """Everything stored, names and contents, as one text to search."""
        return "\n".join(f"{s.name}\n{s.text}" for s in self.dump())

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward: every expiry comes `seconds` closer."""
        with self.server.lock:
            for db in self.server.dbs.values():
                for item in db._dict.values():
                    if item.expireat is not None:
                        item.expireat -= seconds
                db._expiry_heap[:] = [
                    (item.expireat, key)
                    for key, item in db._dict.items()
                    if item.expireat is not None
                ]
                db._expiry_heap.sort()


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
        return "".join(part.get("text", "") for part in value if isinstance(part, dict))
    return "" if value is None else str(value)


class ModelService:
    """The OpenAI-compatible stub on a Unix socket, answered by the offline model."""

    def __init__(self, socket_path: Path):
        self.socket_path = str(socket_path)
        self.stub = OpenAICompatibleServer(model=OfflineChatModel())
        self.stub._httpd.server_close()  # its TCP listener is not used: Unix socket only
        self._unix = _UnixHTTPServer(self.socket_path, self.stub._handler_class())
        os.chmod(self.socket_path, 0o666)
        self._thread = _serve(self._unix)

    def stop(self) -> None:
        self._unix.shutdown()
        self._unix.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, count: int = 1) -> None:
        self.stub.fail_next(count)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.stub.requests

    @property
    def prompts(self) -> list[Prompt]:
        return [
            Prompt(
                (str(m.get("role")), _content(m.get("content"))) for m in body.get("messages", [])
            )
            for body in self.requests
        ]

    def reply_to(self, prompt_index: int = -1) -> str:
        """The reply the model gave (or would give) to request `prompt_index`."""
        body = self.requests[prompt_index]
        return compose_reply(openai_messages_to_langchain(body.get("messages", [])))
