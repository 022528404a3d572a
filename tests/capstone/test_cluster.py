"""The reference on Redis Cluster: a cluster URL, and what only a cluster can tell.

Every behaviour test taking `any_redis` already runs on the suite's 3-master cluster
(tests/conftest.py); these are the cluster's own cases.
"""

from __future__ import annotations

import pytest
from redis.cluster import RedisCluster

from memory_course import OfflineChatModel
from solutions.chat_application import DEFAULT_SOCKET_TIMEOUT, ChatApplication
from tests.capstone.support import keys_under


@pytest.mark.cluster
def test_a_cluster_url_builds_a_cluster_client_that_never_resends(redis_cluster, redis_prefix):
    url = redis_cluster.url.replace("redis://", "redis+cluster://", 1)
    app = ChatApplication(url, llm=OfflineChatModel(), key_prefix=redis_prefix)
    try:
        assert isinstance(app.redis, RedisCluster)
        # A transaction whose reply was lost must not be sent again (a turn stored twice).
        assert app.redis.retry.get_retries() == 0
        node = app.redis.get_default_node().redis_connection
        assert node.connection_pool.connection_kwargs["socket_timeout"] == DEFAULT_SOCKET_TIMEOUT
        session_id = app.create_session("alice")
        app.chat(session_id, "Hi, I'm Alex")
        assert "Alex" in app.chat(session_id, "What's my name?")  # the history was read back
        assert app.get_session_info(session_id).message_count == 4
        # The cluster itself says the session's keys share a slot.
        mine = [key for key in keys_under(app.redis, redis_prefix) if session_id in key]
        assert len(mine) == 2
        assert len({app.redis.cluster_keyslot(key) for key in mine}) == 1
        assert app.delete_session(session_id) is True
        assert [key for key in keys_under(app.redis, redis_prefix) if session_id in key] == []
    finally:
        app.redis.close()


@pytest.mark.parametrize("prefix", ["app{1}:", "app}:", "{x"])
def test_a_key_prefix_with_braces_is_refused(fake_redis, prefix):
    """The app places the hash tags itself; braces in the prefix would move its keys."""
    with pytest.raises(ValueError, match="braces"):
        ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), key_prefix=prefix)
