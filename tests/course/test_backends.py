"""The course's persistence backends through one RunnableWithMessageHistory chain.

Each backend runs on its embedded default always (fakeredis over TCP, SQLite) and on
the real server when reachable (Redis, PostgreSQL); under CI the real ones are required.
"""

from __future__ import annotations

import uuid

import pytest
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memory_course import FakeRedisServer, RecordingChatModel
from tests.services import real_database_url, real_redis_url


def _chain(model, get_history):
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are helpful."), MessagesPlaceholder("history"), ("human", "{input}")]
    )
    return RunnableWithMessageHistory(
        prompt | model, get_history, input_messages_key="input", history_messages_key="history"
    )


def _converse(get_history) -> tuple[RecordingChatModel, str]:
    model = RecordingChatModel()
    chain = _chain(model, get_history)
    session = str(uuid.uuid4())
    config = {"configurable": {"session_id": session}}
    chain.invoke({"input": "Hi, I'm Alex"}, config=config)
    reply = chain.invoke({"input": "What's my name?"}, config=config)
    assert "Alex" in reply.content
    assert [m.content for m in model.last_prompt[1:3]][0] == "Hi, I'm Alex"
    return model, session


@pytest.fixture
def fake_redis_url():
    with FakeRedisServer() as server:
        yield server.url


def _redis_roundtrip(url: str) -> None:
    from langchain_community.chat_message_histories import RedisChatMessageHistory

    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    histories = {}

    def get_history(session_id):
        return histories.setdefault(
            session_id, RedisChatMessageHistory(session_id, url=url, key_prefix=prefix, ttl=60)
        )

    _, session = _converse(get_history)
    fresh = RedisChatMessageHistory(session, url=url, key_prefix=prefix)
    assert [m.content for m in fresh.messages][0] == "Hi, I'm Alex"
    assert len(fresh.messages) == 4
    assert 0 < fresh.redis_client.ttl(prefix + session) <= 60
    fresh.clear()


def test_redis_history_on_fakeredis(fake_redis_url):
    _redis_roundtrip(fake_redis_url)


@pytest.mark.redis_server
def test_redis_history_on_real_redis():
    _redis_roundtrip(real_redis_url())


def _sql_roundtrip(connection: str) -> None:
    from langchain_community.chat_message_histories import SQLChatMessageHistory

    table = f"course_test_{uuid.uuid4().hex[:8]}"
    _, session = _converse(
        lambda session_id: SQLChatMessageHistory(
            session_id, connection=connection, table_name=table
        )
    )
    reread = SQLChatMessageHistory(session, connection=connection, table_name=table)
    assert len(reread.messages) == 4
    reread.clear()
    assert reread.messages == []


def test_sql_history_on_sqlite(tmp_path):
    _sql_roundtrip(f"sqlite:///{tmp_path / 'chat.db'}")


@pytest.mark.postgres_server
def test_sql_history_on_real_postgres():
    _sql_roundtrip(real_database_url().replace("postgresql://", "postgresql+psycopg://", 1))


@pytest.mark.postgres_server
def test_langchain_postgres_history_on_real_postgres():
    import psycopg
    from langchain_postgres import PostgresChatMessageHistory

    table = f"course_chat_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(real_database_url(), autocommit=True) as connection:
        PostgresChatMessageHistory.create_tables(connection, table)
        try:
            _, session = _converse(
                lambda session_id: PostgresChatMessageHistory(
                    table, session_id, sync_connection=connection
                )
            )
            assert (
                len(PostgresChatMessageHistory(table, session, sync_connection=connection).messages)
                == 4
            )
            with pytest.raises(ValueError):
                PostgresChatMessageHistory(table, "not-a-uuid", sync_connection=connection)
        finally:
            PostgresChatMessageHistory.drop_table(connection, table)
