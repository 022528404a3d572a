"""A throw-away Redis Cluster for tests: 3 masters of `redis-server` on loopback ports.

    with local_redis_cluster() as cluster:
        cluster.client.set("greeting", "hello")     # a redis.cluster.RedisCluster
        RedisCluster.from_url(cluster.url)           # redis://127.0.0.1:PORT, a startup node

Each node is a `redis-server --cluster-enabled yes` on 127.0.0.1, without persistence, with
its config file, log and working files in a temporary directory of its own. The ports are
free loopback ports whose cluster bus port (port + 10000) was free too; a node that
cannot bind (another process took the port meanwhile) makes the whole start retry on
new ports. `redis-cli --cluster create` assigns the 16384 slots to the three masters, and
the cluster is handed over once every node reports `cluster_state:ok`. On exit the
context manager stops exactly the processes it started and removes its directory. It
never touches any other Redis (the shared one on 6379 included).

`cluster_or_skip()` is the same for a pytest fixture: when `redis-server` or `redis-cli`
is missing, the test fails under `CI=true` and is skipped elsewhere, saying what to install.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from tests.services import in_ci

__all__ = ["LocalRedisCluster", "cluster_or_skip", "local_redis_cluster", "missing_binaries"]

BINARIES = ("redis-server", "redis-cli")
BUS_PORT_OFFSET = 10000  # Redis Cluster's node-to-node bus listens on port + 10000
STARTUP_ATTEMPTS = 5  # fresh ports each time a node could not bind its port


class PortTaken(RuntimeError):
    """A node could not bind its port or its bus port: another process took it."""


@dataclass(frozen=True)
class LocalRedisCluster:
    """A running cluster: its client, a startup node's URL, and every node's port."""

    client: RedisCluster
    url: str
    ports: tuple[int, ...]


def missing_binaries() -> list[str]:
    """The programs the cluster needs that are not on PATH."""
    return [name for name in BINARIES if shutil.which(name) is None]


def _free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that were free, each with its bus port free too."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            probe = socket.socket()
            held.append(probe)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            if port + BUS_PORT_OFFSET > 65535:
                continue  # no bus port above it; the probe stays held, so it is not drawn again
            bus = socket.socket()
            held.append(bus)
            try:
                bus.bind(("127.0.0.1", port + BUS_PORT_OFFSET))
            except OSError:
                continue
            ports.append(port)
        return ports
    finally:
        for sock in held:
            sock.close()


class _Node:
    """One `redis-server` of the cluster, started in `directory`."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.log = directory / f"{port}.log"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--cluster-node-timeout",
                "5000",
                "--dir",
                str(directory),
                "--logfile",
                str(self.log),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def log_tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_until_it_answers(self, deadline: float) -> None:
        """Return once this node's own process answers on its port.

        The answering server must report this process's pid: a port taken meanwhile by
        another server (or anything else listening) is never mistaken for this node.
        """
        probe = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=1,
            socket_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            while True:
                if self.process.poll() is not None:
                    tail = self.log_tail()
                    if "Address already in use" in tail:
                        raise PortTaken(f"port {self.port} or its bus port was taken")
                    raise RuntimeError(
                        f"redis-server on port {self.port} exited with "
                        f"{self.process.returncode}:\n{tail}"
                    )
                try:
                    if probe.info("server").get("process_id") == self.process.pid:
                        return
                except (redis.ConnectionError, redis.TimeoutError):
                    pass  # not listening yet, or someone else's listener: look again
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server on port {self.port} did not answer in time:\n"
                        f"{self.log_tail()}"
                    )
                time.sleep(0.02)
        finally:
            probe.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _cluster_states(ports: list[int]) -> dict[int, str]:
    """Each node's `cluster_state` (or the error that prevented reading it)."""
    states = {}
    for port in ports:
        node = redis.Redis(
            host="127.0.0.1",
            port=port,
            socket_timeout=1,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        try:
            states[port] = str(node.cluster("INFO").get("cluster_state"))
        except redis.RedisError as error:
            states[port] = f"{type(error).__name__}: {error}"
        finally:
            node.close()
    return states


def _create_cluster(ports: list[int], timeout: float) -> None:
    command = ["redis-cli", "--cluster", "create"]
    command += [f"127.0.0.1:{port}" for port in ports]
    command += ["--cluster-replicas", "0", "--cluster-yes"]
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0 or "All 16384 slots covered" not in result.stdout:
        raise RuntimeError(
            f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


def _wait_for_state_ok(ports: list[int], deadline: float, timeout: float) -> None:
    while True:
        states = _cluster_states(ports)
        if all(state == "ok" for state in states.values()):
            return
        if time.monotonic() > deadline:
            described = ", ".join(f"127.0.0.1:{port} {state}" for port, state in states.items())
            raise RuntimeError(
                f"the cluster did not reach cluster_state:ok within {timeout:g} s: {described}"
            )
        time.sleep(0.05)


@contextmanager
def local_redis_cluster(masters: int = 3, *, timeout: float = 30.0) -> Iterator[LocalRedisCluster]:
    """Start a cluster of `masters` nodes, yield it, then stop its processes.

    `timeout` bounds each phase (nodes answering, cluster creation, every node reporting
    `cluster_state:ok`); exceeding it raises `RuntimeError` naming the phase and what the
    nodes said. `FileNotFoundError` if `redis-server` or `redis-cli` is not on PATH.
    """
    if missing := missing_binaries():
        raise FileNotFoundError(f"not on PATH: {', '.join(missing)}")
    directory = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
    nodes: list[_Node] = []
    try:
        with ExitStack() as cleanup:
            cleanup.callback(lambda: [node.stop() for node in nodes])
            for attempt in range(1, STARTUP_ATTEMPTS + 1):
                ports = _free_ports(masters)
                deadline = time.monotonic() + timeout
                nodes[:] = [_Node(port, directory) for port in ports]
                try:
                    for node in nodes:
                        node.wait_until_it_answers(deadline)
                    break
                except PortTaken:
                    for node in nodes:
                        node.stop()
                    if attempt == STARTUP_ATTEMPTS:
                        raise
            _create_cluster(ports, timeout)
            _wait_for_state_ok(ports, time.monotonic() + timeout, timeout)
            client = RedisCluster(host="127.0.0.1", port=ports[0], socket_timeout=10)
            cleanup.callback(client.close)
            yield LocalRedisCluster(client, f"redis://127.0.0.1:{ports[0]}", tuple(ports))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def cluster_or_skip(masters: int = 3) -> Iterator[LocalRedisCluster]:
    """`local_redis_cluster()` for tests: without the Redis programs, fail in CI, else skip."""
    if missing := missing_binaries():
        message = (
            f"{' and '.join(missing)} not on PATH: the cluster tests start a 3-master Redis "
            "Cluster of their own. Install Redis 7 or later (Debian/Ubuntu: "
            "`apt-get install redis-server`, which brings redis-cli; macOS: `brew install redis`)."
        )
        if in_ci():
            pytest.fail(f"CI requires Redis Cluster's programs: {message}", pytrace=False)
        pytest.skip(message)
    with local_redis_cluster(masters) as cluster:
        yield cluster
