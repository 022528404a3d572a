"""fakeredis behind a real socket, served from background threads: the course's one fake Redis.

Clients reach it over a real connection, so code that only takes a URL
(langchain-community's `RedisChatMessageHistory`) works offline:

    with FakeRedisServer() as server:                  # TCP on 127.0.0.1, a free port
        history = RedisChatMessageHistory("s1", url=server.url)

A lesson can `stop()` it to cause a genuine "connection refused" and `start()` it again
on the same port. The grader serves the same class on a Unix socket it binds and hands
to a confined process (`FakeRedisServer(listening=sock, max_command_bytes=...)`), and
its tests move time with `advance(seconds)`.

Hardened, since the grader's fake faces student code:

* a command that fails (`INFO cluster`, which langchain-community sends on connect, or
  a Lua script that errors) gets a one-line error reply and the connection stays open,
  as with a real Redis; a multi-line reply would leave the client waiting;
* an exception that escapes a command (a `MemoryError`, a hardened Lua bridge refusing
  an attribute) gets an error reply, then the connection ends: its fake state is not
  trusted again, and the client's next command gets a fresh one;
* reads are bounded: with `max_command_bytes`, a longer command gets an error reply and
  the connection ends.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import socketserver
import threading
from typing import Any

import fakeredis
from fakeredis._clients._tcp_server import TCPFakeRequestHandler
from fakeredis._helpers import SimpleError
from fakeredis._typing import RaiseErrorTypes

__all__ = ["FakeRedisServer", "advance_time"]

_POLL_SECONDS = 0.01
_LINE_BYTES = 1 << 16  # one read of the protocol; a longer bulk string arrives in parts


def advance_time(fake_server: fakeredis.FakeServer, seconds: float) -> None:
    """Move `fake_server`'s time forward by `seconds`: every expiry comes that much closer.

    fakeredis reads the wall clock on each command and has no clock of its own, so the
    deadlines move instead: `TTL`, `PTTL` and expiry then behave as if `seconds` had
    passed, for this server only (other fakeredis servers in the process keep their time).
    """
    if seconds < 0:
        raise ValueError(f"time only moves forward (got {seconds} s)")
    with fake_server.lock:
        for db in fake_server.dbs.values():
            # The key table and the expiry heap are fakeredis internals (checked by
            # tests/course/test_fake_redis_server.py against the pinned version).
            for item in db._dict.values():
                if item.expireat is not None:
                    item.expireat -= seconds
            db._expiry_heap[:] = sorted(
                (item.expireat, key) for key, item in db._dict.items() if item.expireat is not None
            )


def _error_reply(error: Exception) -> SimpleError:
    """`error` as a Redis error reply: one line (a Lua traceback spans several, and a
    newline inside an error reply would cut it short and leave the client waiting), and
    never empty (fakeredis's encoder fails on an exception without arguments)."""
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, SimpleError) and error.args:
        return SimpleError(text)
    code = text.split(" ", 1)[0]
    return SimpleError(text if code.isupper() and code.isalpha() else f"ERR {text}")


class _Handler(TCPFakeRequestHandler):
    """fakeredis's request handler, answering errors instead of hanging up, reads bounded."""

    def setup(self) -> None:
        # fakeredis keys its connections by peer address; Unix-socket peers have none.
        self.client_address = ("client", next(self.server.client_ids))
        super().setup()

    def handle(self) -> None:
        pending = 0  # bytes of the command being received
        limit: int | None = getattr(self.server, "max_command_bytes", None)  # a `_Server`
        while not self.server._shutdown_event.is_set():
            try:
                if self.current_client.can_read():
                    try:
                        response = self.current_client.read_response()
                    except RaiseErrorTypes as error:  # an error reply, raised as redis-py does
                        response = _error_reply(error)
                    self.writer.dump(response)
                    pending = 0
                    continue
                data = self.rfile.readline(_LINE_BYTES)
                if data == b"":
                    readable, _, _ = select.select([self.connection], [], [], _POLL_SECONDS)
                    if not readable:
                        continue
                    data = self.rfile.readline(_LINE_BYTES)
                    if data == b"":
                        break  # the peer closed the connection
                pending += len(data)
                if limit is not None and pending > limit:
                    self.writer.dump(SimpleError(f"ERR command larger than {limit} bytes"))
                    break
                self.current_client.get_socket().sendall(data)
            except ConnectionError:
                break
            except Exception as error:  # noqa: BLE001 - MemoryError included
                # An exception escaped a command (not an error reply): the fake
                # connection's state is unknown, so answer and hang up; the client's
                # next command gets a fresh connection.
                with contextlib.suppress(Exception):
                    self.writer.dump(_error_reply(error))
                break


class _Server(socketserver.ThreadingMixIn, socketserver.BaseServer):
    """A threading server on any stream socket (TCP it binds, or one it is handed)."""

    daemon_threads = True  # an open client connection must not keep the process alive

    def __init__(
        self,
        listening: socket.socket,
        fake_server: fakeredis.FakeServer,
        max_command_bytes: int | None,
    ):
        super().__init__(listening.getsockname(), _Handler)
        self.socket = listening
        self.fake_server = fake_server
        self.max_command_bytes = max_command_bytes
        self._shutdown_event = threading.Event()
        self.client_ids = itertools.count()
        self.clients: dict[Any, Any] = {}
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def fileno(self) -> int:
        return self.socket.fileno()

    def get_request(self) -> tuple[socket.socket, Any]:
        return self.socket.accept()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_WR)
        self.close_request(request)

    def close_request(self, request: Any) -> None:
        request.close()

    def shutdown(self) -> None:
        self._shutdown_event.set()
        super().shutdown()

    def server_close(self) -> None:
        self.socket.close()
        # Every client sees its connection end before stop() returns, as when a Redis
        # goes down: the next command reconnects and is refused, never half-served.
        with self._connections_lock:
            live = list(self._connections)
        for request in live:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)


def _tcp_listener(host: str, port: int) -> socket.socket:
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
    except OSError:
        listening.close()
        raise
    return listening


class FakeRedisServer:
    """A fakeredis server on `host:port` (port 0 picks a free one), or on `listening`.

    `fake_server` shares data with in-process `fakeredis.FakeRedis(server=...)` clients.
    `stop()` closes the listening socket and every connection; on TCP, `start()` again
    listens on the same port with the data kept (like a Redis restart with persistence).
    `listening` is a socket already bound and listening (the grader's Unix socket): the
    server takes it over and closes it on `stop()`. `max_command_bytes` bounds one
    command (all its arguments); None leaves it unbounded.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        fake_server: fakeredis.FakeServer | None = None,
        *,
        listening: socket.socket | None = None,
        max_command_bytes: int | None = None,
    ):
        self.host = host
        self.port = port
        self.fake_server = fake_server or fakeredis.FakeServer()
        self.max_command_bytes = max_command_bytes
        self._listening = listening
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._listening is not None:
            raise ValueError("a server on a socket it was handed has no redis:// URL")
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeRedisServer:
        if self._server is not None:
            return self
        if self._listening is not None:
            if self._listening.fileno() == -1:
                raise RuntimeError("the socket this server was handed is closed")
            listening = self._listening
        else:
            listening = _tcp_listener(self.host, self.port)
            self.port = listening.getsockname()[1]
        self._server = _Server(listening, self.fake_server, self.max_command_bytes)
        # A short poll interval keeps stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def advance(self, seconds: float) -> None:
        """Move this server's time forward by `seconds` (see `advance_time`)."""
        advance_time(self.fake_server, seconds)

    def __enter__(self) -> FakeRedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
