"""The Setup cell every lesson opens with: versions, backends, known warnings.

    from memory_course.notebook_setup import show_setup
    show_setup()

prints which Python and LangChain versions are running, whether they match the
course's lock, and which chat model, Redis and SQL backend the lesson will use.

The course supports Python 3.11 (every patch release), 3.12 and 3.13. Stored outputs
are compared with any of them: `tests/nbval_sanitize.cfg` reads the first line,
"Python 3.1x", as the stored one.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from memory_course.deprecations import silence_known_deprecations
from memory_course.factories import describe_backends

__all__ = ["show_setup"]

KEY_PACKAGES = ("langchain-core", "langchain-community", "langgraph", "redis", "fakeredis")
LOCK_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))


def _locked_versions() -> dict[str, str]:
    if not LOCK_FILE.exists():
        return {}
    pins = {}
    for line in LOCK_FILE.read_text(encoding="utf-8").splitlines():
        requirement = line.split(";", 1)[0]  # a marker line: `pkg==1.0 ; python_... < "3.11.3"`
        if "==" in requirement and not line.startswith("#"):
            name, version = requirement.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def show_setup(*, silence_deprecations: bool = True) -> None:
    """Print versions and active backends; hide the known deprecations unless told not to.

    A mismatch with `requirements.lock` is reported, not raised: the lesson may still
    run, but its stored outputs were produced with the locked versions.
    """
    if silence_deprecations:
        silence_known_deprecations()
    locked = _locked_versions()
    print(f"Python {'.'.join(platform.python_version_tuple()[:2])}")
    if sys.version_info[:2] not in SUPPORTED_PYTHONS:
        print(
            f"Python {platform.python_version()} is not one the course supports "
            "(3.11, 3.12, 3.13): lessons may fail or differ from their stored outputs."
        )
    mismatches = []
    for package in KEY_PACKAGES:
        installed = metadata.version(package)
        print(f"{package:<20} {installed}")
        if locked.get(package) not in (None, installed):
            mismatches.append(f"{package} {installed} (course lock: {locked[package]})")
    if mismatches:
        print("Not the course's versions: " + "; ".join(mismatches) + ". Run `make lab` to fix.")
    for role, backend in describe_backends().items():
        print(f"{role:<20} {backend}")
