"""Fixtures of lesson 1's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def memory_scene(harness_scene):
    """The student's `build_chat_with_memory` on the grader's model."""
    return harness_scene("MemoryScene", inject={"llm": "model"}, label="chat")


@pytest.fixture
def reset_scene(harness_scene):
    """The grader's own chat on its model, for the student's `reply_or_reset`."""
    return harness_scene("ResetScene", inject={"llm": "model"}, label="chat")
