"""The lesson 10 chat service, driven over real HTTP (uvicorn on 127.0.0.1, httpx)."""

from __future__ import annotations

import gc
import json
import logging
import random
import time
import uuid

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import OfflineChatModel
from memory_course.chat_service import (
    CALLBACK_ERRORS,
    SESSION_HEADER,
    CallbackErrorCounter,
    SessionStore,
    create_app,
    parse_session_id,
    summarize_sizes,
)
from memory_course.live_server import LiveServer
from tests.lessons.chat_service_support import (
    BrokenModel,
    FailsMidStreamModel,
    ReadsFail,
    SlowStreamingModel,
    WritesFail,
    leave_mid_stream,
    stream_chat,
    wait_for,
)


def test_a_new_session_is_issued_in_a_header_and_remembers(serve, fake_redis, recording_model):
    client = serve(create_app(recording_model, fake_redis))

    first = client.post("/chat", json={"message": "Hi, I'm Alex"})
    assert first.status_code == 200
    session_id = first.headers[SESSION_HEADER]
    assert str(uuid.UUID(session_id)) == session_id
    assert "Alex" in first.json()["reply"]

    second = client.post(
        "/chat", json={"message": "What's my name?"}, headers={SESSION_HEADER: session_id}
    )
    assert second.status_code == 200
    assert second.json() == {"reply": "Your name is Alex."}
    assert second.headers[SESSION_HEADER] == session_id
    # The model really received the earlier turn, after the system prompt.
    prompt = recording_model.last_prompt
    assert isinstance(prompt[0], SystemMessage)
    assert [m.text for m in prompt[1:]][0] == "Hi, I'm Alex"


def test_sessions_are_isolated(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis))
    alex = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
    sam = client.post("/chat", json={"message": "Hi, I'm Sam"}).headers[SESSION_HEADER]
    assert alex != sam
    ask = {"message": "What's my name?"}
    assert client.post("/chat", json=ask, headers={SESSION_HEADER: alex}).json()["reply"] == (
        "Your name is Alex."
    )
    assert client.post("/chat", json=ask, headers={SESSION_HEADER: sam}).json()["reply"] == (
        "Your name is Sam."
    )


def test_the_id_factory_names_new_sessions(serve, fake_redis):
    rng = random.Random(3)
    issued = []

    def next_id() -> uuid.UUID:
        issued.append(uuid.UUID(int=rng.getrandbits(128), version=4))
        return issued[-1]

    client = serve(create_app(OfflineChatModel(), fake_redis, new_session_id=next_id))
    response = client.post("/chat", json={"message": "Hello"})
    assert response.headers[SESSION_HEADER] == str(issued[0])


def test_history_lives_in_redis_with_a_sliding_ttl(serve, any_redis, redis_prefix):
    client = serve(
        create_app(OfflineChatModel(), any_redis, ttl_seconds=600, key_prefix=redis_prefix)
    )
    try:
        session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
        key = f"{redis_prefix}{session_id}"
        assert any_redis.llen(key) == 2
        assert 0 < any_redis.ttl(key) <= 600

        any_redis.expire(key, 5)  # as if the session had been idle for almost 10 minutes
        client.post("/chat", json={"message": "Still here"}, headers={SESSION_HEADER: session_id})
        assert any_redis.llen(key) == 4
        assert any_redis.ttl(key) > 5
    finally:
        for key in any_redis.scan_iter(f"{redis_prefix}*"):
            any_redis.delete(key)


def test_an_expired_session_is_refused(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis, key_prefix="chat:"))
    session_id = client.post("/chat", json={"message": "Hi"}).headers[SESSION_HEADER]
    fake_redis.pexpire(f"chat:{session_id}", 1)
    deadline = time.monotonic() + 5
    while fake_redis.exists(f"chat:{session_id}") and time.monotonic() < deadline:
        time.sleep(0.01)
    response = client.post("/chat", json={"message": "Hi"}, headers={SESSION_HEADER: session_id})
    assert response.status_code == 404
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["42", "not-a-uuid", "../../etc/passwd", "1234" * 10])
def test_a_malformed_session_id_is_a_400(serve, fake_redis, bad):
    client = serve(create_app(OfflineChatModel(), fake_redis))
    for method, path, kwargs in [
        ("POST", "/chat", {"json": {"message": "Hi"}}),
        ("POST", "/chat/stream", {"json": {"message": "Hi"}}),
        ("DELETE", "/sessions", {}),
    ]:
        response = client.request(method, path, headers={SESSION_HEADER: bad}, **kwargs)
        assert response.status_code == 400, (method, path)
        assert SESSION_HEADER in response.json()["detail"]
        assert bad not in response.json()["detail"]
    assert not list(fake_redis.scan_iter("*"))


