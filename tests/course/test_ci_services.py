"""Under CI an unreachable Redis or PostgreSQL fails the run; on a laptop it skips.

Each case runs the real-server backend tests in a child pytest pointed at a loopback
port where nothing listens, which is what a stopped server looks like.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on exit: nothing listens there


def _run(test: str, variable: str, url: str, ci: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, variable: url, "CI": "true" if ci else ""}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", test],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


CASES = [
    (
        "tests/course/test_backends.py::test_redis_history_on_real_redis",
        "REDIS_URL",
        "redis://127.0.0.1:{port}/0",
    ),
    (
        "tests/course/test_backends.py::test_sql_history_on_real_postgres",
        "DATABASE_URL",
        "postgresql://postgres@127.0.0.1:{port}/test",
    ),
]


@pytest.mark.parametrize(("test", "variable", "template"), CASES, ids=["redis", "postgres"])
def test_unreachable_service_fails_under_ci(test, variable, template):
    result = _run(test, variable, template.format(port=_dead_port()), ci=True)
    assert result.returncode == 1, result.stdout
    assert "CI requires the real" in result.stdout and variable in result.stdout


@pytest.mark.parametrize(("test", "variable", "template"), CASES, ids=["redis", "postgres"])
def test_unreachable_service_skips_with_a_hint_elsewhere(test, variable, template):
    result = _run(test, variable, template.format(port=_dead_port()), ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout and f"set {variable}" in result.stdout
