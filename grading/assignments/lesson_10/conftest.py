"""Fixtures of lesson 10's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def service(submission):
    """The chat service with the student's history endpoint, on the fake model and Redis."""
    return RemoteInstance(
        submission.default(),
        "ServiceScene",
        harness=True,
        inject={"llm": "model", "redis": "redis"},
        label="service",
    )


@pytest.fixture
def trimmer(submission):
    return RemoteInstance(submission.default(), "TrimScene", harness=True, label="trimmer")


@pytest.fixture
def pinned_chat(submission):
    """`pinned_chat(max_tokens)`: a chain through `make_pinned_trimmer` to the fake model."""
    return lambda max_tokens: RemoteInstance(
        submission.default(),
        "PinnedChatScene",
        max_tokens,
        harness=True,
        inject={"llm": "model"},
        label="chat",
    )
