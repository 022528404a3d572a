"""Fixtures of lesson 5's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def uuid_scene(submission):
    return RemoteInstance(submission.default(), "UuidScene", harness=True, label="uuids")


@pytest.fixture
def other_uuid_scene(submission):
    """`pair_session_uuid` in a second student process of its own."""
    return RemoteInstance(submission.new_process(), "UuidScene", harness=True, label="uuids")


@pytest.fixture
def copy_scene(submission):
    return RemoteInstance(submission.default(), "CopyScene", harness=True, label="histories")
