"""The pinned environment: requirements.in, requirements.lock and environment.yml agree."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==([^\s#;]+)")
# Every patch release of 3.11, then 3.12 and 3.13 (tests/course/test_lock_resolution.py).
SUPPORTED = ((3, 11), (3, 12), (3, 13))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip().removeprefix("- ").strip())
        if match:
            found[_normal(match.group(1))] = match.group(3)
    return found


def _requirement_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def lock_pins() -> dict[str, str]:
    return pins(_requirement_lines(REPO / "requirements.lock"))


def test_every_direct_dependency_is_pinned_exactly_and_locked():
    lines = _requirement_lines(REPO / "requirements.in")
    direct = pins(lines)
    assert len(direct) == len(lines), "every line of requirements.in must be an exact == pin"
    locked = lock_pins()
    for name, version in direct.items():
        assert locked.get(name) == version, f"{name}=={version} is not what the lock holds"


def test_marker_lines_of_requirements_in_are_in_the_lock_as_they_are():
    def marked(path: Path) -> set[str]:
        return {
            line.split(" #")[0].strip()
            for line in _requirement_lines(path)
            if ";" in line.split("#")[0]
        }

    wanted = marked(REPO / "requirements.in")
    assert wanted, "requirements.in keeps the lines pip freeze cannot know (markers)"
    assert wanted <= set(_requirement_lines(REPO / "requirements.lock"))


def test_environment_yml_describes_the_lock():
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    pip_section = text.split("  - pip:", 1)[1].splitlines()
    assert pins(pip_section) == lock_pins()
    marked = [line.strip().removeprefix("- ") for line in pip_section if ";" in line]
    assert marked == [
        line for line in _requirement_lines(REPO / "requirements.lock") if ";" in line
    ]
    assert re.search(r"^\s+- python>=3\.11,<3\.14$", text, re.MULTILINE)


def test_installed_environment_matches_the_lock():
    # The suite itself runs in the environment `make` built from the lock; a marker line
    # (async-timeout before Python 3.11.3) counts only where its marker holds.
    mismatched = {}
    for line in _requirement_lines(REPO / "requirements.lock"):
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (pin,) = requirement.specifier
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pin.version:
            mismatched[requirement.name] = (pin.version, installed)
    assert not mismatched


def test_supported_python_is_stated_and_running():
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.11,<3.14"' in text
    assert sys.version_info[:2] in SUPPORTED
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "(3, 11) <= sys.version_info[:2] <= (3, 13)" in makefile


def test_setup_cell_python_line_compares_equal_on_every_supported_version(capsys):
    # Stored outputs say "Python 3.11"; nbval sanitizes stored and computed text alike.
    from memory_course.notebook_setup import show_setup
    from memory_course.tooling.notebook_runner import load_sanitizers, sanitize_text

    sanitizers = load_sanitizers()
    stored = sanitize_text("Python 3.11\nlangchain-core       1.7.2\n", sanitizers)
    for minor in (11, 12, 13):
        ran = sanitize_text(f"Python 3.{minor}\nlangchain-core       1.7.2\n", sanitizers)
        assert ran == stored
    assert sanitize_text("Python 3.14\n", sanitizers) == "Python 3.14\n"
    show_setup(silence_deprecations=False)
    first, *rest = capsys.readouterr().out.splitlines()
    assert first == f"Python {sys.version_info[0]}.{sys.version_info[1]}"
    assert not any("not one the course supports" in line for line in rest)
