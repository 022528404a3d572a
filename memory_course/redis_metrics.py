"""Count Redis round trips and bytes sent, for any redis-py or fakeredis client.

A *round trip* is one network exchange: the client writes a batch of commands and
waits for their replies. A single command is one round trip; a pipeline or a
MULTI/EXEC transaction is one round trip however many commands it carries. Latency
is paid per round trip, so this is the number that decides how a chat turn scales
once Redis is on another machine.

    from memory_course.redis_metrics import measure

    with measure(client) as metrics:
        app.chat(session_id, "Hi, I'm Alex")
    metrics.round_trips      # 2
    metrics.bytes_sent       # bytes of the RESP requests written to the socket
    metrics.commands         # ['HGETALL', 'LRANGE', 'MULTI', 'EXPIRE', ...]

How it works: redis-py (and fakeredis, which reuses redis-py's connection class)
writes every exchange with one call to `Connection.send_packed_command`. `measure`
wraps that method on each connection the client's pool hands out, and parses the
RESP request to name the commands. Nothing about the client changes apart from the
counting, and everything is restored when the `with` block ends.

Connection set-up (HELLO, AUTH, CLIENT SETINFO, SELECT) is never counted as a round
trip: a pooled client pays it once per new connection, not once per operation. When a
measured connection reconnects, its set-up shows in `handshake_round_trips`; a fresh
connection opened by the pool is set up before `measure` sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Exchange", "RedisMetrics", "measure", "parse_request"]

_ATTRIBUTE = "_memory_course_metrics"


@dataclass(frozen=True)
class Exchange:
    """One write to the socket followed by reading the replies."""

    commands: tuple[str, ...]
    bytes_sent: int
    handshake: bool = False


class RedisMetrics:
    """What a measured client sent. Thread-safe; read it during or after `measure`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def reset(self) -> None:
        """Forget everything recorded so far (for example after a warm-up)."""
        with self._lock:
            self._exchanges.clear()

    @property
    def exchanges(self) -> list[Exchange]:
        """Every exchange except connection set-up, oldest first."""
        with self._lock:
            return [e for e in self._exchanges if not e.handshake]

    @property
    def round_trips(self) -> int:
        return len(self.exchanges)

    @property
    def bytes_sent(self) -> int:
        return sum(e.bytes_sent for e in self.exchanges)

    @property
    def commands(self) -> list[str]:
        """Command names in the order they were sent (`MULTI` and `EXEC` included)."""
        return [name for e in self.exchanges for name in e.commands]

    @property
    def handshake_round_trips(self) -> int:
        with self._lock:
            return sum(1 for e in self._exchanges if e.handshake)

    def summary(self) -> dict[str, int]:
        return {"round_trips": self.round_trips, "bytes_sent": self.bytes_sent}


def parse_request(data: bytes) -> tuple[str, ...]:
    """The command names in a RESP request (`*<argc>` arrays of `$<len>` strings).

    Returns `("?",)` for anything that is not a well-formed RESP array, so a
    surprising request is still counted, never dropped.
    """
    names: list[str] = []
    position = 0
    try:
        while position < len(data):
            if data[position : position + 1] != b"*":
                return (*names, "?")
            end = data.index(b"\r\n", position)
            argc = int(data[position + 1 : end])
            position = end + 2
            for index in range(argc):
                end = data.index(b"\r\n", position)
                length = int(data[position + 1 : end])
                argument = data[end + 2 : end + 2 + length]
                position = end + 2 + length + 2
                if index == 0:
                    names.append(argument.decode("ascii", "replace").upper())
    except ValueError:
        return (*names, "?")
    return tuple(names)


def _join(command: Any) -> bytes:
    if isinstance(command, (bytes, bytearray, memoryview)):
        return bytes(command)
    if isinstance(command, str):
        return command.encode()
    return b"".join(bytes(part) for part in command)


