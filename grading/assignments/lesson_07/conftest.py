"""Fixtures of lesson 7's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def ask_scene(submission):
    """`ask_scene(**options)`: a chat for `ask_all` on the grader's model (`AskScene`)."""
    return lambda **options: RemoteInstance(
        submission.default(),
        "AskScene",
        harness=True,
        inject={"llm": "model"},
        label="chat",
        **options,
    )


@pytest.fixture
def stream_scene(submission):
    """A chain on the grader's model and an empty history, for `stream_and_save`."""
    return RemoteInstance(
        submission.default(), "StreamScene", harness=True, inject={"llm": "model"}, label="stream"
    )
