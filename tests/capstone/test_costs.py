"""Cost per turn: one read, then one transaction (on a cluster, then the indexes), whatever
the history's length; and the meter."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage

from memory_course.redis_metrics import measure
from solutions.chat_application import ChatApplication, LimitedRedisChatHistory
from tests.capstone.support import CallbackModel, is_cluster

WRITE_COMMANDS = {"RPUSH", "LTRIM", "EXPIRE", "HSET", "ZADD", "SET", "DEL", "LPUSH"}


def _fill(app: ChatApplication, session_id: str, count: int) -> None:
    """Give the session `count` stored messages without running the model."""
    history = LimitedRedisChatHistory(
        session_id, app.redis, max_messages=app.max_messages, key_prefix=app.key_prefix
    )
    pairs = [[HumanMessage(f"q{i}"), AIMessage(f"a{i}")] for i in range(count // 2)]
    history.add_messages([m for pair in pairs for m in pair])


@pytest.mark.parametrize("history_length", [0, 10, 50])
def test_chat_costs_one_read_then_one_transaction(make_app, any_redis, history_length):
    model = CallbackModel()
    app = make_app(llm=model, max_messages=1000)
    session_id = app.create_session("alice")
    _fill(app, session_id, history_length)
    any_redis.ping()
    with measure(any_redis) as metrics:
        seen_by_model = []
        model.on_call = lambda: seen_by_model.append(metrics.round_trips)
        app.chat(session_id, "Hello")
    assert seen_by_model == [1]  # history read before the model ran, nothing after
    read, write, *indexes = metrics.exchanges
    assert not WRITE_COMMANDS & set(read.commands)
    assert {"HGETALL", "LRANGE"} <= set(read.commands)
    assert write.commands[0] == "MULTI" and write.commands[-1] == "EXEC"
    assert {"RPUSH", "LTRIM", "EXPIRE", "HSET"} <= set(write.commands)
    if is_cluster(any_redis):
        # The owner's index lives in another slot: one pipelined write after the
        # session's transaction.
        assert "ZADD" not in write.commands
        assert [set(e.commands) for e in indexes] == [{"ZADD", "EXPIRE"}]
    else:
        assert indexes == [] and "ZADD" in write.commands  # 2 round trips in all


def test_bytes_written_per_turn_do_not_grow_with_history(fake_redis):
    app = ChatApplication(
        redis_client=fake_redis, llm=FakeListChatModel(responses=["ok"]), max_messages=2000
    )
    written = {}
    for length in (10, 500):
        session_id = app.create_session("alice")
        _fill(app, session_id, length)
        with measure(fake_redis) as metrics:
            app.chat(session_id, "the same question")
        written[length] = metrics.exchanges[-1].bytes_sent
    assert written[500] == written[10]


def test_history_object_costs(fake_redis):
    history = LimitedRedisChatHistory("s1", fake_redis, max_messages=10)
    with measure(fake_redis) as metrics:
        history.add_messages([HumanMessage("a"), AIMessage("b")])
    assert metrics.round_trips == 1
    assert metrics.commands == ["MULTI", "RPUSH", "LTRIM", "EXPIRE", "EXEC"]
    with measure(fake_redis) as metrics:
        assert len(history.messages) == 2
    assert metrics.commands == ["LRANGE"]


# --- the meter the cost tests rely on ------------------------------------------------


def test_meter_counts_one_round_trip_per_exchange(any_redis, redis_prefix):
    from memory_course.redis_metrics import parse_request

    key = f"{redis_prefix}meter"
    any_redis.ping()
    with measure(any_redis) as metrics:
        any_redis.set(key, "x" * 100)
        pipe = any_redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.strlen(key)
        pipe.execute()
        pipe = any_redis.pipeline(transaction=True)
        pipe.append(key, "y")
        pipe.expire(key, 60)
        pipe.execute()
    any_redis.delete(key)
    assert metrics.round_trips == 3
    assert [e.commands for e in metrics.exchanges] == [
        ("SET",),
        ("GET", "STRLEN"),
        ("MULTI", "APPEND", "EXPIRE", "EXEC"),
    ]
    # The bytes one SET takes on the wire, packed by a connection of the node holding it.
    node = any_redis.get_node_from_key(key).redis_connection if is_cluster(any_redis) else any_redis
    connection = node.connection_pool.get_connection()
    try:
        packed = b"".join(bytes(p) for p in connection.pack_command("SET", key, "x" * 100))
    finally:
        node.connection_pool.release(connection)
    assert metrics.exchanges[0].bytes_sent == len(packed)
    assert parse_request(packed) == ("SET",)
    assert parse_request(b"PING\r\n") == ("?",)


def test_meter_nests_and_restores_the_client(fake_redis):
    with measure(fake_redis) as outer:
        fake_redis.get("a")
        with measure(fake_redis) as inner:
            fake_redis.get("b")
        fake_redis.get("c")
    fake_redis.get("d")
    assert (outer.round_trips, inner.round_trips) == (3, 1)
    pool = fake_redis.connection_pool
    assert "get_connection" not in vars(pool)
    connection = pool.get_connection()
    try:
        assert "send_packed_command" not in vars(connection)
    finally:
        pool.release(connection)
    with pytest.raises(TypeError), measure(object()):
        pass
