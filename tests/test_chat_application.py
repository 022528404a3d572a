"""Behaviour of the capstone's reference `ChatApplication` and `LimitedRedisChatHistory`.

Most tests run on a private fakeredis server; those taking `any_redis` run on fakeredis
and on the real Redis, under a unique key prefix that is deleted afterwards. Expiry is
tested with a fake clock on fakeredis (deterministic) and once with a real one-second
TTL on both servers.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import types
import uuid
from datetime import datetime

import fakeredis
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from memory_course import OfflineChatModel, RecordingChatModel
from memory_course.redis_metrics import measure
from solutions.chat_application import (
    MAX_MESSAGE_CHARS,
    MAX_USER_ID_CHARS,
    ChatApplication,
    LimitedRedisChatHistory,
    SessionInfo,
    SessionNotFoundError,
    StorageUnavailableError,
)

WRITE_COMMANDS = {"RPUSH", "LTRIM", "EXPIRE", "HSET", "ZADD", "SET", "DEL", "LPUSH"}


class FailingModel(OfflineChatModel):
    """Answers normally until `fail` is set, then raises."""

    fail: bool = False

    def _reply(self, messages, stop):
        if self.fail:
            raise RuntimeError("the model is down")
        return super()._reply(messages, stop)


class CallbackModel(RecordingChatModel):
    """Runs `on_call` (if set) while answering, to act in the middle of a turn."""

    on_call: object = None

    def _reply(self, messages, stop):
        if callable(self.on_call):
            self.on_call()
        return super()._reply(messages, stop)


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    """Freeze fakeredis's notion of time (it reads `time.time()` once per command)."""
    import fakeredis._socket._base as fake_socket

    clock = FakeClock()
    monkeypatch.setattr(fake_socket, "time", types.SimpleNamespace(time=clock.time))
    return clock


@pytest.fixture
def app(fake_redis, recording_model) -> ChatApplication:
    return ChatApplication(redis_client=fake_redis, llm=recording_model)


@pytest.fixture
def make_app(any_redis, redis_prefix):
    """Build apps on `any_redis` under a unique prefix; delete every key afterwards."""

    def build(**options) -> ChatApplication:
        options.setdefault("llm", RecordingChatModel())
        return ChatApplication(redis_client=any_redis, key_prefix=redis_prefix, **options)

    yield build
    keys = list(any_redis.scan_iter(match=f"{redis_prefix}*", count=1000))
    if keys:
        any_redis.delete(*keys)


def keys_under(client, prefix: str = "chat:") -> list[str]:
    return sorted(k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000))


def traces_of(client, session_id: str, prefix: str = "chat:") -> list[str]:
    """Every key whose name, or zset member, holds `session_id`."""
    found = []
    for key in keys_under(client, prefix):
        if session_id in key:
            found.append(key)
        elif client.type(key) == b"zset" and client.zscore(key, session_id) is not None:
            found.append(f"{key} (member)")
    return found


def stored_messages(app: ChatApplication, session_id: str):
    return LimitedRedisChatHistory(
        session_id, app.redis, max_messages=10_000, key_prefix=app.key_prefix
    ).messages


# --- sessions ------------------------------------------------------------------------


def test_create_session_returns_distinct_uuid4_strings(app):
    first, second = app.create_session("alice"), app.create_session("alice")
    assert first != second
    for session_id in (first, second):
        assert isinstance(session_id, str)
        assert uuid.UUID(session_id).version == 4
        assert str(uuid.UUID(session_id)) == session_id


def test_new_session_info(app):
    session_id = app.create_session("alice")
    info = app.get_session_info(session_id)
    assert isinstance(info, SessionInfo)
    assert (info.session_id, info.user_id, info.message_count) == (session_id, "alice", 0)
    assert info.created_at == info.last_active
    assert info.created_at.tzinfo is not None


