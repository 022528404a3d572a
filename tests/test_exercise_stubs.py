"""The capstone stub is what a student receives: the solution's interface, no behaviour.

Every public name of `solutions.chat_application` exists in `exercises.chat_application`
with the same signature (or value, for constants); every method of the stub only
raises `NotImplementedError`; its docstrings carry the contract; and the module
docstring settles the two questions the lesson's text leaves open.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import uuid
from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import pytest

import exercises.chat_application as stub
import solutions.chat_application as solution
from memory_course import OfflineChatModel

CLASSES = ["ChatApplication", "LimitedRedisChatHistory", "SessionInfo"]
EXCEPTIONS = ["SessionNotFoundError", "StorageUnavailableError"]
STUB_SOURCE = Path(stub.__file__).read_text(encoding="utf-8")

ARGUMENTS = {  # a plausible value for every parameter name the interface uses
    "session_id": str(uuid.uuid4()),
    "user_id": "alice",
    "owner_id": "alice",
    "with_user_id": "bob",
    "message": "Hello",
    "messages": [],
    "format": "json",
    "at_message": None,
    "key": "message_count",
}


def public_members(cls: type) -> dict[str, object]:
    """What a class itself defines for callers: public names plus the dunders we use."""
    return {
        name: value
        for name, value in vars(cls).items()
        if not name.startswith("_") or name in ("__init__", "__getitem__")
    }


def call_arguments(function) -> list[object]:
    parameters = list(inspect.signature(function).parameters.values())[1:]
    missing = [p.name for p in parameters if p.name not in ARGUMENTS]
    assert not missing, f"add sample values for {missing} to ARGUMENTS"
    return [ARGUMENTS[p.name] for p in parameters if p.default is inspect.Parameter.empty]


def test_the_stub_exports_the_solution_names():
    assert sorted(stub.__all__) == sorted(solution.__all__)
    for name in solution.__all__:
        assert hasattr(stub, name), name


def test_constants_have_the_solution_values():
    for name in solution.__all__:
        value = getattr(solution, name)
        if not isinstance(value, type):
            assert getattr(stub, name) == value, name


def test_exceptions_are_real_and_match():
    for name in EXCEPTIONS:
        mine, reference = getattr(stub, name), getattr(solution, name)
        assert mine.__bases__ == reference.__bases__, name
        assert issubclass(mine, Exception)
    assert issubclass(stub.SessionNotFoundError, ValueError)


@pytest.mark.parametrize("name", CLASSES)
def test_every_public_method_has_the_solution_signature(name):
    mine, reference = getattr(stub, name), getattr(solution, name)
    assert public_members(mine).keys() == public_members(reference).keys()
    assert [b.__name__ for b in mine.__mro__[1:]] == [b.__name__ for b in reference.__mro__[1:]]
    for member, value in public_members(reference).items():
        theirs = public_members(mine)[member]
        if isinstance(value, property):
            assert isinstance(theirs, property), f"{name}.{member} must be a property"
            continue
        assert inspect.signature(theirs) == inspect.signature(value), f"{name}.{member}"


def test_session_info_is_the_same_dataclass():
    assert dataclasses.is_dataclass(stub.SessionInfo)
    mine = [(f.name, f.type) for f in dataclasses.fields(stub.SessionInfo)]
    reference = [(f.name, f.type) for f in dataclasses.fields(solution.SessionInfo)]
    assert mine == reference
    assert (
        stub.SessionInfo.__dataclass_params__.frozen
        == solution.SessionInfo.__dataclass_params__.frozen
    )


def test_constructors_raise_not_implemented():
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    with pytest.raises(NotImplementedError):
        stub.ChatApplication(redis_client=client, llm=OfflineChatModel())
    with pytest.raises(NotImplementedError):
        stub.ChatApplication()
    with pytest.raises(NotImplementedError):
        stub.LimitedRedisChatHistory("s1", client)


@pytest.mark.parametrize("name", CLASSES)
def test_every_method_raises_not_implemented(name):
    cls = getattr(stub, name)
    if name == "SessionInfo":
        now = datetime.now(UTC)
        instance = cls("s", "alice", now, now, 0)
    else:
        instance = object.__new__(cls)  # skip __init__, which raises too
    for member, value in public_members(cls).items():
        if member == "__init__":
            continue
        if isinstance(value, property):
            with pytest.raises(NotImplementedError):
                getattr(instance, member)
            continue
        with pytest.raises(NotImplementedError):
            getattr(instance, member)(*call_arguments(value))


def test_method_bodies_are_only_a_docstring_and_raise_not_implemented():
    tree = ast.parse(STUB_SOURCE)
    checked = 0
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in CLASSES:
            continue
        for item in node.body:
            if not isinstance(item, ast.FunctionDef):
                continue
            body = item.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            assert len(body) == 1 and isinstance(body[0], ast.Raise), item.name
            raised = body[0].exc
            target = raised.func if isinstance(raised, ast.Call) else raised
            assert isinstance(target, ast.Name) and target.id == "NotImplementedError"
            checked += 1
    assert checked >= 16


def test_the_stub_does_not_import_the_solution():
    for node in ast.walk(ast.parse(STUB_SOURCE)):
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("solutions")
        if isinstance(node, ast.Import):
            assert not any(alias.name.startswith("solutions") for alias in node.names)


@pytest.mark.parametrize("name", CLASSES)
def test_docstrings_state_the_contract(name):
    mine, reference = getattr(stub, name), getattr(solution, name)
    assert inspect.getdoc(mine)
    for member, value in public_members(reference).items():
        if member == "__init__":
            continue
        theirs = public_members(mine)[member]
        function = theirs.fget if isinstance(theirs, property) else theirs
        doc = inspect.getdoc(function) or ""
        assert len(doc) > 30, f"{name}.{member} needs a docstring"
        reference_function = value.fget if isinstance(value, property) else value
        if "Raises:" in (inspect.getdoc(reference_function) or ""):
            assert "Raises:" in doc, f"{name}.{member} must list its errors"
        for error in ("SessionNotFoundError", "StorageUnavailableError", "PermissionError"):
            if error in (inspect.getdoc(reference_function) or ""):
                assert error in doc, f"{name}.{member} must mention {error}"


def test_chat_docstring_names_its_limits_and_errors():
    doc = inspect.getdoc(stub.ChatApplication.chat)
    for needed in ("MAX_MESSAGE_CHARS", "TypeError", "ValueError", "max_messages", "session_ttl"):
        assert needed in doc, needed


def test_module_docstring_settles_the_open_questions():
    doc = stub.__doc__
    assert "dict" in doc and "dataclass" in doc and "SessionInfo" in doc
    assert 'info["message_count"]' in doc
    assert "RunnableWithMessageHistory" in doc and "BaseChatMessageHistory" in doc
    assert "deprecated" in doc and "LangGraph" in doc
    assert "StorageUnavailableError" in doc
