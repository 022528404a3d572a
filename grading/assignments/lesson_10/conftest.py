"""Fixtures of lesson 10's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def service(harness_scene):
    """The chat service with the student's history endpoint, on the fake model and Redis."""
    return harness_scene("ServiceScene", inject={"llm": "model", "redis": "redis"}, label="service")


@pytest.fixture
def trimmer(harness_scene):
    return harness_scene("TrimScene", label="trimmer")


@pytest.fixture
def pinned_chat(harness_scene):
    """`pinned_chat(max_tokens)`: a chain through `make_pinned_trimmer` to the fake model."""
    return lambda max_tokens: harness_scene(
        "PinnedChatScene", max_tokens, inject={"llm": "model"}, label="chat"
    )