def test_session_info_is_a_dataclass_readable_as_a_mapping(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hello")
    info = app.get_session_info(session_id)
    assert dataclasses.is_dataclass(info)
    assert [f.name for f in dataclasses.fields(info)] == [
        "session_id",
        "user_id",
        "created_at",
        "last_active",
        "message_count",
    ]
    assert info["message_count"] == info.message_count == 2
    assert info["user_id"] == "alice"
    with pytest.raises(KeyError):
        info["owner"]
    data = json.loads(json.dumps(info.to_dict()))
    assert data["session_id"] == session_id
    assert data["message_count"] == 2
    assert datetime.fromisoformat(data["created_at"]) == info.created_at
    assert datetime.fromisoformat(data["last_active"]) == info.last_active


def test_get_session_info_of_unknown_ids_is_none(app):
    assert app.get_session_info(str(uuid.uuid4())) is None
    assert app.get_session_info("not-a-session") is None
    assert app.get_session_info("") is None
    with pytest.raises(TypeError):
        app.get_session_info(None)


def test_uppercase_or_braced_forms_of_an_id_are_not_the_session(app):
    session_id = app.create_session("alice")
    for variant in (session_id.upper(), "{" + session_id + "}", session_id.replace("-", "")):
        assert app.get_session_info(variant) is None
        with pytest.raises(SessionNotFoundError):
            app.chat(variant, "Hello")


@pytest.mark.parametrize(
    "user_id", ["", "   ", "\t\n", "x" * (MAX_USER_ID_CHARS + 1), "a\nb", "a\x00b", "\ud800"]
)
def test_invalid_user_ids_raise_value_error(app, user_id):
    with pytest.raises(ValueError):
        app.create_session(user_id)
    with pytest.raises(ValueError):
        app.list_sessions(user_id)


@pytest.mark.parametrize("user_id", [None, 42, b"alice", ["alice"]])
def test_non_str_user_ids_raise_type_error(app, user_id):
    with pytest.raises(TypeError):
        app.create_session(user_id)


def test_longest_allowed_user_id_and_unicode_user_ids_work(app):
    for user_id in ("x" * MAX_USER_ID_CHARS, "Zoë 🙂", "משתמש", "user:with:colons"):
        session_id = app.create_session(user_id)
        assert [i.session_id for i in app.list_sessions(user_id)] == [session_id]


# --- chat and memory -----------------------------------------------------------------


def test_second_turn_prompt_carries_the_first_turn(app, recording_model):
    session_id = app.create_session("alice")
    first_reply = app.chat(session_id, "Hi, I'm Alex")
    assert recording_model.last_prompt == [
        SystemMessage("You are a helpful assistant."),
        HumanMessage("Hi, I'm Alex"),
    ]
    reply = app.chat(session_id, "What's my name?")
    assert "Alex" in reply
    prompt = recording_model.last_prompt
    assert [type(m) for m in prompt] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert [m.content for m in prompt[1:]] == ["Hi, I'm Alex", first_reply, "What's my name?"]


def test_sessions_do_not_share_memory(app):
    alex = app.create_session("alice")
    other = app.create_session("alice")
    app.chat(alex, "Hi, I'm Alex")
    assert "Alex" in app.chat(alex, "What's my name?")
    assert "don't know" in app.chat(other, "What's my name?")


def test_reply_text_is_returned_and_stored(app):
    session_id = app.create_session("alice")
    reply = app.chat(session_id, "Hello there")
    assert isinstance(reply, str) and reply
    messages = stored_messages(app, session_id)
    assert [(m.type, m.content) for m in messages] == [("human", "Hello there"), ("ai", reply)]
    assert app.get_session_info(session_id).message_count == 2


def test_system_prompt_is_used_verbatim(fake_redis, recording_model):
    prompt = "You answer as {persona}, an expert in Redis."
    app = ChatApplication(redis_client=fake_redis, llm=recording_model, system_prompt=prompt)
    reply = app.chat(app.create_session("alice"), "Hello")
    assert recording_model.last_prompt[0] == SystemMessage(prompt)
    assert "As your Redis assistant" in reply


def test_message_limit_bounds_storage_and_prompt(fake_redis, recording_model):
    app = ChatApplication(redis_client=fake_redis, llm=recording_model, max_messages=4)
    session_id = app.create_session("alice")
    for turn in range(5):
        app.chat(session_id, f"message {turn}")
        assert app.get_session_info(session_id).message_count == min(2 * (turn + 1), 4)
    humans = [m.content for m in stored_messages(app, session_id) if m.type == "human"]
    assert humans == ["message 3", "message 4"]
    app.chat(session_id, "message 5")
    prompt = recording_model.last_prompt
    assert len(prompt) == 1 + 4 + 1
    assert [m.content for m in prompt if m.type == "human"] == [
        "message 3",
        "message 4",
        "message 5",
    ]


def test_unknown_and_deleted_sessions_raise_session_not_found(app):
    for session_id in (str(uuid.uuid4()), "nope", ""):
        with pytest.raises(SessionNotFoundError):
            app.chat(session_id, "Hello")
    session_id = app.create_session("alice")
    app.delete_session(session_id)
    with pytest.raises(SessionNotFoundError) as raised:
        app.chat(session_id, "Hello")
    assert isinstance(raised.value, ValueError)
    assert traces_of(app.redis, session_id) == []


@pytest.mark.parametrize("message", ["", " ", "\n\t  ", "\u3000", "x" * (MAX_MESSAGE_CHARS + 1)])
def test_empty_or_oversized_messages_raise_and_store_nothing(app, recording_model, message):
    session_id = app.create_session("alice")
    with pytest.raises(ValueError):
        app.chat(session_id, message)
    assert app.get_session_info(session_id).message_count == 0
    assert recording_model.prompts == []


def test_message_of_exactly_the_limit_is_accepted(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "y" * MAX_MESSAGE_CHARS)
    assert stored_messages(app, session_id)[0].content == "y" * MAX_MESSAGE_CHARS


@pytest.mark.parametrize("message", [None, 42, b"hello", ["hello"], HumanMessage("hello")])
def test_non_str_messages_raise_type_error_and_store_nothing(app, recording_model, message):
    session_id = app.create_session("alice")
    with pytest.raises(TypeError):
        app.chat(session_id, message)
    assert app.get_session_info(session_id).message_count == 0
    assert recording_model.prompts == []


def test_lone_surrogates_are_rejected_before_storage(app):
    session_id = app.create_session("alice")
    with pytest.raises(ValueError):
        app.chat(session_id, "broken \ud83d text")
    assert app.get_session_info(session_id).message_count == 0


def test_unusual_text_round_trips_exactly(app):
    session_id = app.create_session("alice")
    texts = ["nul \x00 inside", "emoji 🙂👍🏽🇳🇿", "RTL שלום \u202e مرحبا", "{input} {history}"]
    for text in texts:
        app.chat(session_id, text)
    humans = [m.content for m in stored_messages(app, session_id) if m.type == "human"]
    assert humans == texts


def test_model_failure_stores_nothing(fake_redis):
    model = FailingModel()
    app = ChatApplication(redis_client=fake_redis, llm=model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    before = app.get_session_info(session_id)
    model.fail = True
    with pytest.raises(RuntimeError, match="the model is down"):
        app.chat(session_id, "What's my name?")
    assert app.get_session_info(session_id) == before
    assert [m.content for m in stored_messages(app, session_id)][0] == "Hi, I'm Alex"
    assert len(stored_messages(app, session_id)) == 2


def test_model_failure_on_the_first_turn_creates_no_history_key(fake_redis):
    app = ChatApplication(redis_client=fake_redis, llm=FailingModel(fail=True))
    session_id = app.create_session("alice")
    with pytest.raises(RuntimeError):
        app.chat(session_id, "Hello")
    assert f"chat:{session_id}" not in keys_under(fake_redis)


def test_session_deleted_while_the_model_answers(fake_redis):
    model = CallbackModel()
    app = ChatApplication(redis_client=fake_redis, llm=model)
    session_id = app.create_session("alice")
    app.share_session(session_id, "alice", "bob")
    model.on_call = lambda: app.delete_session(session_id)
    with pytest.raises(SessionNotFoundError):
        app.chat(session_id, "Hello")
    assert traces_of(fake_redis, session_id) == []
    assert app.list_sessions("alice") == [] and app.list_sessions("bob") == []


def test_storage_failure_during_the_write_raises_and_stores_nothing(fake_redis):
    """The fake server refuses connections while the model answers the second turn."""
    server = fake_redis.connection_pool.connection_kwargs["server"]
    model = CallbackModel()
    app = ChatApplication(redis_client=fake_redis, llm=model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")

    def cut() -> None:
        server.connected = False

    model.on_call = cut
    with pytest.raises(StorageUnavailableError) as raised:
        app.chat(session_id, "What's my name?")
    assert raised.value.__cause__ is not None
    server.connected = True
    model.on_call = None
    assert len(stored_messages(app, session_id)) == 2
    assert "Alex" in app.chat(session_id, "What's my name?")
    assert app.get_session_info(session_id).message_count == 4


def test_storage_failure_before_the_turn_never_calls_the_model(fake_redis, recording_model):
    server = fake_redis.connection_pool.connection_kwargs["server"]
    app = ChatApplication(redis_client=fake_redis, llm=recording_model)
    session_id = app.create_session("alice")
    server.connected = False
    for call in (
        lambda: app.chat(session_id, "Hello"),
        lambda: app.get_session_info(session_id),
        lambda: app.list_sessions("alice"),
        lambda: app.create_session("alice"),
        lambda: app.delete_session(session_id),
        lambda: app.export_session(session_id),
    ):
        with pytest.raises(StorageUnavailableError):
            call()
    assert recording_model.prompts == []
    server.connected = True
    assert app.get_session_info(session_id).message_count == 0


# --- cost per turn -------------------------------------------------------------------


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
    assert metrics.round_trips == 2
    read, write = metrics.exchanges
    assert not WRITE_COMMANDS & set(read.commands)
    assert {"HGETALL", "LRANGE"} <= set(read.commands)
    assert write.commands[0] == "MULTI" and write.commands[-1] == "EXEC"
    assert {"RPUSH", "LTRIM", "EXPIRE", "HSET", "ZADD"} <= set(write.commands)


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


# --- expiry --------------------------------------------------------------------------


def test_every_turn_pushes_every_expiry_back(make_app, any_redis, redis_prefix):
    app = make_app(session_ttl=300)
    session_id = app.create_session("alice")
    app.share_session(session_id, "alice", "bob")
    app.chat(session_id, "Hello")
    keys = keys_under(any_redis, redis_prefix)
    assert len(keys) == 4  # messages, info, and the two users' indexes
    for key in keys:  # pretend the session has been idle for almost its whole TTL
        any_redis.expire(key, 5)
    app.chat(session_id, "Still there?")
    for key in keys:
        assert 290 <= any_redis.ttl(key) <= 300, key


def test_sliding_expiry(fake_redis, fake_clock):
    app = ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), session_ttl=100)
    session_id = app.create_session("alice")
    fake_clock.advance(60)
    app.chat(session_id, "Hi, I'm Alex")
    fake_clock.advance(60)  # 120 s after creation, 60 s after the turn
    assert app.get_session_info(session_id).message_count == 2
    assert "Alex" in app.chat(session_id, "What's my name?")
    fake_clock.advance(99)
    assert [i.session_id for i in app.list_sessions("alice")] == [session_id]
    fake_clock.advance(2)
    assert app.get_session_info(session_id) is None
    with pytest.raises(SessionNotFoundError):
        app.chat(session_id, "Hello?")
    assert app.list_sessions("alice") == []
    assert traces_of(fake_redis, session_id) == []


def test_reads_do_not_extend_the_session(fake_redis, fake_clock):
    app = ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), session_ttl=100)
    session_id = app.create_session("alice")
    for _ in range(3):
        fake_clock.advance(30)
        assert app.get_session_info(session_id) is not None
        assert len(app.list_sessions("alice")) == 1
        app.export_session(session_id)
    fake_clock.advance(11)  # 101 s after creation: reads did not count as activity
    assert app.get_session_info(session_id) is None


