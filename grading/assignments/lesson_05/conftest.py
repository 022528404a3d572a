"""Fixtures of lesson 5's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def uuid_scene(harness_scene):
    return harness_scene("UuidScene", label="uuids")


@pytest.fixture
def other_uuid_scene(harness_scene):
    """`pair_session_uuid` in a second student process of its own."""
    return harness_scene("UuidScene", new_process=True, label="uuids")


@pytest.fixture
def copy_scene(harness_scene):
    return harness_scene("CopyScene", label="histories")
