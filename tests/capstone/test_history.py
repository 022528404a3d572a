"""`LimitedRedisChatHistory` on its own: newest messages kept, TTL refreshed, input checked."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from solutions.chat_application import LimitedRedisChatHistory


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


def test_history_ttl_is_refreshed_and_clear_deletes(fake_redis, redis_time):
    history = LimitedRedisChatHistory("s1", fake_redis, ttl_seconds=50)
    history.add_messages([HumanMessage("a")])
    assert fake_redis.ttl("chat:s1") == 50
    redis_time.advance(40)
    history.add_messages([AIMessage("b")])
    assert fake_redis.ttl("chat:s1") == 50
    redis_time.advance(40)
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
