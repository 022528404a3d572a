"""Fixtures of lesson 4's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def defaults_scene(submission):
    """`defaults_scene(fields)`: a chat whose history fields are `[id, default]` pairs."""
    return lambda fields: RemoteInstance(
        submission.default(),
        "DefaultsScene",
        fields,
        harness=True,
        inject={"llm": "model"},
        label="chat",
    )


@pytest.fixture
def tenant_scene(submission):
    """The chat `build_tenant_chat` returns, on the grader's model, and its store."""
    return RemoteInstance(
        submission.default(), "TenantScene", harness=True, inject={"llm": "model"}, label="tenants"
    )
