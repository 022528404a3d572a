"""Fixtures of lesson 4's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def defaults_scene(harness_scene):
    """`defaults_scene(fields)`: a chat whose history fields are `[id, default]` pairs."""
    return lambda fields: harness_scene(
        "DefaultsScene", fields, inject={"llm": "model"}, label="chat"
    )


@pytest.fixture
def tenant_scene(harness_scene):
    """The chat `build_tenant_chat` returns, on the grader's model, and its store."""
    return harness_scene("TenantScene", inject={"llm": "model"}, label="tenants")
