"""Fixtures of lesson 2's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def messages_scene(submission):
    """The student's `build_messages_key_chat` on the grader's model."""
    return RemoteInstance(
        submission.default(), "MessagesScene", harness=True, inject={"llm": "model"}, label="chat"
    )


@pytest.fixture
def check_scene(submission):
    """The grader's own chats on its model, for the student's `invoke_and_check_saved`."""
    return RemoteInstance(
        submission.default(), "CheckScene", harness=True, inject={"llm": "model"}, label="scene"
    )
