"""One lock for every supported Python: requirements.lock and the autograder's lock.

pip resolves the lock for an interpreter it does not need to have
(`--python-version X`, wheels only, dry run): every pin must exist as a wheel for it
and accept its version (Requires-Python compares the full version, so 3.11.0 and
3.11.2 are checked as themselves). pip evaluates environment markers for the
interpreter it runs on, not for the target, so the lock's completeness is checked here
from the packages' own metadata: on each supported Python, every dependency of every
locked package is itself locked (`async-timeout ; python_full_version < "3.11.3"`).

These tests need the package index. Elsewhere they skip when it is unreachable; under
CI (`CI=true`) they fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grading.gradescope import GRADING_LOCK, PIP_VERSION, SETUP_SH, build_autograder
from tests.autograder import autograder_results, run_autograder_script, unpacked_autograder
from tests.services import in_ci

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"
GRADING = REPO / GRADING_LOCK

# The interpreters students and graders have: Ubuntu 22.04's python3.11 (3.11.0),
# Debian 12's python3 (3.11.2), Ubuntu 24.04 and Colab (3.12), python.org and macOS (3.13).
TARGETS = ("3.11.0", "3.11.2", "3.12", "3.13")
# Where a marker may change the answer: each side of 3.11.3 (redis's async-timeout),
# the newest 3.11, and each supported minor version; on Linux and on macOS.
MARKER_VERSIONS = ("3.11.0", "3.11.2", "3.11.3", "3.11.9", "3.12.0", "3.13.0")
PLATFORMS = {"linux": ("Linux", "posix"), "darwin": ("Darwin", "posix")}


def _lock_lines(path: Path) -> list[Requirement]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def _environment(python: str, platform: str) -> dict[str, str]:
    system, os_name = PLATFORMS[platform]
    return {
        **default_environment(),
        "python_full_version": python,
        "python_version": ".".join(python.split(".")[:2]),
        "sys_platform": platform,
        "platform_system": system,
        "os_name": os_name,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def _pins_for(path: Path, environment: dict[str, str]) -> dict[str, str]:
    pins = {}
    for requirement in _lock_lines(path):
        if requirement.marker is None or requirement.marker.evaluate(environment):
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{requirement} is not an exact pin"
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def _pip(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def package_index() -> None:
    """Skip (fail under CI) when pip cannot reach the package index."""
    try:
        probe = _pip("index", "versions", "pip", timeout=120)
        reachable = probe.returncode == 0
        detail = probe.stderr.strip().splitlines()[-1:] if not reachable else []
    except subprocess.TimeoutExpired:
        reachable, detail = False, ["timed out"]
    if not reachable:
        message = f"the package index is unreachable through pip ({' '.join(detail)})"
        if in_ci():
            pytest.fail(f"CI resolves the lock for every supported Python: {message}")
        pytest.skip(message)


def _dry_run(folder: Path, *args: str) -> tuple[int, str, dict]:
    report = folder / "report.json"
    done = _pip(
        "install",
        "--dry-run",
        "--quiet",
        "--only-binary=:all:",
        "--ignore-installed",
        "--target",
        str(folder / "site"),
        "--report",
        str(report),
        *args,
        timeout=540,
    )
    answer = json.loads(report.read_text()) if done.returncode == 0 else {}
    return done.returncode, done.stdout + done.stderr, answer


@pytest.fixture(scope="module")
def resolutions(package_index, tmp_path_factory) -> dict[str, tuple[int, str, dict]]:
    """pip's dry-run answer for each target: (exit code, messages, report).

    One at a time: pip spends CPU on each wheel, and the machine has two cores.
    """
    return {
        target: _dry_run(
            tmp_path_factory.mktemp(f"py{target}"), "--python-version", target, "-r", str(LOCK)
        )
        for target in TARGETS
    }


@pytest.fixture(scope="module")
def metadata(resolutions, tmp_path_factory) -> dict[str, dict]:
    """Every locked package's metadata (name, version, requires_dist), as pip read it."""
    found = {}
    for _, _, report in resolutions.values():
        for item in report.get("install", []):
            found[canonicalize_name(item["metadata"]["name"])] = item["metadata"]
    # Marker lines pip skipped here (async-timeout on 3.11.3 and later, appnope off macOS).
    skipped = [
        f"{r.name}=={next(iter(r.specifier)).version}"
        for r in _lock_lines(LOCK)
        if canonicalize_name(r.name) not in found
    ]
    if skipped:
        code, messages, report = _dry_run(tmp_path_factory.mktemp("marked"), "--no-deps", *skipped)
        assert code == 0, messages
        for item in report["install"]:
            found[canonicalize_name(item["metadata"]["name"])] = item["metadata"]
    return found


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("target", TARGETS)
def test_lock_installs_from_wheels_on(target, resolutions):
    code, messages, report = resolutions[target]
    errors = "\n".join(line for line in messages.splitlines() if "ERROR" in line)
    assert code == 0, f"requirements.lock does not install on Python {target}:\n{errors}"
    resolved = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    # pip evaluated the markers for the interpreter running this test.
    running = _environment(
        ".".join(map(str, sys.version_info[:3])), "darwin" if sys.platform == "darwin" else "linux"
    )
    assert resolved == _pins_for(LOCK, running), "pip installed something the lock does not pin"
    assert all(item["download_info"]["url"].endswith(".whl") for item in report["install"])


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("lock", [LOCK, GRADING], ids=["course", "grading"])
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("python", MARKER_VERSIONS)
def test_lock_holds_every_dependency(python, platform, lock, metadata):
    environment = _environment(python, platform)
    pins = _pins_for(lock, environment)
    missing = []
    for name in pins:
        for line in metadata[name].get("requires_dist", []):
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            wanted = canonicalize_name(requirement.name)
            if wanted not in pins:
                missing.append(f"{wanted} (for {name}: {line})")
            elif not requirement.specifier.contains(pins[wanted], prereleases=True):
                missing.append(f"{wanted}=={pins[wanted]} does not satisfy {name}: {line}")
    assert not missing, (
        f"{lock.name} is incomplete on Python {python} ({platform}): {missing}; "
        'add a marker line to the .in file, e.g. `pkg==1.0 ; python_full_version < "3.11.3"`'
    )


