"""The check cell under a lesson's exercises works in a Jupyter kernel, as a student runs it.

The cell is taken from the notebook itself and run through the course's kernel (offline,
in the notebooks' folder, as JupyterLab and nbval run it): on the untouched stub it shows
zero points and the hidden tests still to come; pointed at a solved file, full marks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from memory_course.offline.offline_guard import kernel_environment
from memory_course.tooling.notebook_runner import KERNEL_NAME

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "03_multi_session_architecture.ipynb"


def _check_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = [c for c in notebook.cells if "check_exercise(" in c.source]
    assert len(cells) == 1, "one check cell per lesson"
    assert "nbval-skip" in cells[0].metadata.get("tags", [])
    return cells[0]


def _run_in_kernel(*sources: str) -> list[dict]:
    """Execute `sources` as cells of one notebook in the course's kernel; their outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute(env=kernel_environment())
    return [cell.outputs for cell in notebook.cells]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    solved = tmp_path_factory.mktemp("solved")
    shutil.copyfile(REPO / "solutions" / "lesson_03.py", solved / "lesson_03.py")
    cell = _check_cell(nbformat.read(NOTEBOOK, as_version=4))
    solved_cell = cell.source.replace(
        'check_exercise("lesson_03")', f'check_exercise("lesson_03", {str(solved)!r})'
    )
    assert solved_cell != cell.source
    return _run_in_kernel(cell.source, solved_cell)


def _shown(cell_outputs: list[dict]) -> tuple[str, str]:
    results = [o for o in cell_outputs if o["output_type"] == "execute_result"]
    assert results, f"the cell showed no result: {cell_outputs}"
    return results[0]["data"]["text/plain"], results[0]["data"]["text/html"]


def test_on_the_stub_the_cell_shows_zero_points_and_the_hidden_tests(outputs):
    text, html = _shown(outputs[0])
    assert "exercises: public tests 0/7" in text
    assert "hidden tests worth" in text and "run only by the instructor" in text
    assert "NotImplementedError" in text
    assert "<table>" in html and "0/3" in html and "failed" in html


def test_on_a_solved_file_the_cell_shows_full_marks(outputs):
    text, html = _shown(outputs[1])
    assert "public tests 7/7" in text
    assert "FAILED" not in text
    assert "What to fix" not in html and "3/3" in html and "4/4" in html


def test_the_stored_output_is_the_stubs_result():
    cell = _check_cell(nbformat.read(NOTEBOOK, as_version=4))
    text = "".join(o["data"]["text/plain"] for o in cell.outputs if "data" in o)
    assert "exercises: public tests 0/7" in text