class _Instrumentation:
    """The patches on one connection pool, shared by every active `measure`."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.recorders: list[RedisMetrics] = []
        self.connections: list[Any] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        original_get_connection = pool.get_connection

        def get_connection(*args: Any, **kwargs: Any) -> Any:
            connection = original_get_connection(*args, **kwargs)
            self.patch(connection)
            return connection

        pool.get_connection = get_connection

    def patch(self, connection: Any) -> None:
        with self.lock:
            if any(c is connection for c in self.connections):
                return
            self.connections.append(connection)
        original_send = connection.send_packed_command
        original_connect = getattr(connection, "connect_check_health", None)

        def send_packed_command(command: Any, *args: Any, **kwargs: Any) -> Any:
            data = _join(command)
            exchange = Exchange(
                commands=parse_request(data),
                bytes_sent=len(data),
                handshake=getattr(self.local, "connecting", False),
            )
            for recorder in list(self.recorders):
                recorder.record(exchange)
            return original_send(command, *args, **kwargs)

        connection.send_packed_command = send_packed_command
        if original_connect is not None:

            def connect_check_health(*args: Any, **kwargs: Any) -> Any:
                self.local.connecting = True
                try:
                    return original_connect(*args, **kwargs)
                finally:
                    self.local.connecting = False

            connection.connect_check_health = connect_check_health

    def remove(self) -> None:
        del self.pool.get_connection
        for connection in self.connections:
            for name in ("send_packed_command", "connect_check_health"):
                connection.__dict__.pop(name, None)


def _pool(client: Any) -> Any:
    pool = getattr(client, "connection_pool", None)
    if pool is None or not hasattr(pool, "get_connection"):
        raise TypeError(f"expected a redis-py or fakeredis client, got {type(client).__name__}")
    return pool


def _attach(client: Any, recorder: RedisMetrics) -> _Instrumentation:
    pool = _pool(client)
    instrumentation = pool.__dict__.get(_ATTRIBUTE)
    if instrumentation is None:
        instrumentation = _Instrumentation(pool)
        pool.__dict__[_ATTRIBUTE] = instrumentation
    if not any(r is recorder for r in instrumentation.recorders):
        instrumentation.recorders.append(recorder)
    # A single-connection client bypasses the pool after its first command.
    single = getattr(client, "connection", None)
    if single is not None:
        instrumentation.patch(single)
    return instrumentation


def _detach(client: Any, recorder: RedisMetrics) -> None:
    pool = _pool(client)
    instrumentation = pool.__dict__.get(_ATTRIBUTE)
    if instrumentation is None:
        return
    instrumentation.recorders = [r for r in instrumentation.recorders if r is not recorder]
    if not instrumentation.recorders:
        instrumentation.remove()
        del pool.__dict__[_ATTRIBUTE]


def _node_clients(client: Any) -> list[Any]:
    """`client`, or for a Redis Cluster client the client of each node it knows.

    A cluster client keeps one connection pool per node, so its round trips are counted
    on every node's pool; commands sent to several nodes together (a pipeline across
    slots) count one round trip per node.
    """
    if getattr(client, "connection_pool", None) is None and callable(
        getattr(client, "get_nodes", None)
    ):
        nodes = [node.redis_connection for node in client.get_nodes()]
        return [node for node in nodes if node is not None] or [client]
    return [client]


@contextmanager
def measure(client: Any, *clients: Any) -> Iterator[RedisMetrics]:
    """Count round trips and bytes sent by `client` (and any further `clients`).

    Accepts `redis.Redis`, `redis.cluster.RedisCluster` and `fakeredis.FakeRedis` (sync)
    clients, including several clients sharing one pool. Measurements may nest; each gets its own counts.
    Raises `TypeError` for an object without a redis-py connection pool.
    """
    recorder = RedisMetrics()
    measured: Sequence[Any] = [node for each in (client, *clients) for node in _node_clients(each)]
    attached: list[Any] = []
    try:
        for each in measured:
            _attach(each, recorder)
            attached.append(each)
        yield recorder
    finally:
        for each in attached:
            _detach(each, recorder)
