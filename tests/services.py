"""Reaching the real Redis and PostgreSQL from tests.

Tests always run against fakeredis/SQLite; these helpers add the real servers when they
are reachable. Under CI (`CI=true`) an unreachable server fails the test with a message
saying what to start; elsewhere the test is skipped, naming the variable to set.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def require_service(variable: str, default_url: str, default_port: int, what: str) -> str:
    """The service URL, or fail (CI) / skip (elsewhere) when it cannot be reached."""
    url = os.environ.get(variable) or default_url
    if _reachable(url, default_port):
        return url
    message = (
        f"{what} is not reachable at {url}. Start it, or set {variable} to a reachable server."
    )
    if in_ci():
        pytest.fail(f"CI requires the real {what}: {message}", pytrace=False)
    pytest.skip(message)


def real_redis_url() -> str:
    return require_service("REDIS_URL", DEFAULT_REDIS_URL, 6379, "Redis")


def real_database_url() -> str:
    return require_service("DATABASE_URL", DEFAULT_DATABASE_URL, 5432, "PostgreSQL")
