"""The async chat service (`create_async_app`), over real HTTP and in process.

Offline it runs on `fakeredis.FakeAsyncRedis`; the tests marked with `any_async_redis`
run a second time on `redis.asyncio` against the real Redis (`REDIS_URL`).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import time
import uuid

import fakeredis
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import OfflineChatModel
from memory_course.chat_service import (
    SESSION_HEADER,
    AsyncRedisSessionHistory,
    AsyncSessionStore,
    create_app,
    create_async_app,
)
from tests.lessons.chat_service_support import (
    BrokenModel,
    FailsMidStreamModel,
    SlowStreamingModel,
    WritesFail,
    leave_mid_stream,
    stream_chat,
    wait_for,
)
from tests.services import real_redis_url


@pytest.fixture
def async_redis(fake_redis_server):
    """A factory of asyncio clients on the fake server: one per app (one per event loop).

    `fake_redis`, a synchronous client of the same server, looks at what the app stored.
    """
    return lambda: fakeredis.FakeAsyncRedis(server=fake_redis_server)


# -- the same contract as the sync app -------------------------------------------------------


def test_the_endpoints_are_coroutines_and_the_routes_match_the_sync_app(fake_redis, async_redis):
    sync_app = create_app(OfflineChatModel(), fake_redis)
    async_app = create_async_app(OfflineChatModel(), async_redis())

    def routes(app):
        return {
            (route.path, tuple(sorted(route.methods))): inspect.iscoroutinefunction(route.endpoint)
            for route in app.routes
            if getattr(route, "include_in_schema", False)
        }

    assert routes(sync_app).keys() == routes(async_app).keys()
    assert not any(routes(sync_app).values()), "plain def: FastAPI runs them in its thread pool"
    assert all(routes(async_app).values()), "async def: they run on the event loop"


def test_an_async_conversation_remembers_over_http(serve, async_redis, fake_redis):
    client = serve(create_async_app(OfflineChatModel(), async_redis(), key_prefix="chat:"))
    first = client.post("/chat", json={"message": "Hi, I'm Alex"})
    assert first.status_code == 200
    session_id = first.headers[SESSION_HEADER]
    assert str(uuid.UUID(session_id)) == session_id

    second = client.post(
        "/chat", json={"message": "What's my name?"}, headers={SESSION_HEADER: session_id}
    )
    assert second.json() == {"reply": "Your name is Alex."}
    assert fake_redis.llen(f"chat:{session_id}") == 4
    assert 0 < fake_redis.ttl(f"chat:{session_id}") <= 3600


def test_async_streaming_sends_tokens_then_done_and_saves(serve, async_redis, fake_redis):
    client = serve(create_async_app(OfflineChatModel(), async_redis(), key_prefix="chat:"))
    session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]

    response, events = stream_chat(client, "What's my name?", {SESSION_HEADER: session_id})
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"}
    assert "".join(d["text"] for n, d in events if n == "token") == "Your name is Alex."
    assert fake_redis.llen(f"chat:{session_id}") == 4


@pytest.mark.parametrize("make_app", [create_app, create_async_app])
def test_both_apps_refuse_the_same_requests(serve, fake_redis, async_redis, make_app):
    redis_client = fake_redis if make_app is create_app else async_redis()
    client = serve(make_app(OfflineChatModel(), redis_client))
    unknown = {SESSION_HEADER: str(uuid.UUID(int=7, version=4))}
    assert (
        client.post("/chat", json={"message": "Hi"}, headers={SESSION_HEADER: "42"}).status_code
        == 400
    )
    assert client.post("/chat", json={"message": "Hi"}, headers=unknown).status_code == 404
    assert client.post("/chat/stream", json={"message": "Hi"}, headers=unknown).status_code == 404
    assert client.post("/chat", json={"message": ""}).status_code == 422
    assert client.delete("/sessions").status_code == 400
    assert client.delete("/sessions", headers=unknown).status_code == 404

    session_id = client.post("/chat", json={"message": "Hi"}).headers[SESSION_HEADER]
    assert client.delete("/sessions", headers={SESSION_HEADER: session_id}).status_code == 204
    assert client.get("/metrics").json()["sessions"]["active"] == 0


def test_async_sessions_on_real_redis_have_a_sliding_ttl(serve, redis_prefix):
    import redis
    import redis.asyncio

    url = real_redis_url()
    inspect_client = redis.Redis.from_url(url)
    client = serve(
        create_async_app(
            OfflineChatModel(),
            redis.asyncio.Redis.from_url(url),
            ttl_seconds=600,
            key_prefix=redis_prefix,
        )
    )
    try:
        session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
        key = f"{redis_prefix}{session_id}"
        inspect_client.expire(key, 5)
        reply = client.post(
            "/chat", json={"message": "What's my name?"}, headers={SESSION_HEADER: session_id}
        )
        assert reply.json()["reply"] == "Your name is Alex."
        assert inspect_client.llen(key) == 4
        assert inspect_client.ttl(key) > 5
        assert client.get("/metrics").json()["sessions"]["active"] == 1
    finally:
        for key in inspect_client.scan_iter(f"{redis_prefix}*"):
            inspect_client.delete(key)
        inspect_client.close()


# -- failures: 503 or an error event, and nothing stored --------------------------------------


def _session_with_one_turn(serve, async_redis) -> str:
    good = serve(create_async_app(OfflineChatModel(), async_redis(), key_prefix="chat:"))
    return good.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]


def test_an_async_failed_save_is_a_503_and_stores_nothing(serve, async_redis, fake_redis):
    session_id = _session_with_one_turn(serve, async_redis)
    client = serve(
        create_async_app(OfflineChatModel(), WritesFail(async_redis()), key_prefix="chat:")
    )
    response = client.post(
        "/chat", json={"message": "I live in Lisbon."}, headers={SESSION_HEADER: session_id}
    )
    assert response.status_code == 503
    assert "not kept" in response.json()["detail"]
    assert fake_redis.llen(f"chat:{session_id}") == 2
    assert client.get("/metrics").json()["turns"]["save_failed"] == 1


def test_an_async_stream_whose_save_fails_ends_with_an_error_event(serve, async_redis, fake_redis):
    session_id = _session_with_one_turn(serve, async_redis)
    client = serve(
        create_async_app(OfflineChatModel(), WritesFail(async_redis()), key_prefix="chat:")
    )
    response, events = stream_chat(client, "What's my name?", {SESSION_HEADER: session_id})
    names = [name for name, _ in events]
    assert response.status_code == 200
    assert names[-1] == "error" and "done" not in names and "token" in names
    assert "not kept" in events[-1][1]["detail"]
    assert fake_redis.llen(f"chat:{session_id}") == 2


def test_an_async_model_failure_is_a_503_and_saves_nothing(serve, async_redis, fake_redis):
    client = serve(create_async_app(BrokenModel(), async_redis()))
    response = client.post("/chat", json={"message": "Hi"})
    assert response.status_code == 503
    assert "model is unavailable" in response.json()["detail"]
    assert not list(fake_redis.scan_iter("*"))


def test_an_async_stream_that_fails_midway_saves_nothing(serve, async_redis, fake_redis):
    session_id = _session_with_one_turn(serve, async_redis)
    client = serve(create_async_app(FailsMidStreamModel(), async_redis(), key_prefix="chat:"))
    _, events = stream_chat(client, "Tell me more", {SESSION_HEADER: session_id})
    assert [name for name, _ in events] == ["token", "token", "error"]
    assert fake_redis.llen(f"chat:{session_id}") == 2
    assert client.get("/metrics").json()["turns"]["model_failed"] == 1


def test_a_client_that_leaves_mid_stream_stores_nothing(serve, async_redis, fake_redis):
    session_id = _session_with_one_turn(serve, async_redis)
    slow = create_async_app(SlowStreamingModel(delay=0.1), async_redis(), key_prefix="chat:")
    received = leave_mid_stream(serve(slow), {SESSION_HEADER: session_id})
    assert len(received) == 2

    metrics = slow.state.metrics
    assert wait_for(lambda: metrics.snapshot([])["turns"]["abandoned"] == 1)
    time.sleep(0.5)  # longer than the rest of the reply would have taken to stream
    gc.collect()  # and a late finalisation of the stream would not save it either
    assert fake_redis.llen(f"chat:{session_id}") == 2, "neither the question nor the reply"
    assert metrics.snapshot([])["turns"]["saved"] == 0


# -- the async history, in process -------------------------------------------------------------


async def test_the_async_history_reads_writes_and_expires(fake_redis_server, fake_redis):
    store = AsyncSessionStore(
        fakeredis.FakeAsyncRedis(server=fake_redis_server), ttl_seconds=60, key_prefix="s:"
    )
    history = store.history("a")
    assert await history.aget_messages() == []
    await history.aadd_messages([HumanMessage("Hi"), AIMessage("Hello")])
    await history.aadd_messages([])
    assert [m.content for m in await history.aget_messages()] == ["Hi", "Hello"]
    assert 0 < fake_redis.ttl("s:a") <= 60
    assert await store.exists("a") and await store.session_sizes() == [2]
    await history.aclear()
    assert not await store.exists("a") and not await store.delete("a")


def test_the_async_history_refuses_synchronous_calls(async_redis):
    history = AsyncRedisSessionHistory(async_redis(), "k", 60)
    for call in (lambda: history.messages, lambda: history.add_messages([]), history.clear):
        with pytest.raises(NotImplementedError, match="async history"):
            call()


async def test_an_async_store_refuses_a_ttl_that_never_expires(async_redis):
    with pytest.raises(ValueError, match="expire"):
        create_async_app(OfflineChatModel(), async_redis(), ttl_seconds=0)


# -- what RunnableWithMessageHistory does on ainvoke ---------------------------------------------


async def test_ainvoke_calls_the_history_factory_synchronously_on_the_event_loop(async_redis):
    """`_merge_configs` runs the factory inline, so a blocking factory stalls the loop."""
    client = async_redis()
    seen = []

    def blocking_factory(session_id: str) -> AsyncRedisSessionHistory:
        seen.append((threading.current_thread() is loop_thread, asyncio.get_running_loop()))
        time.sleep(0.3)  # a synchronous Redis call, say
        return AsyncRedisSessionHistory(client, f"s:{session_id}", 60)

    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{m}")])
    chain = RunnableWithMessageHistory(
        prompt | OfflineChatModel(),
        blocking_factory,
        input_messages_key="m",
        history_messages_key="history",
    )
    loop_thread = threading.current_thread()
    ticks = []

    async def heartbeat():
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.05)
    await chain.ainvoke({"m": "Hi"}, {"configurable": {"session_id": "a"}})
    beat.cancel()

    assert seen == [(True, asyncio.get_running_loop())], "called on the loop's own thread"
    longest_gap = max(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    assert longest_gap >= 0.25, "nothing else ran on the loop while the factory blocked"
