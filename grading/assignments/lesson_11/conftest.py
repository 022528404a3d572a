"""Fixtures of lesson 11's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def trimmed_graph(harness_scene):
    """`trimmed_graph(max_tokens)`: the student's graph on the fake model."""
    return lambda max_tokens: harness_scene(
        "TrimmedGraphScene", max_tokens, inject={"llm": "model"}, label="graph"
    )


@pytest.fixture
def forget_scene(harness_scene):
    return harness_scene("ForgetScene", label="scene")


@pytest.fixture
def edit_scene(harness_scene):
    return harness_scene("EditScene", inject={"llm": "model"}, label="scene")
