"""Every lesson has the course's form, clean stored outputs, current navigation and a
solution for each "Your turn" exercise. (nbval checks the outputs themselves.)"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from memory_course.tooling import navigation

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]

# What must never be left in a stored output.
UNSANITIZED = {
    "uuid": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "memory address": re.compile(r"0x[0-9a-f]{8,16}"),
    "temp path": re.compile(r"/tmp/|/var/folders/|C:\\\\Users"),
    "checkout path": re.compile(re.escape(str(REPO))),
    "timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}"),
}


def _notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _markdown(notebook) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def _output_text(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/"):
                    parts.append(value if isinstance(value, str) else "".join(value))
            parts.extend(output.get("traceback", []))
    return "\n".join(parts)


def test_twelve_ordered_lessons():
    assert [int(p.name[:2]) for p in NOTEBOOKS] == list(range(1, 13))


def test_navigation_and_course_map_are_current():
    assert navigation.main(["--check"]) == 0, "run: make nav"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lesson_has_the_course_form(path):
    notebook = _notebook(path)
    text = _markdown(notebook)
    assert re.match(r"# Lesson \d+ · ", notebook.cells[0].source)
    assert notebook.metadata.get("course", {}).get("minutes"), "metadata.course.minutes"
    for heading in ("What you will learn", "Prerequisites", "Setup", "Your turn", "Summary"):
        assert re.search(rf"^#+ .*{heading}", text, re.MULTILINE | re.IGNORECASE), heading
    assert notebook.metadata["kernelspec"]["name"] == "memory-course"
    has_diagram = "```mermaid" in text or any(
        "image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", [])
    )
    assert has_diagram, "a lesson shows at least one diagram or plot"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_code_cell_ran_in_order(path):
    cells = [c for c in _notebook(path).cells if c.cell_type == "code"]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "re-run: make notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_hold_nothing_machine_specific(path):
    text = _output_text(_notebook(path))
    found = {name: p.search(text).group(0) for name, p in UNSANITIZED.items() if p.search(text)}
    assert not found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_unexpected_warnings_or_errors_in_outputs(path):
    notebook = _notebook(path)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"a cell raised:\n{cell.source}"
            if output.get("name") == "stderr" and "Warning" in output.get("text", ""):
                assert "warning" in cell.source.lower() or "deprecat" in cell.source.lower(), (
                    f"unexpected warning in a cell that does not mean to show one:\n{cell.source}"
                )


@pytest.mark.parametrize("path", NOTEBOOKS[:11], ids=IDS[:11])
def test_your_turn_points_to_a_tested_solution(path):
    number = path.name[:2]
    assert f"solutions/lesson_{number}.py" in _markdown(_notebook(path))
    assert (REPO / "solutions" / f"lesson_{number}.py").exists()
    assert (REPO / "tests" / "lessons" / f"test_lesson_{number}_solutions.py").exists()


@pytest.mark.parametrize("path", NOTEBOOKS[:11], ids=IDS[:11])
def test_your_turn_has_a_check_cell_for_the_lessons_assignment(path):
    """The exercises are written in exercises/lesson_NN.py and checked from the notebook.

    The cell is skipped by nbval (it grades the student's file, so its output is not the
    lesson's); tests/course/test_exercise_check.py runs one through a kernel.
    """
    name = f"lesson_{path.name[:2]}"
    notebook = _notebook(path)
    assert f"](../exercises/{name}.py)" in _markdown(notebook)
    cells = [c for c in notebook.cells if c.cell_type == "code" and "check_exercise(" in c.source]
    assert [c.source.splitlines()[-1] for c in cells] == [f'check_exercise("{name}")']
    assert cells[0].metadata.get("tags") == ["nbval-skip"]
    shown = "".join(o.get("data", {}).get("text/plain", "") for o in cells[0].outputs)
    assert "exercises: public tests 0/" in shown, "store the stub's result as the output"
    assert (REPO / "grading" / "assignments" / name / "assignment.toml").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lessons_run_without_the_solutions(path):
    """Students receive the lessons without solutions/ or tests/: no cell may import them."""
    code = "\n".join(c.source for c in _notebook(path).cells if c.cell_type == "code")
    assert not re.search(r"^\s*(from|import)\s+(solutions|tests)\b", code, re.MULTILINE)
