"""The check cell under every lesson's "Your turn": grade your exercise from the notebook.

    from memory_course.exercise_check import check_exercise
    check_exercise("lesson_03")

runs the course's grader on `exercises/lesson_03.py` with the lesson's public tests,
exactly as `python -m grading check lesson_03` does from a terminal: in a program of its
own, with your code confined the way the instructor's grader confines it. The result
shows as a table of requirements with points, then each failed test with its reason in
words, then how many hidden tests the instructor will also run. It is a fresh run each
time, so edits to the file count without restarting the kernel.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CheckFailed", "ExerciseCheck", "check_exercise"]

REPO_DIR = Path(__file__).resolve().parent.parent
CHECK_TIMEOUT_S = 600


class CheckFailed(RuntimeError):
    """The grader itself could not run (not a failed test: those are results)."""


@dataclass(frozen=True)
class ExerciseCheck:
    """One check's result: `data` is what `python -m grading check --json` wrote."""

    assignment: str
    data: dict[str, Any]

    @property
    def earned(self) -> float:
        return float(self.data["earned"])

    @property
    def available(self) -> float:
        return float(self.data["available"])

    @property
    def passed(self) -> bool:
        """Every public test passed (hidden ones may still fail)."""
        rows = self.data["requirements"]
        return bool(rows) and all(row["passed"] == row["tests"] for row in rows)

    def __str__(self) -> str:
        lines = [f"{self.assignment}: public tests"]
        lines += [f"  Note: {note}" for note in self.data["notes"]]
        for row in self.data["requirements"]:
            lines.append(
                f"  {row['title']:<44} {_points(row['earned'])}/{_points(row['available'])}"
                f"  ({row['passed']}/{row['tests']} tests passed)"
            )
            for failure in row["failures"]:
                lines.append(f"    FAILED {failure['test']}: {failure['title']}")
                lines += [f"      {line}" for line in failure["reason"].splitlines()]
        lines += ["", self.data["summary"]]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><b>Note:</b> {_html(note)}</p>" for note in self.data["notes"])
        rows = "".join(
            f"<tr><td style='text-align:left'>{_html(row['title'])}</td>"
            f"<td>{_points(row['earned'])}/{_points(row['available'])}</td>"
            f"<td>{row['passed']}/{row['tests']}</td>"
            f"<td>{'passed' if row['passed'] == row['tests'] else 'failed'}</td></tr>"
            for row in self.data["requirements"]
        )
        failures = "".join(
            f"<li><b>{_html(failure['test'])}</b>: {_html(failure['title'])}"
            f"<pre>{_html(failure['reason'])}</pre></li>"
            for row in self.data["requirements"]
            for failure in row["failures"]
        )
        return (
            f"{notes}<table><thead><tr><th style='text-align:left'>Requirement</th>"
            "<th>Points</th><th>Tests passed</th><th></th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (f"<p>What to fix:</p><ul>{failures}</ul>" if failures else "")
            + f"<p>{_html(self.data['summary'])}</p>"
        )


def _points(value: float) -> str:
    return f"{value:g}"


def _html(text: str) -> str:
    return html.escape(str(text))


def check_exercise(
    assignment: str, path: str | Path | None = None, *, timeout: float = CHECK_TIMEOUT_S
) -> ExerciseCheck:
    """Run the public tests of `assignment` (`"lesson_03"`) on `path` (default: the
    folder of its stub, `exercises/`) and return the result, shown as a table in Jupyter.

    Raises `CheckFailed` if the grader could not run at all.
    """
    with tempfile.TemporaryDirectory(prefix="exercise-check-") as scratch:
        record = Path(scratch) / "check.json"
        command = [sys.executable, "-m", "grading", "check", assignment, "--json", str(record)]
        if path is not None:
            command = [
                sys.executable, "-m", "grading", "check", str(Path(path).resolve()),
                "--assignment", assignment, "--json", str(record),
            ]  # fmt: skip
        try:
            finished = subprocess.run(
                command, cwd=REPO_DIR, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"the check of {assignment} took more than {timeout:g} s") from None
        if not record.is_file():
            detail = (finished.stderr or finished.stdout).strip().splitlines()[-5:]
            raise CheckFailed(
                f"the grader could not check {assignment} (exit status "
                f"{finished.returncode}): " + " / ".join(detail)
            )
        data = json.loads(record.read_text(encoding="utf-8"))
    return ExerciseCheck(assignment, data)
