"""The capstone stub is what a student receives: the solution's interface, no behaviour.

`exercises/chat_application.py` is generated from the marked reference,
`solutions/chat_application.py`, by `memory_course/tooling/stubgen.py` (`make stub`): the committed
stub must be exactly the generated one, so the contract (names, signatures, constants,
docstrings) lives in the reference alone. Every method of the stub only raises
`NotImplementedError`; its docstrings carry the contract; and the module docstring
settles the two questions the lesson's text leaves open.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import pytest

import exercises.chat_application as stub
from memory_course import OfflineChatModel
from memory_course.tooling.stubgen import StubError, generate, generated_stubs

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["ChatApplication", "LimitedRedisChatHistory", "SessionInfo"]
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


# ------------------------------------------------------------------ the committed stub


def test_the_committed_stub_is_the_generated_one():
    stubs = generated_stubs(REPO)
    assert REPO / "exercises" / "chat_application.py" in [g.stub for g in stubs]
    for generated in stubs:
        name = generated.stub.relative_to(REPO)
        assert generated.is_current(), (
            f"{name} is not the stub generated from "
            f"{generated.solution.relative_to(REPO)}: run `make stub` "
            "(edit the reference, never the stub)\n" + generated.diff(REPO)
        )


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_the_generated_stub_passes_ruff(command):
    # exercises/ is excluded from the project's lint (students edit it), so lint the
    # generated text itself, under the project's rules.
    for generated in generated_stubs(REPO):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", "stub.py", "-"],
            input=generated.text,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert done.returncode == 0, f"{generated.stub.name}: {done.stdout}{done.stderr}"


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


def test_the_stub_has_no_private_code_and_does_not_import_the_solution():
    tree = ast.parse(STUB_SOURCE)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("solutions")
        if isinstance(node, ast.Import):
            assert not any(alias.name.startswith("solutions") for alias in node.names)
    private = [
        getattr(node, "name", None) or ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Assign)
        and (getattr(node, "name", None) or ast.unparse(node.targets[0])).startswith("_")
        and not ast.unparse(node).startswith("__all__")
    ]
    assert private == []
    assert "SOLUTION" not in STUB_SOURCE and "PROMPT" not in STUB_SOURCE


@pytest.mark.parametrize("name", CLASSES)
def test_docstrings_state_the_contract(name):
    cls = getattr(stub, name)
    assert inspect.getdoc(cls)
    for member, value in public_members(cls).items():
        if member == "__init__":
            continue
        function = value.fget if isinstance(value, property) else value
        doc = inspect.getdoc(function) or ""
        assert len(doc) > 30, f"{name}.{member} needs a docstring"
        if name != "SessionInfo" and member != "key":  # every call that reaches Redis
            assert "Raises:" in doc, f"{name}.{member} must list its errors"
            assert "StorageUnavailableError" in doc, f"{name}.{member}: Redis may fail"
    assert "PermissionError" in inspect.getdoc(stub.ChatApplication.share_session)


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


# ------------------------------------------------------------------ the generator

MARKED = textwrap.dedent(
    '''\
    # BEGIN SOLUTION NO PROMPT
    """The reference's own notes."""
    # END SOLUTION
    # BEGIN PROMPT
    # """Exercise: count things.
    #
    # Hint: a dict.
    # """
    # END PROMPT

    from __future__ import annotations

    import json
    from collections import Counter, OrderedDict
    from typing import Any

    import redis

    __all__ = ["Tally"]

    # BEGIN SOLUTION NO PROMPT
    _SEPARATOR = ","


    def _split(text: str) -> list[str]:
        return text.split(_SEPARATOR)


    # END SOLUTION


    class Tally:
        """Counts words."""

        def __init__(self, client: Any) -> None:
            # BEGIN SOLUTION
            self.client = client
            self.counts = Counter()
            # END SOLUTION

        def add(self, text: str) -> OrderedDict:
            """Count the words of `text`."""
            # BEGIN SOLUTION
            self.counts.update(_split(text))
            self.client.set("tally", json.dumps(self.counts))
            return OrderedDict(self.counts)
            # END SOLUTION

        # BEGIN SOLUTION NO PROMPT
        def _reset(self) -> None:
            self.counts.clear()
            redis.Redis  # noqa: B018

        # END SOLUTION
    '''
)


def test_generate_replaces_bodies_drops_private_code_and_unused_imports():
    assert generate(MARKED) == textwrap.dedent(
        '''\
        """Exercise: count things.

        Hint: a dict.
        """

        from __future__ import annotations

        from collections import OrderedDict
        from typing import Any

        __all__ = ["Tally"]


        class Tally:
            """Counts words."""

            def __init__(self, client: Any) -> None:
                raise NotImplementedError

            def add(self, text: str) -> OrderedDict:
                """Count the words of `text`."""
                raise NotImplementedError
        '''
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("\n\n    # END SOLUTION\n", "\n", "'# BEGIN SOLUTION NO PROMPT' is never closed"),
        ("# END PROMPT\n", "# END PROMPT\n# END SOLUTION\n", "with nothing open"),
        ("# BEGIN PROMPT\n", "### BEGIN PROMPT\n", "is not a marker (typo?)"),
        ("Counter()\n        # END", "Counter()\n    # END", "is not indented like"),
        ('# """Exercise', '#"""Exercise', "a PROMPT line must be"),
        # A public name inside a region would vanish from the student's interface.
        ('_SEPARATOR = ","\n', '_SEPARATOR = ","\nLIMIT = 3\n', "missing ['LIMIT']"),
    ],
)
def test_generate_refuses_malformed_markers(old, new, message):
    assert MARKED.count(old) == 1
    with pytest.raises(StubError, match=re.escape(message)):
        generate(MARKED.replace(old, new), "marked.py")
