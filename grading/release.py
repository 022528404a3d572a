"""Build the student copy of the course, and prove it leaks nothing.

The release holds the notebooks, the exercise stubs, the support package, the public
graded tests and the grader, plus a README, Makefile and pyproject written for it
(`make check` runs the public tests; bare `pytest` does the same). It never holds
`solutions/`, the hidden tests, the course's own test suite, or any file that imports
the solutions (such a notebook is left out and listed in the summary).

`find_leaks` greps a built release for the hidden tests' names and feedback, for the
solutions' distinctive lines and for solution imports; `build_release` refuses to
finish when it finds any.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import Any

from grading.assignment import DEFAULT_ASSIGNMENT

__all__ = ["build_release", "find_leaks", "hidden_fingerprints", "solution_fingerprints"]

COPIED = ["notebooks", "exercises", "memory_course", "grading"]
COPIED_FILES = ["requirements.in", "requirements.lock", "environment.yml", ".gitignore"]
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"}
_IMPORTS_SOLUTIONS = re.compile(r"(^|[\s\"'])(from|import)\s+solutions\b", re.MULTILINE)
_MIN_FINGERPRINT = 40

STUDENT_README = """# Conversation memory with LangChain: student copy

Twelve notebooks teach conversation memory with LangChain (histories, sessions, Redis,
SQL, streaming, resilience, LangGraph persistence); the capstone asks you to build a
multi-session `ChatApplication` with Redis memory.

## Start

    make lab      # set up (first time; Python 3.11, 3.12 or 3.13) and open JupyterLab
    make check    # run the public tests of the capstone on exercises/chat_application.py

The capstone lives in `exercises/chat_application.py`: replace every
`NotImplementedError`. Its docstrings are the contract. `make check` (the same as
`python -m grading check`) prints your points per requirement. It runs only the
public tests: the instructor's grader also runs hidden tests (how many, and their
points, are printed), so your final score may differ. `make test` runs the same public
tests with pytest's own output, if you prefer it.

Your code runs in a separate, confined process: it may use only the Redis client and
the chat model it is given (network access is refused).

## What is not here

Worked solutions and the course's own test suite stay with your instructor; where a
notebook mentions `solutions/` or `tests/`, your instructor publishes them when the
assignment is over.{left_out}
"""

STUDENT_MAKEFILE = """# The student copy's commands:
#   make lab     set everything up (first time) and start JupyterLab on the notebooks
#   make check   run the public tests of the capstone on exercises/
# Python 3.11 (any patch release), 3.12 or 3.13: the first of python3, python3.13,
# python3.12, python3.11 on PATH that is one of them, or PYTHON=/path/to/python.

PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	"$$p" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' \
	>/dev/null 2>&1 && command -v "$$p" && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_PORT ?= 8888
ASSIGNMENT ?= @ASSIGNMENT@

.PHONY: lab check test clean

$(STAMP): requirements.lock
\t@test -n "$(PYTHON)" || { echo "Python 3.11, 3.12 or 3.13 is required: install one, or run make PYTHON=/path/to/python3.12" >&2; exit 1; }
\t@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
\t$(BIN)/python -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "memory-course.pth").write_text(str(pathlib.Path.cwd()) + "\\n")'
\t$(BIN)/python -m ipykernel install --sys-prefix --name memory-course --display-name "Python 3 (memory-course)" >/dev/null
\t@touch $(STAMP)

## Start JupyterLab (prints a URL with a token, opens no browser).
lab: $(STAMP)
\t$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks

## Public tests of the capstone, with points per requirement.
check: $(STAMP)
\t$(BIN)/python -m grading check exercises

## The same public tests, through pytest.
test: $(STAMP)
\t$(BIN)/python -m pytest

clean:
\trm -rf $(VENV) .pytest_cache
"""

STUDENT_PYPROJECT = """[project]
name = "memory-course"
version = "1.0.0"
description = "A hands-on course on LangChain conversation memory (student copy)."
readme = "README.md"
requires-python = ">=3.11,<3.14"
dependencies = []

[tool.pytest.ini_options]
# The public tests of the capstone, run on exercises/ (see grading/README.md).
testpaths = ["grading/assignments/chat_application/public"]
pythonpath = ["."]
addopts = "-p no:cacheprovider"

[tool.ruff]
line-length = 100
target-version = "py311"
"""

STUDENT_GRADER_README = """# The grader (student copy)

    python -m grading check [PATH]     # default PATH: exercises/

runs the capstone's public tests, `grading/assignments/chat_application/public/`, on
your `chat_application.py` and prints your points per requirement
(`python -m grading list` shows every assignment; `--assignment NAME` picks one).
Hidden tests exist and are run only by the instructor's grader:
`grading/assignments/chat_application/hidden_summary.json` says how many and how many
points they are worth, per requirement (not what they check).