def test_an_id_the_server_never_issued_is_a_404(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis))
    invented = str(uuid.UUID(int=random.Random(1).getrandbits(128), version=4))
    response = client.post("/chat", json={"message": "Hi"}, headers={SESSION_HEADER: invented})
    assert response.status_code == 404
    assert not list(fake_redis.scan_iter("*")), "a refused id must not create a session"


@pytest.mark.parametrize("body", [{"message": ""}, {}, {"text": "Hi"}])
def test_an_invalid_body_is_a_422(serve, fake_redis, body):
    client = serve(create_app(OfflineChatModel(), fake_redis))
    assert client.post("/chat", json=body).status_code == 422
    assert client.post("/chat/stream", json=body).status_code == 422


def test_a_model_failure_is_a_503_and_saves_nothing(serve, fake_redis):
    client = serve(create_app(BrokenModel(), fake_redis))
    response = client.post("/chat", json={"message": "Hi"})
    assert response.status_code == 503
    assert "not saved" in response.json()["detail"]
    assert not list(fake_redis.scan_iter("*"))


def test_trimming_bounds_every_prompt_while_redis_keeps_everything(
    serve, fake_redis, recording_model
):
    budget = 120
    app = create_app(recording_model, fake_redis, max_tokens=budget, key_prefix="chat:")
    client = serve(app)
    session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
    for turn in range(15):
        client.post(
            "/chat",
            json={"message": f"Here is a fairly long remark number {turn} about my day."},
            headers={SESSION_HEADER: session_id},
        )
    assert fake_redis.llen(f"chat:{session_id}") == 32
    sizes = [count_tokens_approximately(prompt) for prompt in recording_model.prompts]
    assert max(sizes) <= budget
    assert sizes[-1] > sizes[0], "the prompt grows until it reaches the budget"
    for prompt in recording_model.prompts:
        assert isinstance(prompt[0], SystemMessage)
        assert isinstance(prompt[1], HumanMessage), "kept history starts on a human message"
    assert len(recording_model.last_prompt) < 32


def test_streaming_sends_tokens_then_done_and_saves_after_the_stream(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis, key_prefix="chat:"))
    session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
    headers = {SESSION_HEADER: session_id}

    response, events = stream_chat(client, "What's my name?", headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers[SESSION_HEADER] == session_id
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"} and len(names) > 2
    tokens = "".join(data["text"] for name, data in events if name == "token")
    assert tokens == events[-1][1]["reply"] == "Your name is Alex."
    assert fake_redis.llen(f"chat:{session_id}") == 4
    saved = json.loads(fake_redis.lindex(f"chat:{session_id}", -1))
    assert saved["data"]["content"] == "Your name is Alex."


def test_streaming_can_start_a_session(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis))
    response, events = stream_chat(client, "Hi, I'm Alex")
    session_id = response.headers[SESSION_HEADER]
    assert events[-1][0] == "done"
    again = client.post(
        "/chat", json={"message": "What's my name?"}, headers={SESSION_HEADER: session_id}
    )
    assert again.json()["reply"] == "Your name is Alex."


def test_a_stream_that_fails_reports_an_error_and_saves_nothing(serve, fake_redis):
    redis_prefix = "chat:"
    good = serve(create_app(OfflineChatModel(), fake_redis, key_prefix=redis_prefix))
    session_id = good.post("/chat", json={"message": "Hi"}).headers[SESSION_HEADER]
    broken = serve(create_app(FailsMidStreamModel(), fake_redis, key_prefix=redis_prefix))

    response, events = stream_chat(broken, "Tell me more", {SESSION_HEADER: session_id})
    assert response.status_code == 200  # headers were sent before the model failed
    assert [name for name, _ in events] == ["token", "token", "error"]
    assert fake_redis.llen(f"{redis_prefix}{session_id}") == 2


# -- a failed save: the data-loss bug and its fix ----------------------------------------


def _plain_chain(history_factory) -> RunnableWithMessageHistory:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{message}")]
    )
    return RunnableWithMessageHistory(
        prompt | OfflineChatModel(),
        history_factory,
        input_messages_key="message",
        history_messages_key="history",
    )


def test_runnable_with_message_history_swallows_a_failed_save(fake_redis, caplog):
    """The root cause, against the pinned langchain-core: the save is a listener."""
    store = SessionStore(WritesFail(fake_redis), ttl_seconds=60)
    chain = _plain_chain(store.history)
    before = CALLBACK_ERRORS.install().count
    with caplog.at_level(logging.WARNING, logger=CallbackErrorCounter.LOGGER):
        reply = chain.invoke({"message": "Hi, I'm Alex"}, {"configurable": {"session_id": "a"}})
    assert reply.content.startswith("Nice to meet you, Alex!")  # no exception reached us
    assert not fake_redis.exists("chat:a"), "and nothing was stored"
    assert any(
        "Error in RootListenersTracer.on_chain_end callback" in r.getMessage()
        for r in caplog.records
    ), "the only trace is a logged warning (the counter lets it through)"
    assert CALLBACK_ERRORS.count == before + 1


