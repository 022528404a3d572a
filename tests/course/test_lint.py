"""The code passes ruff's lint and format checks, as `make lint` runs them.

`make lint` also type-checks with mypy (`[tool.mypy]` in pyproject.toml); that stays out of
the suite: a run from a cold cache takes minutes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CODE = ["memory_course", "grading", "solutions", "tests"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = Path(sys.executable).with_name("ruff")
    return subprocess.run([str(ruff), *args, *CODE], cwd=REPO, capture_output=True, text=True)


def test_ruff_lint():
    result = _ruff("check", "--no-cache")
    assert result.returncode == 0, result.stdout


def test_ruff_format():
    result = _ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, result.stdout
