"""Serve an ASGI app with uvicorn on 127.0.0.1, in a background thread, for a while.

Lessons and tests use it to exercise a FastAPI app over real HTTP (sockets, headers,
streamed bodies) without a second terminal:

    with LiveServer(app) as server:
        httpx.post(f"{server.base_url}/chat", json={"message": "Hi, I'm Alex"})

The port is chosen by the operating system (bound before the thread starts), so two
servers never collide and `base_url` is valid as soon as `start()` returns. Uvicorn's
logs are kept quiet so notebook outputs show only what the lesson prints.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

__all__ = ["LiveServer"]


class LiveServer:
    """Run `app` under uvicorn on `host` (loopback) and a free port until `stop()`.

    `start()` returns once the server accepts connections and raises `RuntimeError`
    if it did not start within `startup_timeout` seconds. `stop()` asks uvicorn to
    finish open requests, then joins the thread; calling it twice is harmless.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", *, startup_timeout: float = 10.0):
        self.app = app
        self.host = host
        self.startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))  # port 0: the operating system picks a free one
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