def _session_with_one_turn(serve, redis_client, key_prefix="chat:") -> str:
    good = serve(create_app(OfflineChatModel(), redis_client, key_prefix=key_prefix))
    return good.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]


def test_a_failed_save_is_a_503_and_stores_nothing(serve, fake_redis):
    session_id = _session_with_one_turn(serve, fake_redis)
    app = create_app(OfflineChatModel(), WritesFail(fake_redis), key_prefix="chat:")
    client = serve(app)
    before = CALLBACK_ERRORS.count

    response = client.post(
        "/chat", json={"message": "I live in Lisbon."}, headers={SESSION_HEADER: session_id}
    )
    assert response.status_code == 503
    assert "not kept" in response.json()["detail"]
    assert "reply" not in response.json()
    assert fake_redis.llen(f"chat:{session_id}") == 2, "only the first turn is stored"
    metrics = client.get("/metrics").json()
    assert metrics["turns"]["save_failed"] == 1 and metrics["turns"]["saved"] == 0
    assert metrics["callback_errors"] >= before + 1


def test_a_failed_save_on_a_new_session_creates_no_session(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), WritesFail(fake_redis)))
    response = client.post("/chat", json={"message": "Hi, I'm Alex"})
    assert response.status_code == 503
    assert SESSION_HEADER not in response.headers, "no id for a session that does not exist"
    assert not list(fake_redis.scan_iter("*"))


def test_a_stream_whose_save_fails_ends_with_an_error_event(serve, fake_redis):
    session_id = _session_with_one_turn(serve, fake_redis)
    client = serve(create_app(OfflineChatModel(), WritesFail(fake_redis), key_prefix="chat:"))

    response, events = stream_chat(client, "What's my name?", {SESSION_HEADER: session_id})
    names = [name for name, _ in events]
    assert response.status_code == 200  # the headers left before the save was tried
    assert names[-1] == "error" and "done" not in names
    assert set(names[:-1]) == {"token"}, "the reply was streamed, then the save failed"
    assert "not kept" in events[-1][1]["detail"]
    assert fake_redis.llen(f"chat:{session_id}") == 2
    assert client.get("/metrics").json()["turns"]["save_failed"] == 1


def test_a_failed_read_is_a_503_before_the_model_runs(serve, fake_redis, recording_model):
    session_id = _session_with_one_turn(serve, fake_redis)
    client = serve(create_app(recording_model, ReadsFail(fake_redis), key_prefix="chat:"))
    response = client.post("/chat", json={"message": "Hi"}, headers={SESSION_HEADER: session_id})
    assert response.status_code == 503
    assert "store is unavailable" in response.json()["detail"]
    assert recording_model.prompts == [], "the model was never asked"
    assert fake_redis.llen(f"chat:{session_id}") == 2
    assert client.get("/metrics").json()["turns"]["store_failed"] == 1


def test_closing_a_sync_stream_early_saves_half_a_reply(fake_redis):
    """Why the service seals an abandoned turn: the chain itself saves what it has."""
    store = SessionStore(fake_redis, ttl_seconds=60)
    stream = _plain_chain(store.history).stream(
        {"message": "Tell me a story"}, {"configurable": {"session_id": "a"}}
    )
    next(stream), next(stream)
    assert not fake_redis.exists("chat:a")
    stream.close()  # what the garbage collector would do, some time later
    saved = [json.loads(item)["data"]["content"] for item in fake_redis.lrange("chat:a", 0, -1)]
    assert saved[0] == "Tell me a story"
    assert len(saved) == 2 and len(saved[1]) < 20, "the question and a cut reply, unmarked"


def test_a_client_that_leaves_a_sync_stream_stores_nothing(serve, fake_redis):
    session_id = _session_with_one_turn(serve, fake_redis)
    app = create_app(SlowStreamingModel(delay=0.1), fake_redis, key_prefix="chat:")
    assert len(leave_mid_stream(serve(app), {SESSION_HEADER: session_id})) == 2

    metrics = app.state.metrics
    assert wait_for(lambda: metrics.snapshot([])["turns"]["abandoned"] == 1)
    time.sleep(0.5)
    gc.collect()
    assert fake_redis.llen(f"chat:{session_id}") == 2, "neither the question nor half a reply"
    assert metrics.snapshot([])["turns"]["saved"] == 0


# -- monitoring ------------------------------------------------------------------------------


