"""The offline Redis stand-in speaks over a real socket and can be stopped and restarted."""

from __future__ import annotations

import pytest
import redis

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
