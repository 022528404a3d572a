"""Fixtures of lesson 2's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def messages_scene(harness_scene):
    """The student's `build_messages_key_chat` on the grader's model."""
    return harness_scene("MessagesScene", inject={"llm": "model"}, label="chat")


@pytest.fixture
def check_scene(harness_scene):
    """The grader's own chats on its model, for the student's `invoke_and_check_saved`."""
    return harness_scene("CheckScene", inject={"llm": "model"}, label="scene")
