"""Lesson 5 solutions: a collision-free UUID per (user, conversation), and moving histories."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import mongomock
import pytest
from langchain_community.chat_message_histories import SQLChatMessageHistory
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_mongodb import MongoDBChatMessageHistory
from sqlalchemy import create_engine

from solutions.lesson_05 import copy_history, pair_session_uuid


def test_pair_uuid_is_a_valid_uuid_string() -> None:
    value = pair_session_uuid("alex", "trip")
    parsed = uuid.UUID(value)
    assert str(parsed) == value
    assert parsed.version == 5


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("a:b", "c"), ("a", "b:c")),
        (("ab", "c"), ("a", "bc")),
        (("a", ""), ("", "a")),
        (('a", "b', "c"), ("a", 'b", "c')),
        (("alex", "trip"), ("alex", "work")),
        (("alex", "trip"), ("sam", "trip")),
    ],
)
def test_different_pairs_get_different_uuids(first, second) -> None:
    assert pair_session_uuid(*first) != pair_session_uuid(*second)


def test_pair_uuid_is_stable_across_processes() -> None:
    code = "from solutions.lesson_05 import pair_session_uuid; print(pair_session_uuid('zoë', 'ü'))"
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert child.stdout.strip() == pair_session_uuid("zoë", "ü")


def test_pair_uuid_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        pair_session_uuid("alex", 3)  # type: ignore[arg-type]


def _turns() -> list:
    return [
        SystemMessage("You are terse."),
        HumanMessage("Hi, I'm Alex"),
        AIMessage("Nice to meet you, Alex!"),
        HumanMessage("My favorite color is green."),
    ]


def _sqlite(tmp_path: Path, session_id: str) -> SQLChatMessageHistory:
    engine = create_engine(f"sqlite:///{tmp_path / 'chat.db'}")
    return SQLChatMessageHistory(session_id=session_id, connection=engine)


def _mongo(client, session_id: str) -> MongoDBChatMessageHistory:
    return MongoDBChatMessageHistory(None, session_id, "test", "histories", client=client)


def test_copy_preserves_order_types_and_content(tmp_path: Path) -> None:
    source = InMemoryChatMessageHistory()
    source.add_messages(_turns())
    target = _sqlite(tmp_path, "alex")
    assert copy_history(source, target) == 4
    copied = _sqlite(tmp_path, "alex").messages
    assert [(type(m), m.content) for m in copied] == [(type(m), m.content) for m in _turns()]
    assert len(source.messages) == 4


def test_copy_between_two_persistent_backends(tmp_path: Path) -> None:
    source = _sqlite(tmp_path, "alex")
    source.add_messages(_turns())
    client = mongomock.MongoClient()
    assert copy_history(source, _mongo(client, "alex")) == 4
    assert [m.content for m in _mongo(client, "alex").messages] == [m.content for m in _turns()]


def test_copy_uses_a_single_add_messages_call() -> None:
    class CountingHistory(InMemoryChatMessageHistory):
        calls: int = 0

        def add_messages(self, messages) -> None:
            self.calls += 1
            super().add_messages(messages)

    source = InMemoryChatMessageHistory()
    source.add_messages(_turns())
    target = CountingHistory()
    copy_history(source, target)
    assert target.calls == 1


def test_copy_refuses_a_non_empty_target_unless_replacing() -> None:
    source = InMemoryChatMessageHistory()
    source.add_messages(_turns())
    target = InMemoryChatMessageHistory()
    target.add_messages([HumanMessage("someone else's conversation")])
    with pytest.raises(ValueError, match="replace=True"):
        copy_history(source, target)
    assert [m.content for m in target.messages] == ["someone else's conversation"]
    assert copy_history(source, target, replace=True) == 4
    assert [m.content for m in target.messages] == [m.content for m in _turns()]


def test_copying_an_empty_history_copies_nothing() -> None:
    target = InMemoryChatMessageHistory()
    assert copy_history(InMemoryChatMessageHistory(), target) == 0
    assert target.messages == []
