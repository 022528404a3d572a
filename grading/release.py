"""Build the student copy of the course, and prove it leaks nothing.

The release holds the notebooks, the exercise stubs, the support package, the public
graded tests and the grader, plus a README, Makefile and pyproject written for it
(`make check` runs the public tests; bare `pytest` does the same). It never holds
`solutions/`, the hidden tests, the course's own test suite, or any file that imports
the solutions (such a notebook is left out and listed in the summary).

The release is built from the working tree, as it is. In a git checkout it ships what
`git add -A` would commit: the files git tracks and the new ones it does not ignore
(those are listed in the summary as `not_committed`), never a file `.gitignore` names
(a notebook's scratch database, say; listed as `ignored`). Elsewhere (an unpacked
archive) it ships every file of the copied folders. Either way, two checks stand
between a solution and the students, whatever the folders hold:

* every stub an assignment generates from its marked solution (`memory_course/tooling/stubgen.py`)
  must be byte for byte the generated one, or the build stops before writing anything
  (`make stub` regenerates; a student's own work does not belong in `exercises/`);
* `find_leaks` greps the built release for the hidden tests' names and feedback, for
  solution imports and for the distinctive lines of every reference solution (each
  file of `solutions/` and each assignment's `solutions`). A solution line counts as
  public only when the generated stub has it (the contract) or when
  `solutions/shared_lines.txt` lists it (idioms the lessons share with a solution);
  what `exercises/`, the notebooks or `memory_course/` happen to hold never does.
  `build_release` refuses to finish when it finds anything.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grading.assignment import DECLARATION, DEFAULT_ASSIGNMENT, Assignment
from memory_course.tooling.stubgen import generated_stubs

__all__ = [
    "ReleaseError",
    "build_release",
    "find_leaks",
    "hidden_fingerprints",
    "solution_fingerprints",
    "stale_stubs",
]

COPIED = ["notebooks", "exercises", "memory_course", "grading"]
COPIED_FILES = ["requirements.in", "requirements.lock", "environment.yml", ".gitignore"]
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"}
_IMPORTS_SOLUTIONS = re.compile(r"(^|[\s\"'])(from|import)\s+solutions\b", re.MULTILINE)
_MIN_FINGERPRINT = 40
# Solution lines the course's public material shares on purpose (see the file).
SHARED_LINES = Path("solutions") / "shared_lines.txt"


class ReleaseError(RuntimeError):
    """The release would ship a solution, a hidden test, or a stub that is not generated."""


STUDENT_README = """# Conversation memory with LangChain: student copy

Twelve notebooks teach conversation memory with LangChain (histories, sessions, Redis,
SQL, streaming, resilience, LangGraph persistence); the capstone asks you to build a
multi-session `ChatApplication` with Redis memory.

## Start

    make lab      # set up (first time; Python 3.11, 3.12 or 3.13) and open JupyterLab
    make check    # run the public tests of the capstone on exercises/chat_application.py
    make check ASSIGNMENT=lesson_03   # the same for lesson 3's exercises

Each lesson 1 to 11 ends with a "Your turn": write it in its file of `exercises/` (lesson
3's is `exercises/lesson_03.py`) and run
the check cell below it in the notebook (or `python -m grading check lesson_NN`), which
shows your points per exercise and the reason for each failed test.

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
#                (ASSIGNMENT=lesson_03: of a lesson's exercises; `python -m grading list`)
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
    python -m grading check lesson_03  # a lesson's exercises, exercises/lesson_03.py

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


def _assignments(repo: Path) -> list[Assignment]:
    """The assignments declared in `repo` itself (not necessarily this grader's repo)."""
    declarations = sorted((repo / "grading" / "assignments").glob(f"*/{DECLARATION}"))
    return [Assignment.from_folder(path.parent) for path in declarations]


def _notebook_strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, list):
        for item in data:
            yield from _notebook_strings(item)
    elif isinstance(data, dict):
        for value in data.values():
            yield from _notebook_strings(value)