def test_expired_session_is_gone_everywhere(make_app, any_redis, redis_prefix):
    app = make_app(session_ttl=1)
    expired = app.create_session("alice")
    app.chat(expired, "Hello")
    app.share_session(expired, "alice", "bob")
    time.sleep(1.5)
    live = app.create_session("alice")  # keeps alice's index alive
    assert app.get_session_info(expired) is None
    with pytest.raises(SessionNotFoundError):
        app.chat(expired, "Hello")
    assert [i.session_id for i in app.list_sessions("alice")] == [live]
    assert app.list_sessions("bob") == []
    assert traces_of(any_redis, expired, redis_prefix) == []


# --- listing -------------------------------------------------------------------------


def test_list_sessions_most_recently_active_first(app):
    first, second, third = (app.create_session("alice") for _ in range(3))
    app.create_session("bob")
    assert [i.session_id for i in app.list_sessions("alice")] == [third, second, first]
    app.chat(first, "Hello")
    listed = app.list_sessions("alice")
    assert [i.session_id for i in listed] == [first, third, second]
    assert [i.message_count for i in listed] == [2, 0, 0]
    assert all(i.user_id == "alice" for i in listed)
    assert app.list_sessions("nobody") == []


@pytest.mark.parametrize("count", [1, 10, 100])
def test_list_sessions_round_trips_do_not_depend_on_the_number_of_sessions(
    make_app, any_redis, count
):
    app = make_app()
    created = {app.create_session("alice") for _ in range(count)}
    any_redis.ping()
    with measure(any_redis) as metrics:
        listed = app.list_sessions("alice")
    assert {i.session_id for i in listed} == created
    assert metrics.round_trips == 2


