"""What the engine knows about one assignment: read from its folder, never from code.

An assignment is a folder (the course's live in `grading/assignments/<name>/`):

    assignment.toml   the declaration (below)
    conftest.py       its fixtures: proxies of the student's objects (`grading.remote`)
    public/           graded tests students may read and run (`python -m grading check`)
    hidden/           graded tests only the instructor's grader runs
    pytest.ini        lets `pytest <folder>/public --submission DIR` run by hand
    harness.py        optional: builds what the exercise's functions take (a model, a
                      manager, a chain) in the student's process (`grading.child`)

`assignment.toml`:

    title = "Capstone: ..."
    entry_file = "chat_application.py"       # what a submission must hold
    required_names = ["ChatApplication", ...] # reported when missing after import
    described_fields = ["session_id", ...]    # attributes read from returned objects of
                                              # no known type (dataclasses, records)
    stub = "exercises/chat_application.py"   # the student's starting point (repo-relative)
    solutions = ["solutions/chat_application.py"]  # never shipped (release checks)
    notebook = "notebooks/12_capstone.ipynb"  # optional: where the requirements are taught
    harness = "harness.py"                    # optional: grader-owned scene code, run in
                                              # the student's process beside the submission

    [[requirements]]                          # in the order the notebook lists them
    key = "sessions"
    title = "Create, list and delete sessions"
    bonus = false                             # optional: extra credit beyond the total

Adding an assignment means adding such a folder; no engine file changes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ASSIGNMENTS_DIR",
    "DEFAULT_ASSIGNMENT",
    "Assignment",
    "AssignmentError",
    "Requirement",
    "available",
    "load",
]

ASSIGNMENTS_DIR = Path(__file__).resolve().parent / "assignments"
DEFAULT_ASSIGNMENT = "chat_application"
DECLARATION = "assignment.toml"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AssignmentError(ValueError):
    """An assignment that does not exist or whose declaration is invalid."""


@dataclass(frozen=True)
class Requirement:
    key: str
    title: str
    bonus: bool = False


@dataclass(frozen=True)
class Assignment:
    """One assignment's declaration plus where it lives."""

    name: str
    folder: Path
    title: str
    entry_file: str
    required_names: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    stub: str | None = None
    solutions: tuple[str, ...] = ()
    described_fields: tuple[str, ...] = ()
    notebook: str | None = None
    harness: str | None = None

    @property
    def harness_file(self) -> Path | None:
        return self.folder / self.harness if self.harness else None

    @property
    def module_name(self) -> str:
        return self.entry_file.removesuffix(".py")

    @property
    def public_dir(self) -> Path:
        return self.folder / "public"

    @property
    def hidden_dir(self) -> Path:
        return self.folder / "hidden"

    @property
    def hidden_summary_file(self) -> Path:
        """Written by `release` in place of the hidden tests: their count and points."""
        return self.folder / "hidden_summary.json"

    def requirement(self, key: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.key == key:
                return requirement
        raise AssignmentError(f"{self.name}: unknown requirement {key!r}")

    def rank(self, key: str) -> int:
        """Position of a requirement in the declared (notebook's) order."""
        return [r.key for r in self.requirements].index(key)

    @classmethod
    def from_folder(cls, folder: Path) -> Assignment:
        folder = Path(folder).resolve()
        path = folder / DECLARATION
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AssignmentError(f"{folder} is not an assignment (no {DECLARATION})") from None
        except tomllib.TOMLDecodeError as exc:
            raise AssignmentError(f"{path}: {exc}") from None
        return cls._parse(folder, data)

    @classmethod
    def _parse(cls, folder: Path, data: dict[str, Any]) -> Assignment:
        where = folder / DECLARATION
        entry = data.get("entry_file")
        if not isinstance(entry, str) or not entry.endswith(".py") or "/" in entry:
            raise AssignmentError(f"{where}: entry_file must be a file name ending in .py")
        if not _NAME.match(entry.removesuffix(".py")):
            raise AssignmentError(f"{where}: entry_file must name an importable module")
        rows = data.get("requirements")
        if not isinstance(rows, list) or not rows:
            raise AssignmentError(f"{where}: at least one [[requirements]] is needed")
        requirements = []
        for row in rows:
            if not isinstance(row, dict) or not {"key", "title"} <= row.keys():
                raise AssignmentError(f"{where}: each requirement needs a key and a title")
            requirements.append(
                Requirement(str(row["key"]), str(row["title"]), bool(row.get("bonus", False)))
            )
        keys = [r.key for r in requirements]
        if len(set(keys)) != len(keys):
            raise AssignmentError(f"{where}: requirement keys must be unique")
        names = data.get("required_names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AssignmentError(f"{where}: required_names must be a list of names")
        described = data.get("described_fields", [])
        if not isinstance(described, list) or not all(isinstance(n, str) for n in described):
            raise AssignmentError(f"{where}: described_fields must be a list of names")
        solutions = data.get("solutions", [])
        if not isinstance(solutions, list) or not all(isinstance(s, str) for s in solutions):
            raise AssignmentError(f"{where}: solutions must be a list of paths")
        harness = data.get("harness")
        if harness is not None and (
            not isinstance(harness, str)
            or not _NAME.match(harness.removesuffix(".py"))
            or not harness.endswith(".py")
            or not (folder / harness).is_file()
        ):
            raise AssignmentError(f"{where}: harness must name a .py file of the folder")
        return cls(
            name=folder.name,
            folder=folder,
            title=str(data.get("title", folder.name)),
            entry_file=entry,
            required_names=tuple(names),
            requirements=tuple(requirements),
            stub=data.get("stub"),
            solutions=tuple(solutions),
            described_fields=tuple(described),
            notebook=data.get("notebook"),
            harness=harness,
        )


def available() -> list[Assignment]:
    """The course's assignments, sorted by name."""
    return [
        Assignment.from_folder(path.parent)
        for path in sorted(ASSIGNMENTS_DIR.glob(f"*/{DECLARATION}"))
    ]


def load(name_or_folder: str | Path | None = None) -> Assignment:
    """An assignment by name (`grading/assignments/<name>`) or by folder path."""
    if name_or_folder is None:
        name_or_folder = DEFAULT_ASSIGNMENT
    text = str(name_or_folder)
    if _NAME.match(text):
        folder = ASSIGNMENTS_DIR / text
        if not (folder / DECLARATION).is_file():
            names = ", ".join(a.name for a in available()) or "none"
            raise AssignmentError(f"no assignment named {text!r} (available: {names})")
        return Assignment.from_folder(folder)
    return Assignment.from_folder(Path(text))
