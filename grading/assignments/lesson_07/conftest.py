"""Fixtures of lesson 7's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def ask_scene(harness_scene):
    """`ask_scene(**options)`: a chat for `ask_all` on the grader's model (`AskScene`)."""
    return lambda **options: harness_scene(
        "AskScene", inject={"llm": "model"}, label="chat", **options
    )


@pytest.fixture
def stream_scene(harness_scene):
    """A chain on the grader's model and an empty history, for `stream_and_save`."""
    return harness_scene("StreamScene", inject={"llm": "model"}, label="stream")