Each public test is an ordinary pytest test; `pytest
grading/assignments/chat_application/public` runs them too, and adding `-k memory`
runs some. Your code runs in its own
process; the test talks to it and inspects what it stored in a fake Redis and what it
sent to a fake chat model. Print debugging works: failed tests show what your code
printed.
"""


def _ignored(path: Path) -> bool:
    return any(part in _SKIPPED_PARTS for part in path.parts)


def _imports_solutions(path: Path) -> bool:
    if path.suffix not in {".py", ".ipynb", ".md", ".txt", ".cfg", ".toml"}:
        return False
    try:
        return bool(_IMPORTS_SOLUTIONS.search(path.read_text(errors="replace")))
    except OSError:
        return False


def hidden_fingerprints(repo: Path) -> list[str]:
    """Texts that only hidden tests contain: their test names and feedback messages."""
    found: list[str] = []
    for path in sorted((repo / "grading" / "assignments").glob("*/hidden/*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.append(node.name)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "feedback":
                found += [
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
        if path.stem.startswith("test_"):
            found.append(path.stem)
    return found


def solution_fingerprints(repo: Path) -> list[str]:
    """Distinctive lines of the solutions: long, and absent from what students get anyway.

    A line also present in the stubs, the support package, the notebooks or the public
    tests is public by design (signatures, docstrings, shared helpers, prompts), so it
    is not a fingerprint; nor is an import, which names only modules anyone can see.
    """
    folders = ("exercises", "memory_course", "notebooks")
    public_files = [path for folder in folders for path in sorted((repo / folder).rglob("*"))]
    public_files += sorted((repo / "grading" / "assignments").glob("*/public/*"))
    public = "\n".join(
        path.read_text(errors="replace")
        for path in public_files
        if path.is_file() and not _ignored(path) and path.suffix in {".py", ".ipynb"}
    )
    prints: list[str] = []
    for path in sorted((repo / "solutions").glob("*.py")):
        for line in path.read_text().splitlines():
            text = line.strip()
            if text.startswith(("import ", "from ")):
                continue
            if len(text) >= _MIN_FINGERPRINT and text not in public and text not in prints:
                prints.append(text)
    return prints


def find_leaks(release: Path, repo: Path) -> list[str]:
    """Every trace of solutions or hidden tests in `release` (empty: nothing leaked)."""
    problems: list[str] = []
    hidden = hidden_fingerprints(repo)
    solution = solution_fingerprints(repo)
    for path in sorted(release.rglob("*")):
        relative = path.relative_to(release)
        if "solutions" in relative.parts or "hidden" in relative.parts:
            problems.append(f"{relative}: a solutions/ or hidden/ path")
            continue
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if _IMPORTS_SOLUTIONS.search(text):
            problems.append(f"{relative}: imports the solutions")
        problems += [f"{relative}: hidden test text {h!r}" for h in hidden if h in text]
        problems += [f"{relative}: solution line {s[:60]!r}" for s in solution if s in text]
    return problems


def _copy_tree(source: Path, target: Path, left_out: list[str], repo: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(repo)
        if _ignored(relative) or not path.is_file():
            continue
        if relative.parts[:2] == ("grading", "assignments") and "hidden" in relative.parts[3:4]:
            continue
        if _imports_solutions(path):
            left_out.append(str(relative))
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def build_release(
    repo: Path, out: Path, default_assignment: str = DEFAULT_ASSIGNMENT
) -> dict[str, Any]:
    """Write the student copy of `repo` into the new folder `out`; a summary of it.

    Raises `FileExistsError` if `out` exists, `RuntimeError` if anything leaked.
    """
    from grading.assignment import available
    from grading.runner import GradingOptions, hidden_summary

    repo, out = Path(repo).resolve(), Path(out).resolve()
    out.mkdir(parents=True)
    left_out: list[str] = []
    for name in COPIED:
        if (repo / name).is_dir():
            _copy_tree(repo / name, out / name, left_out, repo)
    for name in COPIED_FILES:
        if (repo / name).is_file():
            shutil.copy2(repo / name, out / name)
    summaries = {}
    for assignment in available():
        summaries[assignment.name] = hidden_summary(GradingOptions(assignment=assignment.name))
        shipped = out / assignment.folder.relative_to(repo) / assignment.hidden_summary_file.name
        shipped.write_text(json.dumps(summaries[assignment.name], indent=2) + "\n")
    summary = summaries.get(default_assignment)
    note = ""
    if left_out:
        names = ", ".join(Path(name).stem for name in left_out)
        note = f"\n\nLeft out of this copy because they use the worked solutions: {names}."
    (out / "README.md").write_text(STUDENT_README.format(left_out=note))
    (out / "Makefile").write_text(STUDENT_MAKEFILE.replace("@ASSIGNMENT@", default_assignment))
    (out / "pyproject.toml").write_text(STUDENT_PYPROJECT)
    (out / "grading" / "README.md").write_text(STUDENT_GRADER_README)
    leaks = find_leaks(out, repo)
    if leaks:
        raise RuntimeError("the release leaks:\n" + "\n".join(leaks))
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return {"out": str(out), "files": len(files), "left_out": left_out, "hidden_summary": summary}