def test_list_sessions_prunes_dead_ids_in_one_more_round_trip(make_app, any_redis, redis_prefix):
    app = make_app()
    keep = app.create_session("alice")
    dead = [app.create_session("alice") for _ in range(5)]
    for session_id in dead:  # as if they expired
        any_redis.delete(f"{redis_prefix}{session_id}:info")
    with measure(any_redis) as metrics:
        assert [i.session_id for i in app.list_sessions("alice")] == [keep]
    assert metrics.round_trips == 3
    assert metrics.commands[-1] == "ZREM"
    for session_id in dead:
        assert traces_of(any_redis, session_id, redis_prefix) == []
    with measure(any_redis) as metrics:
        app.list_sessions("alice")
    assert metrics.round_trips == 2


# --- deletion ------------------------------------------------------------------------


def test_delete_session_leaves_no_key(make_app, any_redis, redis_prefix):
    app = make_app()
    session_id = app.create_session("alice")
    other = app.create_session("alice")
    app.chat(session_id, "Hello")
    app.share_session(session_id, "alice", "bob")
    assert app.delete_session(session_id) is True
    assert traces_of(any_redis, session_id, redis_prefix) == []
    assert app.get_session_info(session_id) is None
    assert [i.session_id for i in app.list_sessions("alice")] == [other]
    assert app.list_sessions("bob") == []
    assert app.delete_session(session_id) is False


