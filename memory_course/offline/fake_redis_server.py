"""fakeredis's TCP server on 127.0.0.1, run in a background thread: a real socket server.

Clients reach it over a real connection (`redis://127.0.0.1:PORT/0`), so code that only
takes a URL (langchain-community's `RedisChatMessageHistory`) works offline, and a lesson
can stop it to cause a genuine "connection refused" and start it again on the same port.

    with FakeRedisServer() as server:
        history = RedisChatMessageHistory("s1", url=server.url)

fakeredis's own handler closes the connection after any command it does not support
(e.g. `INFO cluster`, which langchain-community sends on connect), so the next command
on that pooled connection fails at random. This handler answers such a command with an
error reply and keeps the connection open, as a real Redis does.
"""

from __future__ import annotations

import select
import threading

import fakeredis
from fakeredis._clients._tcp_server import TCPFakeRequestHandler, TcpFakeServer
from fakeredis._helpers import SimpleError

__all__ = ["FakeRedisServer"]

_POLL_SECONDS = 0.01


class _Handler(TCPFakeRequestHandler):
    def handle(self) -> None:
        while not self.server._shutdown_event.is_set():
            try:
                if self.current_client.can_read():
                    self.writer.dump(self.current_client.read_response())
                    continue
                data = self.rfile.readline()
                if data == b"":
                    readable, _, _ = select.select([self.connection], [], [], _POLL_SECONDS)
                    if not readable:
                        continue
                    data = self.rfile.readline()
                    if data == b"":
                        break  # the peer closed the connection
                self.current_client.get_socket().sendall(data)
            except ConnectionError:
                break
            except Exception as error:  # noqa: BLE001 - reported to the client, as Redis does
                # A command error is an answer, not a reason to hang up.
                self.writer.dump(
                    error if isinstance(error, SimpleError) else SimpleError(f"ERR {error}")
                )


class _Server(TcpFakeServer):
    daemon_threads = True  # an open client connection must not keep the process alive

    def __init__(self, address: tuple[str, int], fake_server: fakeredis.FakeServer | None):
        super().__init__(address, bind_and_activate=False)
        self.RequestHandlerClass = _Handler
        if fake_server is not None:
            self.fake_server = fake_server
        self.daemon_threads = True
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise


class FakeRedisServer:
    """A fakeredis TCP server on `host:port` (port 0 picks a free one).

    `fake_server` shares data with in-process `fakeredis.FakeRedis(server=...)` clients.
    `stop()` closes the listening socket and every connection; `start()` again listens
    on the same port, with the data kept (like a Redis restart with persistence).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, fake_server=None):
        self.host = host
        self.port = port
        self.fake_server = fake_server or fakeredis.FakeServer()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeRedisServer:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self.fake_server)
        self.port = self._server.server_address[1]
        # A short poll interval keeps stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
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

    def __enter__(self) -> FakeRedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
