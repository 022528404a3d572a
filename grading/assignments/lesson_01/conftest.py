"""Fixtures of lesson 1's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def memory_scene(submission):
    """The student's `build_chat_with_memory` on the grader's model."""
    return RemoteInstance(
        submission.default(), "MemoryScene", harness=True, inject={"llm": "model"}, label="chat"
    )


@pytest.fixture
def reset_scene(submission):
    """The grader's own chat on its model, for the student's `reply_or_reset`."""
    return RemoteInstance(
        submission.default(), "ResetScene", harness=True, inject={"llm": "model"}, label="chat"
    )
