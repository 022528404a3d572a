"""Build the Gradescope autograder zip.

Gradescope unzips it into /autograder/source, runs `setup.sh` once when building the
image, then `run_autograder` for each submission (as root, in a fresh container):
it grades /autograder/submission into /autograder/results/results.json with the same
grader, public and hidden tests. `AUTOGRADER_ROOT` and `AUTOGRADER_PYTHON` override
the paths, so the zip can be tried outside Gradescope.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

__all__ = ["RUN_AUTOGRADER", "SETUP_SH", "build_autograder"]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image set-up: Python 3.11 and the course's pinned packages.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if ! apt-get install -y -qq python3.11 python3.11-venv; then
    apt-get install -y -qq software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
fi
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --disable-pip-version-check \\
    -r /autograder/source/requirements.lock
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grade /autograder/submission into /autograder/results/results.json (Gradescope runs this).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
# The submission runs under its own uid: it must not read the hidden tests.
chmod 700 "$ROOT/source/grading/tests/hidden" 2>/dev/null || true
cd "$ROOT/source"
"$PYTHON" -m grading grade "$ROOT/submission" --out "$ROOT/results"
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'JSON'
{"score": 0, "execution_time": 0, "output": "The autograder failed before grading; please contact your instructor.", "tests": []}
JSON
fi
"""

INCLUDED = ["grading", "memory_course"]
INCLUDED_FILES = ["requirements.lock"]
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def _add(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def build_autograder(repo: Path, out: Path) -> Path:
    """Write `out/autograder.zip` (grader with hidden tests, support package, scripts)."""
    repo, out = Path(repo).resolve(), Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "autograder.zip"
    with zipfile.ZipFile(target, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH, executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        for folder in INCLUDED:
            for path in sorted((repo / folder).rglob("*")):
                relative = path.relative_to(repo)
                if path.is_file() and not _SKIPPED_PARTS.intersection(relative.parts):
                    _add(archive, relative.as_posix(), path.read_text(), os.access(path, os.X_OK))
        for name in INCLUDED_FILES:
            _add(archive, name, (repo / name).read_text())
    return target