def test_delete_unknown_session_is_false_and_writes_nothing(app, fake_redis):
    assert app.delete_session(str(uuid.uuid4())) is False
    assert app.delete_session("whatever") is False
    assert keys_under(fake_redis) == []
    with pytest.raises(TypeError):
        app.delete_session(123)


# --- concurrency ---------------------------------------------------------------------


def test_concurrent_turns_on_one_session_lose_nothing(make_app):
    app = make_app(llm=OfflineChatModel(), max_messages=1000)
    session_id = app.create_session("alice")
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for turn in range(25):
                app.chat(session_id, f"worker {number} turn {turn}")
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = stored_messages(app, session_id)
    assert len(messages) == 400
    assert app.get_session_info(session_id).message_count == 400
    sent = [m.content for m in messages[0::2]]
    assert sorted(sent) == sorted(f"worker {n} turn {t}" for n in range(8) for t in range(25))
    for question, answer in zip(messages[0::2], messages[1::2], strict=True):
        assert question.type == "human" and answer.type == "ai"
        assert f'"{question.content}"' in answer.content  # each reply follows its question


# --- bonus: export, share, fork ------------------------------------------------------


def test_json_export_round_trips(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    app.chat(session_id, 'emoji 🙂 and \x00 and "quotes"')
    exported = json.loads(app.export_session(session_id, "json"))
    stored = stored_messages(app, session_id)
    assert [(m["role"], m["content"]) for m in exported["messages"]] == [
        (m.type, m.content) for m in stored
    ]
    assert {k: v for k, v in exported.items() if k != "messages"} == (
        app.get_session_info(session_id).to_dict()
    )
    assert json.loads(app.export_session(session_id)) == exported  # json is the default


def test_markdown_export_shows_roles_and_text_in_order(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    app.chat(session_id, "What's my name?")
    markdown = app.export_session(session_id, "markdown")
    stored = stored_messages(app, session_id)
    position = 0
    for message in stored:
        label = "**User:**" if message.type == "human" else "**Assistant:**"
        found = markdown.index(f"{label} {message.content}", position)
        assert found >= position
        position = found + 1
    assert session_id in markdown


def test_export_errors(app):
    session_id = app.create_session("alice")
    for bad in ("xml", "JSON", "", "md"):
        with pytest.raises(ValueError):
            app.export_session(session_id, bad)
    with pytest.raises(TypeError):
        app.export_session(session_id, None)
    with pytest.raises(SessionNotFoundError):
        app.export_session(str(uuid.uuid4()))
    empty = json.loads(app.export_session(session_id))
    assert empty["messages"] == [] and empty["message_count"] == 0


def test_share_session_lists_it_for_the_other_user(app):
    session_id = app.create_session("alice")
    bobs_own = app.create_session("bob")
    app.share_session(session_id, "alice", "bob")
    app.share_session(session_id, "alice", "bob")  # twice changes nothing
    app.chat(session_id, "Hello")
    listed = app.list_sessions("bob")
    assert [i.session_id for i in listed] == [session_id, bobs_own]
    assert listed[0].user_id == "alice"
    assert listed[0].message_count == 2
    assert [i.session_id for i in app.list_sessions("carol")] == []


def test_share_session_requires_the_owner(app):
    session_id = app.create_session("alice")
    with pytest.raises(PermissionError):
        app.share_session(session_id, "mallory", "mallory")
    with pytest.raises(PermissionError):
        app.share_session(session_id, "bob", "carol")
    assert app.list_sessions("mallory") == [] and app.list_sessions("carol") == []
    with pytest.raises(SessionNotFoundError):
        app.share_session(str(uuid.uuid4()), "alice", "bob")
    with pytest.raises(ValueError):
        app.share_session(session_id, "alice", "")
    app.share_session(session_id, "alice", "alice")
    assert len(app.list_sessions("alice")) == 1


def test_fork_copies_a_prefix_then_diverges(app, recording_model):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    app.chat(session_id, "My favourite colour is green")
    original = stored_messages(app, session_id)
    fork = app.fork_session(session_id, "bob", at_message=2)
    assert fork != session_id and uuid.UUID(fork).version == 4
    info = app.get_session_info(fork)
    assert (info.user_id, info.message_count) == ("bob", 2)
    assert [fork] == [i.session_id for i in app.list_sessions("bob")]
    assert stored_messages(app, fork) == original[:2]

    app.chat(fork, "What's my favourite colour?")
    assert [m.content for m in recording_model.last_prompt[1:3]] == [
        original[0].content,
        original[1].content,
    ]
    assert len(recording_model.last_prompt) == 4  # the fork never saw the colour
    assert stored_messages(app, session_id) == original
    app.chat(session_id, "Bye")
    assert app.get_session_info(fork).message_count == 4
    assert app.get_session_info(session_id).message_count == 6


def test_fork_whole_and_empty(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hello")
    whole = app.fork_session(session_id, "alice")
    empty = app.fork_session(session_id, "alice", at_message=0)
    assert stored_messages(app, whole) == stored_messages(app, session_id)
    assert app.get_session_info(empty).message_count == 0
    app.delete_session(session_id)
    assert app.get_session_info(whole).message_count == 2


def test_fork_errors(app):
    session_id = app.create_session("alice")
    app.chat(session_id, "Hello")
    for bad in (-1, 3, 100):
        with pytest.raises(ValueError):
            app.fork_session(session_id, "bob", at_message=bad)
    for bad in (True, 1.0, "1"):
        with pytest.raises(TypeError):
            app.fork_session(session_id, "bob", at_message=bad)
    with pytest.raises(SessionNotFoundError):
        app.fork_session(str(uuid.uuid4()), "bob")
    with pytest.raises(ValueError):
        app.fork_session(session_id, "")
    assert app.list_sessions("bob") == []


# --- construction --------------------------------------------------------------------


def test_redis_client_wins_over_redis_url(fake_redis, recording_model):
    app = ChatApplication("redis://127.0.0.1:1/0", redis_client=fake_redis, llm=recording_model)
    assert app.redis is fake_redis
    app.chat(app.create_session("alice"), "Hello")


def test_client_built_from_the_url_has_bounded_timeouts():
    app = ChatApplication("redis://127.0.0.1:1/0", llm=OfflineChatModel())
    options = app.redis.connection_pool.connection_kwargs
    assert 0 < options["socket_connect_timeout"] <= 5
    assert 0 < options["socket_timeout"] <= 10
    with pytest.raises(StorageUnavailableError):
        app.create_session("alice")


def test_default_llm_comes_from_the_course_factory(fake_redis, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app = ChatApplication(redis_client=fake_redis)
    assert isinstance(app.llm, OfflineChatModel)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")
    assert "Alex" in app.chat(session_id, "What's my name?")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_messages": 0}, ValueError),
        ({"max_messages": "5"}, TypeError),
        ({"max_messages": True}, TypeError),
        ({"session_ttl": 0}, ValueError),
        ({"session_ttl": 1.5}, TypeError),
        ({"system_prompt": None}, TypeError),
        ({"key_prefix": ""}, ValueError),
    ],
)
def test_invalid_settings(fake_redis, options, error):
    with pytest.raises(error):
        ChatApplication(redis_client=fake_redis, llm=OfflineChatModel(), **options)


def test_decoded_responses_client_works(recording_model):
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    app = ChatApplication(redis_client=client, llm=recording_model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex 🙂")
    assert "Alex" in app.chat(session_id, "What's my name?")
    assert [i.session_id for i in app.list_sessions("alice")] == [session_id]
    fork = app.fork_session(session_id, "bob", 2)
    assert app.get_session_info(fork).message_count == 2
    assert json.loads(app.export_session(fork))["messages"][0]["content"] == "Hi, I'm Alex 🙂"


# --- the history class on its own ----------------------------------------------------


def test_history_keeps_the_newest_messages_oldest_first(fake_redis):
    history = LimitedRedisChatHistory("s1", fake_redis, max_messages=3, key_prefix="lesson:")
    assert history.key == "lesson:s1"
    assert history.messages == []
    history.add_messages([HumanMessage("1"), AIMessage("2")])
    history.add_message(HumanMessage("3"))
    history.add_messages([AIMessage("4"), HumanMessage("5")])
    assert [m.content for m in history.messages] == ["3", "4", "5"]
    assert fake_redis.llen("lesson:s1") == 3
    assert [
        m.content for m in LimitedRedisChatHistory("s1", fake_redis, 2, 60, "lesson:").messages
    ] == ["4", "5"]


def test_history_ttl_is_refreshed_and_clear_deletes(fake_redis, fake_clock):
    history = LimitedRedisChatHistory("s1", fake_redis, ttl_seconds=50)
    history.add_messages([HumanMessage("a")])
    assert fake_redis.ttl("chat:s1") == 50
    fake_clock.advance(40)
    history.add_messages([AIMessage("b")])
    assert fake_redis.ttl("chat:s1") == 50
    fake_clock.advance(40)
    assert len(history.messages) == 2
    history.clear()
    assert history.messages == [] and fake_redis.exists("chat:s1") == 0


def test_history_in_a_runnable_with_message_history(fake_redis, recording_model):
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
    from langchain_core.runnables.history import RunnableWithMessageHistory

    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{input}")]
    )
    chain = RunnableWithMessageHistory(
        prompt | recording_model,
        lambda session_id: LimitedRedisChatHistory(session_id, fake_redis, max_messages=6),
        input_messages_key="input",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "lesson"}}
    chain.invoke({"input": "Hi, I'm Alex"}, config=config)
    assert "Alex" in chain.invoke({"input": "What's my name?"}, config=config).content
    assert fake_redis.llen("chat:lesson") == 4


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", None), ValueError),
        (("x" * 257, None), ValueError),
        ((None, None), TypeError),
        (("\ud800", None), ValueError),
    ],
)
def test_history_validates_its_session_id(fake_redis, args, error):
    session_id, _ = args
    with pytest.raises(error):
        LimitedRedisChatHistory(session_id, fake_redis)


def test_history_rejects_bad_messages_without_storing(fake_redis):
    history = LimitedRedisChatHistory("s1", fake_redis)
    with pytest.raises(TypeError):
        history.add_messages([HumanMessage("ok"), "not a message"])
    with pytest.raises(ValueError):
        history.add_messages([HumanMessage("ok"), HumanMessage("\udfff")])
    assert fake_redis.exists("chat:s1") == 0
    history.add_messages([])
    assert fake_redis.exists("chat:s1") == 0


def test_history_reports_foreign_data_as_value_error(fake_redis):
    fake_redis.rpush("chat:s1", b"not json")
    history = LimitedRedisChatHistory("s1", fake_redis)
    with pytest.raises(ValueError):
        _ = history.messages


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
    connection = any_redis.connection_pool.get_connection()
    try:
        packed = b"".join(bytes(p) for p in connection.pack_command("SET", key, "x" * 100))
    finally:
        any_redis.connection_pool.release(connection)
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
