"""Fixtures of the lesson tests: a loopback port where nothing listens yet, and its URL."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def port() -> int:
    """A free port on 127.0.0.1: connections are refused until a test starts a server there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def url(port: int) -> str:
    """The Redis URL of `port`."""
    return f"redis://127.0.0.1:{port}/0"
