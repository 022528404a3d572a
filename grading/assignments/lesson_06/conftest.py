"""Fixtures of lesson 6's graded tests: the harness's scenes in the student's process."""

import pytest

from grading.remote import RemoteInstance


@pytest.fixture
def history_scene(submission):
    """Bounded histories of the student in a fresh folder (`HistoryScene` of the harness)."""
    return RemoteInstance(submission.default(), "HistoryScene", harness=True, label="histories")


@pytest.fixture
def listing_scene(submission):
    """A fresh folder of sessions and other files, for `list_sessions`."""
    return RemoteInstance(submission.default(), "ListingScene", harness=True, label="folder")
