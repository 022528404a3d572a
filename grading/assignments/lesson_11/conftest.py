"""Fixtures of lesson 11's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def trimmed_graph(submission):
    """`trimmed_graph(max_tokens)`: the student's graph on the fake model."""
    return lambda max_tokens: RemoteInstance(
        submission.default(),
        "TrimmedGraphScene",
        max_tokens,
        harness=True,
        inject={"llm": "model"},
        label="graph",
    )


@pytest.fixture
def forget_scene(submission):
    return RemoteInstance(submission.default(), "ForgetScene", harness=True, label="scene")


@pytest.fixture
def edit_scene(submission):
    return RemoteInstance(
        submission.default(), "EditScene", harness=True, inject={"llm": "model"}, label="scene"
    )
