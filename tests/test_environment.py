"""The pinned environment: requirements.in, requirements.lock and environment.yml agree."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==([^\s#;]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip().removeprefix("- ").strip())
        if match:
            found[_normal(match.group(1))] = match.group(3)
    return found


def lock_pins() -> dict[str, str]:
    return pins((REPO / "requirements.lock").read_text(encoding="utf-8").splitlines())


def test_every_direct_dependency_is_pinned_exactly_and_locked():
    lines = [
        line
        for line in (REPO / "requirements.in").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    direct = pins(lines)
    assert len(direct) == len(lines), "every line of requirements.in must be an exact == pin"
    locked = lock_pins()
    for name, version in direct.items():
        assert locked.get(name) == version, f"{name}=={version} is not what the lock holds"


def test_environment_yml_describes_the_lock():
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    pip_section = text.split("  - pip:", 1)[1].splitlines()
    assert pins(pip_section) == lock_pins()
    assert re.search(r"^\s+- python=3\.11$", text, re.MULTILINE)


def test_installed_environment_matches_the_lock():
    # The suite itself runs in the environment `make` built from the lock.
    mismatched = {
        name: (version, metadata.version(name))
        for name, version in lock_pins().items()
        if metadata.version(name) != version
    }
    assert not mismatched


def test_supported_python_is_stated_and_running():
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.11,<3.12"' in text
    assert sys.version_info[:2] == (3, 11)
