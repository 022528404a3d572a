"""Build the Gradescope autograder zip.

Gradescope unzips it into /autograder/source, runs `setup.sh` once when building the
image, then `run_autograder` for each submission (as root, in a fresh container):
it grades /autograder/submission into /autograder/results/results.json with the same
grader, public and hidden tests. `AUTOGRADER_ROOT` and `AUTOGRADER_PYTHON` override
the paths, so the zip can be tried outside Gradescope.

`setup.sh` uses the image's own Python and adds no package archive: `python3` when it
is 3.11, 3.12 or 3.13 (Ubuntu 24.04: 3.12), else the image's `python3.11` package
(Ubuntu 22.04, whose `python3` is 3.10: 3.11.0). It installs the grader's slim lock,
`grading/requirements-grading.lock` (shipped as `requirements.lock`), wheels only,
with pip pinned.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from grading.assignment import DEFAULT_ASSIGNMENT, load

__all__ = ["GRADING_LOCK", "PIP_VERSION", "RUN_AUTOGRADER", "SETUP_SH", "build_autograder"]

# The pip the course's Makefile installs (PIP_VERSION there).
PIP_VERSION = "26.3"
# The autograder's packages: the course's versions, without JupyterLab or Playwright.
GRADING_LOCK = "grading/requirements-grading.lock"

SETUP_SH = (
    """#!/usr/bin/env bash
# Gradescope image set-up: the image's own Python 3.11, 3.12 or 3.13 in a venv, with the
# autograder's pinned packages (requirements.lock: no JupyterLab, no browser).
# AUTOGRADER_ROOT and AUTOGRADER_SETUP_PYTHON (an interpreter) allow a trial elsewhere.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT="${AUTOGRADER_ROOT:-/autograder}"
supported() {
    "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null
}
pick_python() {
    for candidate in ${AUTOGRADER_SETUP_PYTHON:-python3 python3.13 python3.12 python3.11}; do
        if command -v "$candidate" >/dev/null && supported "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}
# Ubuntu 22.04's python3 is 3.10; its own archive has python3.11 (no extra archive needed).
if ! PYTHON="$(pick_python)"; then
    apt-get update -qq
    apt-get install -y -qq python3.11 >/dev/null
    PYTHON="$(pick_python)"
fi
echo "Autograder Python: $("$PYTHON" --version) ($PYTHON)"
if ! "$PYTHON" -m venv "$ROOT/venv"; then
    # Debian and Ubuntu ship venv's pip bootstrap in a package of its own.
    rm -rf "$ROOT/venv"
    apt-get update -qq
    apt-get install -y -qq "python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv" >/dev/null
    "$PYTHON" -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check pip=="""
    + PIP_VERSION
    + """
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check \\
    --only-binary=:all: -r "$ROOT/source/requirements.lock"
"""
)

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Assignment: @ASSIGNMENT@
# Grade /autograder/submission into /autograder/results/results.json (Gradescope runs this).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
# The submission runs under its own uid: it must not read the hidden tests.
chmod 700 "$ROOT/source/grading/assignments/@ASSIGNMENT@/hidden" 2>/dev/null || true
cd "$ROOT/source"
# Gradescope gives each submission a container of its own; where that container
# refuses namespaces (seccomp), grading goes on and every result says isolation: weak.
"$PYTHON" -m grading grade "$ROOT/submission" --out "$ROOT/results" --allow-weak-isolation \\
    --assignment @ASSIGNMENT@
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'JSON'
{"score": 0, "execution_time": 0, "output": "The autograder failed before grading; please contact your instructor.", "tests": []}
JSON
fi
"""

INCLUDED = ["grading", "memory_course"]
# Name in the zip -> file of the repository.
INCLUDED_FILES = {"requirements.lock": GRADING_LOCK}
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
_SKIPPED_FILES = {GRADING_LOCK}  # shipped once, as requirements.lock


def _add(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build_autograder(repo: Path, out: Path, assignment: str = DEFAULT_ASSIGNMENT) -> Path:
    """Write the autograder zip of `assignment` (grader with hidden tests, support
    package, scripts) to `out`, a path ending in `.zip`, or into `out` when it is an
    existing folder (as `<assignment>-autograder.zip`). Returns the zip's path."""
    load(assignment)  # a clear error for an unknown assignment, before writing
    repo, out = Path(repo).resolve(), Path(out).resolve()
    if out.is_dir():
        target = out / f"{assignment}-autograder.zip"
    elif out.suffix == ".zip":
        target = out
    else:
        raise ValueError(f"{out}: give the zip to write (ending in .zip) or an existing folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH, executable=True)
        run_autograder = RUN_AUTOGRADER.replace("@ASSIGNMENT@", assignment)
        _add(archive, "run_autograder", run_autograder, executable=True)
        for folder in INCLUDED:
            for path in sorted((repo / folder).rglob("*")):
                relative = path.relative_to(repo)
                if (
                    path.is_file()
                    and not _SKIPPED_PARTS.intersection(relative.parts)
                    and relative.as_posix() not in _SKIPPED_FILES
                ):
                    _add(archive, relative.as_posix(), path.read_text(), os.access(path, os.X_OK))
        for name, source in INCLUDED_FILES.items():
            _add(archive, name, (repo / source).read_text())
    return target
