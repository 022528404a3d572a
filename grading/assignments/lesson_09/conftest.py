"""Fixtures of lesson 9's graded tests: the harness's scenes in the student's process, and
the prompts the legacy window chain would send, computed by the grader."""

import pytest

SYSTEM = "You are a friendly assistant."  # the system message of the lesson's PROMPT


@pytest.fixture
def window_scene(harness_scene):
    """`window_scene(k, custom_prompt=False)`: the student's windowed chat on the fake model."""
    return lambda k, **options: harness_scene(
        "WindowScene", k, inject={"llm": "model"}, label="chat", **options
    )


@pytest.fixture
def migrate_scene(harness_scene):
    return harness_scene("MigrateScene", label="legacy")


@pytest.fixture
def legacy_prompt():
    """`legacy_prompt(turns, text, k, system=SYSTEM)`: what `ConversationChain` with
    `ConversationBufferWindowMemory(k)` sends, as (role, content) pairs: the system
    message, the last `k` of `turns` ((question, reply) pairs, oldest first), the input."""

    def expected(turns, text, k, system=SYSTEM):
        window = turns[-k:] if k > 0 else []
        history = [pair for q, a in window for pair in (("user", q), ("assistant", a))]
        return [("system", system), *history, ("user", text)]

    return expected