def test_grading_lock_is_the_course_versions():
    course = {canonicalize_name(r.name): r for r in _lock_lines(LOCK)}
    grading = _lock_lines(GRADING)
    different = [str(r) for r in grading if str(course.get(canonicalize_name(r.name))) != str(r)]
    assert not different, f"not as in requirements.lock: {different}"
    names = {canonicalize_name(r.name) for r in grading}
    assert not names & {"jupyterlab", "playwright", "notebook", "ipykernel"}


def test_autograder_setup_pins_pip_uses_the_grading_lock_and_adds_no_archive():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^PIP_VERSION := {re.escape(PIP_VERSION)}$", makefile, re.MULTILINE)
    assert f"pip=={PIP_VERSION}" in SETUP_SH
    assert '--only-binary=:all: -r "$ROOT/source/requirements.lock"' in SETUP_SH
    assert not re.search(r"add-apt-repository|ppa:|sources\.list", SETUP_SH)


def _stock_python() -> str:
    """The system's python3 when it is supported and can make a venv (Debian's 3.11.2 on
    the course's CI), else the interpreter this environment was made from."""
    system = Path("/usr/bin/python3")
    check = "import ensurepip, sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))"
    if (
        system.exists()
        and subprocess.run([str(system), "-c", check], capture_output=True).returncode == 0
    ):
        return str(system)
    return getattr(sys, "_base_executable", sys.executable)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_autograder_installs_from_its_lock_and_grades_the_reference(package_index, tmp_path):
    # setup.sh as Gradescope runs it, on a stock interpreter, then one submission.
    archive = build_autograder(REPO, tmp_path / "build" / "autograder.zip")
    python = _stock_python()
    env = {**os.environ, "AUTOGRADER_SETUP_PYTHON": python}
    env.pop("AUTOGRADER_PYTHON", None)
    with unpacked_autograder(archive, REPO / "solutions" / "chat_application.py") as root:
        setup = run_autograder_script(root, "setup.sh", env, timeout=600)
        assert "Autograder Python: Python" in setup.stdout and python in setup.stdout
        installed = subprocess.run(
            [str(root / "venv" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
        )
        names = {canonicalize_name(p["name"]) for p in json.loads(installed.stdout)}
        assert "jupyterlab" not in names and "playwright" not in names
        run_autograder_script(root, "run_autograder", env, timeout=300)
        results = autograder_results(root)
    assert results["score"] == 61, results.get("output")