def test_metrics_report_sessions_history_sizes_and_outcomes(serve, fake_redis):
    app = create_app(OfflineChatModel(), fake_redis, key_prefix="chat:")
    client = serve(app)
    fake_redis.rpush("other:not-a-session", "x")  # keys outside the prefix are not sessions
    alex = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
    client.post("/chat", json={"message": "Hi, I'm Sam"})
    for _ in range(5):
        stream_chat(client, "Tell me more.", {SESSION_HEADER: alex})

    metrics = client.get("/metrics").json()
    assert metrics["sessions"] == {
        "active": 2,
        "messages": 14,
        "largest": 12,
        "sizes": {"1-10": 1, "11-100": 1, "101+": 0},
    }
    assert metrics["turns"] == {
        "saved": 7,
        "model_failed": 0,
        "store_failed": 0,
        "save_failed": 0,
        "abandoned": 0,
    }
    assert isinstance(metrics["callback_errors"], int)
    assert app.state.metrics.snapshot([])["turns"]["saved"] == 7


def test_model_failures_are_counted(serve, fake_redis):
    client = serve(create_app(BrokenModel(), fake_redis))
    client.post("/chat", json={"message": "Hi"})
    stream_chat(client, "Hi")
    assert client.get("/metrics").json()["turns"]["model_failed"] == 2


def test_summarize_sizes_buckets_session_lengths():
    assert summarize_sizes([]) == {
        "active": 0,
        "messages": 0,
        "largest": 0,
        "sizes": {"1-10": 0, "11-100": 0, "101+": 0},
    }
    summary = summarize_sizes([2, 10, 11, 100, 101])
    assert summary["sizes"] == {"1-10": 2, "11-100": 2, "101+": 1}
    assert (summary["active"], summary["messages"], summary["largest"]) == (5, 224, 101)


def test_the_counter_is_a_filter_installed_once():
    counter = CallbackErrorCounter()
    logger = logging.getLogger(CallbackErrorCounter.LOGGER)
    try:
        counter.install().install()
        assert logger.filters.count(counter) == 1
        logger.warning("Error in %s.%s callback: %s", "Tracer", "on_chain_end", "boom")
        logger.warning("something else")
        assert counter.count == 1
        assert counter.last == "Error in Tracer.on_chain_end callback: boom"
    finally:
        logger.removeFilter(counter)


def test_metrics_keys_with_glob_characters_in_the_prefix(fake_redis):
    store = SessionStore(fake_redis, ttl_seconds=60, key_prefix="a*[b]:")
    fake_redis.rpush("a*[b]:1", "x", "y")
    fake_redis.rpush("aXb:2", "z")  # would match an unescaped pattern
    assert store.session_sizes() == [2]


def test_delete_removes_the_session(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis, key_prefix="chat:"))
    session_id = client.post("/chat", json={"message": "Hi, I'm Alex"}).headers[SESSION_HEADER]
    headers = {SESSION_HEADER: session_id}

    deleted = client.delete("/sessions", headers=headers)
    assert deleted.status_code == 204
    assert not fake_redis.exists(f"chat:{session_id}")
    assert client.delete("/sessions", headers=headers).status_code == 404
    assert client.post("/chat", json={"message": "Hi"}, headers=headers).status_code == 404


def test_delete_requires_the_header(serve, fake_redis):
    client = serve(create_app(OfflineChatModel(), fake_redis))
    response = client.delete("/sessions")
    assert response.status_code == 400
    assert "required" in response.json()["detail"]


def test_the_session_id_never_appears_in_a_url(fake_redis):
    app = create_app(OfflineChatModel(), fake_redis)
    paths = [route.path for route in app.routes if getattr(route, "include_in_schema", False)]
    assert sorted(paths) == ["/chat", "/chat/stream", "/metrics", "/sessions"]
    assert all("{" not in path for path in paths)


def test_parse_session_id_canonicalises_and_rejects():
    value = str(uuid.UUID(int=random.Random(5).getrandbits(128), version=4))
    assert parse_session_id(value.upper(), required=True) == value
    assert parse_session_id(f" {value} ", required=False) == value
    assert parse_session_id(None, required=False) is None
    assert parse_session_id("", required=False) is None
    with pytest.raises(HTTPException) as missing:
        parse_session_id(None, required=True)
    assert missing.value.status_code == 400
    with pytest.raises(HTTPException) as malformed:
        parse_session_id("abc", required=False)
    assert malformed.value.status_code == 400


def test_a_session_store_needs_a_positive_ttl(fake_redis):
    with pytest.raises(ValueError, match="expire"):
        create_app(OfflineChatModel(), fake_redis, ttl_seconds=0)


def test_live_server_serves_until_stopped():
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    server = LiveServer(app).start()
    url = server.base_url
    assert url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{url}/ping", timeout=5).json() == {"pong": "yes"}
    server.stop()
    server.stop()  # harmless
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/ping", timeout=2)
    with pytest.raises(RuntimeError):
        _ = server.port