def _searchable_text(path: Path) -> str:
    """A file's text; for a notebook also its decoded cells, where quotes are not escaped."""
    text = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        try:
            data = json.loads(text)
        except ValueError:
            return text
        # Each source line is its own JSON string: join them as the cell reads.
        return text + "\n" + "".join(_notebook_strings(data))
    return text


def _reference_files(repo: Path) -> list[Path]:
    """Every reference solution: each file of solutions/ and each assignment's `solutions`."""
    shared = repo / SHARED_LINES
    found = {
        path
        for path in (repo / "solutions").rglob("*")
        if path.is_file() and path != shared and not _ignored(path.relative_to(repo))
    }
    for assignment in _assignments(repo):
        found |= {repo / name for name in assignment.solutions if (repo / name).is_file()}
    return sorted(found)


def _shared_lines(repo: Path) -> set[str]:
    path = repo / SHARED_LINES
    if not path.is_file():
        return set()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def _solution_lines(repo: Path) -> dict[str, str]:
    """Distinctive solution lines, each with the repo-relative file it comes from."""
    contract = "\n".join(generated.text for generated in generated_stubs(repo))
    shared = _shared_lines(repo)
    found: dict[str, str] = {}
    for path in _reference_files(repo):
        for line in _searchable_text(path).splitlines():
            text = line.strip()
            if len(text) < _MIN_FINGERPRINT or text.startswith(("import ", "from ")):
                continue  # an import names only modules anyone can see
            if text in contract or text in shared or text in found:
                continue
            found[text] = str(path.relative_to(repo))
    return found


def solution_fingerprints(repo: Path) -> list[str]:
    """Distinctive lines of the reference solutions: long, and not public by design.

    Public by design means in a generated stub (signatures, docstrings, constants) or
    listed in `solutions/shared_lines.txt`; nothing else in the course makes a line
    public, so a solution pasted into a notebook, `memory_course/` or `exercises/` is
    found. Imports are not fingerprints: they name only modules anyone can see.
    """
    return list(_solution_lines(Path(repo).resolve()))


def find_leaks(release: Path, repo: Path) -> list[str]:
    """Every trace of solutions or hidden tests in `release` (empty: nothing leaked)."""
    problems: list[str] = []
    hidden = hidden_fingerprints(repo)
    solution = _solution_lines(Path(repo).resolve())
    for path in sorted(release.rglob("*")):
        relative = path.relative_to(release)
        if "solutions" in relative.parts or "hidden" in relative.parts:
            problems.append(f"{relative}: a solutions/ or hidden/ path")
            continue
        if not path.is_file():
            continue
        text = _searchable_text(path)
        if _IMPORTS_SOLUTIONS.search(text):
            problems.append(f"{relative}: imports the solutions")
        problems += [f"{relative}: hidden test text {h!r}" for h in hidden if h in text]
        problems += [
            f"{relative}: line of {origin}: {line!r}"
            for line, origin in solution.items()
            if line in text
        ]
    return problems


def stale_stubs(repo: Path) -> list[str]:
    """Why each generated stub of `repo` would not ship as it is (empty: all current)."""
    repo = Path(repo).resolve()
    return [
        f"{generated.stub.relative_to(repo)} is not the stub generated from "
        f"{generated.solution.relative_to(repo)}; the release ships only the generated "
        "stub: run `make stub` (python -m memory_course.tooling.stubgen), and keep your own work out "
        "of the course's tree\n" + generated.diff(repo, limit=12)
        for generated in generated_stubs(repo)
        if not generated.is_current()
    ]


