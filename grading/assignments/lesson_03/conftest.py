"""Fixtures of lesson 3's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def limit_scene(submission):
    """`limit_scene(limit)`: a `LimitedSessionManager` with ids s1, s2, ... in order."""
    return lambda limit: RemoteInstance(
        submission.default(), "LimitScene", limit, harness=True, label="manager"
    )


@pytest.fixture
def respond_scene(submission):
    return RemoteInstance(
        submission.default(), "RespondScene", harness=True, inject={"llm": "model"}, label="app"
    )
