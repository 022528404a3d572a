"""Fixtures of lesson 6's graded tests: the harness's scenes in the student's process."""

import pytest


@pytest.fixture
def history_scene(harness_scene):
    """Bounded histories of the student in a fresh folder (`HistoryScene` of the harness)."""
    return harness_scene("HistoryScene", label="histories")


@pytest.fixture
def listing_scene(harness_scene):
    """A fresh folder of sessions and other files, for `list_sessions`."""
    return harness_scene("ListingScene", label="folder")
