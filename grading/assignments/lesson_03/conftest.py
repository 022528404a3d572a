"""Fixtures of lesson 3's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def limit_scene(harness_scene):
    """`limit_scene(limit)`: a `LimitedSessionManager` with ids s1, s2, ... in order."""
    return lambda limit: harness_scene("LimitScene", limit, label="manager")


@pytest.fixture
def respond_scene(harness_scene):
    return harness_scene("RespondScene", inject={"llm": "model"}, label="app")