class _GitFiles:
    """What git knows of a checkout's files: tracked, and new but not ignored."""

    def __init__(self, repo: Path) -> None:
        self.tracked = self._list(repo, "--cached")
        self.new = self._list(repo, "--others", "--exclude-standard")

    @staticmethod
    def _list(repo: Path, *options: str) -> set[Path]:
        git = shutil.which("git") or "git"
        done = subprocess.run(
            [git, "-C", str(repo), "ls-files", "-z", *options],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise ReleaseError(f"git ls-files failed in {repo}: {done.stderr.decode().strip()}")
        return {repo / name for name in done.stdout.decode().split("\0") if name}

    @classmethod
    def of(cls, repo: Path) -> _GitFiles | None:
        """None when `repo` is not the top of a git checkout (or git is missing)."""
        if not (repo / ".git").exists() or shutil.which("git") is None:
            return None
        return cls(repo)


def _copy_tree(
    source: Path,
    target: Path,
    left_out: list[str],
    repo: Path,
    git: _GitFiles | None,
    notes: dict[str, list[str]],
) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(repo)
        if _ignored(relative) or not path.is_file():
            continue
        if relative.parts[:2] == ("grading", "assignments") and "hidden" in relative.parts[3:4]:
            continue
        if git is not None and path not in git.tracked:
            if path not in git.new:
                notes["ignored"].append(str(relative))
                continue
            notes["not_committed"].append(str(relative))
        if _imports_solutions(path):
            left_out.append(str(relative))
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def _refuse_leaks(out: Path, repo: Path) -> None:
    """Delete the half-built release and raise if it leaks: nothing leaky is left behind."""
    leaks = find_leaks(out, repo)
    if leaks:
        shutil.rmtree(out)
        raise ReleaseError(
            f"the release leaked, so {out} was deleted:\n"
            + "\n".join(leaks)
            + f"\nA solution line the course shares on purpose (an idiom, an exercise's "
            f"signature) belongs in {SHARED_LINES}; anything else must not ship."
        )


def build_release(
    repo: Path, out: Path, default_assignment: str = DEFAULT_ASSIGNMENT
) -> dict[str, Any]:
    """Write the student copy of `repo` into the new folder `out`; a summary of it.

    Raises `FileExistsError` if `out` exists; `ReleaseError` (a `RuntimeError`) before
    writing anything if a generated stub is not current, and after deleting what it
    built if anything leaked.
    """
    from grading.runner import GradingOptions, hidden_summary

    repo, out = Path(repo).resolve(), Path(out).resolve()
    stale = stale_stubs(repo)
    if stale:
        raise ReleaseError("the release would not ship the generated stubs:\n" + "\n".join(stale))
    git = _GitFiles.of(repo)
    out.mkdir(parents=True)
    left_out: list[str] = []
    notes: dict[str, list[str]] = {"not_committed": [], "ignored": []}
    for name in COPIED:
        if (repo / name).is_dir():
            _copy_tree(repo / name, out / name, left_out, repo, git, notes)
    for name in COPIED_FILES:
        if (repo / name).is_file():
            shutil.copy2(repo / name, out / name)
    note = ""
    if left_out:
        names = ", ".join(Path(name).stem for name in left_out)
        note = f"\n\nLeft out of this copy because they use the worked solutions: {names}."
    (out / "README.md").write_text(STUDENT_README.format(left_out=note))
    (out / "Makefile").write_text(STUDENT_MAKEFILE.replace("@ASSIGNMENT@", default_assignment))
    (out / "pyproject.toml").write_text(STUDENT_PYPROJECT)
    (out / "grading" / "README.md").write_text(STUDENT_GRADER_README)
    _refuse_leaks(out, repo)  # before the slow part: collecting the hidden tests
    summaries = {}
    for assignment in _assignments(repo):
        options = GradingOptions(assignment=str(assignment.folder))
        summaries[assignment.name] = hidden_summary(options)
        shipped = out / assignment.folder.relative_to(repo) / assignment.hidden_summary_file.name
        shipped.write_text(json.dumps(summaries[assignment.name], indent=2) + "\n")
    _refuse_leaks(out, repo)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return {
        "out": str(out),
        "files": len(files),
        "source": "git checkout" if git is not None else "folder (not a git checkout)",
        "left_out": left_out,
        **notes,
        "hidden_summary": summaries.get(default_assignment),
    }
