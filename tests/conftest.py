"""Shared fixtures: the offline model, fake and real Redis, a Redis Cluster, SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid

import fakeredis
import pytest

from memory_course import RecordingChatModel
from tests.services import real_database_url, real_redis_url


@pytest.fixture
def recording_model() -> RecordingChatModel:
    return RecordingChatModel()


@pytest.fixture
def fake_redis_server() -> fakeredis.FakeServer:
    """A fresh fakeredis server of the test's own (no state shared between tests)."""
    return fakeredis.FakeServer()


@pytest.fixture
def fake_redis(fake_redis_server):
    """A client of `fake_redis_server`."""
    return fakeredis.FakeRedis(server=fake_redis_server)


@pytest.fixture
def real_redis():
    """A client of the real Redis (fails under CI, skips elsewhere, if unreachable).

    Tests must use keys under their own unique prefix: the server is shared.
    """
    import redis

    client = redis.Redis.from_url(real_redis_url(), socket_connect_timeout=2, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def redis_prefix() -> str:
    """A unique key prefix so tests on the shared real Redis never collide."""
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(scope="session")
def redis_cluster():
    """A 3-master Redis Cluster of the suite's own, started once (`tests/redis_cluster.py`);
    without `redis-server` the test fails under CI and skips elsewhere."""
    from tests.redis_cluster import cluster_or_skip

    with cluster_or_skip() as running:
        yield running


@pytest.fixture(params=["fakeredis", "redis", pytest.param("cluster", marks=pytest.mark.cluster)])
def any_redis(request):
    """Each test using this runs three times: on fakeredis, on the real Redis and on a
    Redis Cluster (`redis.cluster.RedisCluster`)."""
    if request.param == "fakeredis":
        return fakeredis.FakeRedis(server=fakeredis.FakeServer())
    if request.param == "cluster":
        return request.getfixturevalue("redis_cluster").client
    return request.getfixturevalue("real_redis")


@pytest.fixture
def postgres_url() -> str:
    return real_database_url()


@pytest.fixture
def serve():
    """Start an app under uvicorn and return an httpx client for it; stop all at the end."""
    import httpx

    from memory_course.live_server import LiveServer

    running = []

    def start(app) -> httpx.Client:
        server = LiveServer(app).start()
        client = httpx.Client(base_url=server.base_url, timeout=10)
        running.append((server, client))
        return client

    yield start
    for server, client in running:
        client.close()
        server.stop()
