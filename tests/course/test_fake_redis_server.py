"""The one fake Redis: a real socket (TCP or a handed Unix socket), stopped and restarted,
hardened against unknown and oversized commands, with time travel for expiry."""

from __future__ import annotations

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from memory_course.offline.fake_redis_server import FakeRedisServer


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def test_unsupported_commands_answer_with_an_error_and_keep_the_connection():
    with FakeRedisServer() as server:
        client = _client(server.url)
        for _ in range(20):
            with pytest.raises(redis.ResponseError):
                client.info("cluster")
            assert client.ping()
            client.rpush("k", "v")
        assert client.llen("k") == 20
        client.close()


def test_stopping_refuses_connections_and_restart_keeps_the_data():
    server = FakeRedisServer().start()
    try:
        client = _client(server.url)
        client.set("greeting", "hello")
        server.stop()
        try:
            client.get("greeting")
        except redis.ConnectionError as error:
            refused = error
        else:
            refused = None
        assert refused is not None, "a stopped server must refuse connections"
        server.start()
        assert client.get("greeting") == b"hello"
        client.close()
    finally:
        server.stop()


def test_advance_moves_expiry_for_this_server_only():
    with FakeRedisServer() as server, FakeRedisServer() as other:
        client, bystander = _client(server.url), _client(other.url)
        client.set("session", "x", ex=100)
        client.set("forever", "y")
        bystander.set("session", "x", ex=100)
        server.advance(99)
        assert 0 < client.ttl("session") <= 1 and client.get("session") == b"x"
        server.advance(2)
        assert client.get("session") is None and client.exists("session") == 0
        assert client.get("forever") == b"y" and client.ttl("forever") == -1
        assert bystander.ttl("session") > 98, "another server's time must not move"
        with pytest.raises(ValueError, match="forward"):
            server.advance(-1)
        client.close()
        bystander.close()


def test_a_server_on_a_handed_unix_socket_bounds_each_command(tmp_path):
    import socket

    path = str(tmp_path / "redis.sock")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(path)
    listening.listen(8)
    server = FakeRedisServer(listening=listening, max_command_bytes=64 * 1024).start()
    try:
        with pytest.raises(ValueError, match="no redis:// URL"):
            _ = server.url
        client = redis.Redis(unix_socket_path=path, socket_timeout=2)
        client.set("small", "x" * 1000)
        assert client.strlen("small") == 1000
        # Refused with an error reply, or (the client still sending) by ending the connection.
        with pytest.raises((redis.ResponseError, redis.ConnectionError)):
            client.set("big", "x" * 200_000)
        assert client.exists("big") == 0, "a command over the bound is never applied"
        assert client.get("small") == b"x" * 1000  # a new connection is served as before
        client.close()
    finally:
        server.stop()
    assert listening.fileno() == -1, "stop() closes the socket it was handed"


@pytest.mark.parametrize(
    "script",
    ["return redis.call('NOSUCH')", "error('boom')", "return load('return 1')()", "return nil + 1"],
)
def test_a_failing_script_gets_an_error_reply_and_the_connection_goes_on(script):
    with FakeRedisServer() as server:
        client = _client(server.url)
        with pytest.raises(redis.ResponseError) as raised:
            client.eval(script, 0)
        assert str(raised.value), "an error reply carries a message"
        assert client.eval("return 6 * 7", 0) == 42
        client.close()


def test_stop_ends_every_connection_before_it_returns():
    """A pooled connection's next command reconnects and is refused, every time: the
    outage a lesson shows must not depend on when a thread notices it."""
    server = FakeRedisServer().start()
    client = redis.Redis.from_url(server.url, socket_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        for _ in range(10):
            server.start()
            client.set("k", "v")
            assert client.get("k") == b"v"
            server.stop()
            with pytest.raises(redis.ConnectionError, match="refused"):
                client.eval("return 1", 0)
    finally:
        server.stop()
        client.close()
