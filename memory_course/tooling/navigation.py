"""Generated navigation: prev/next links in every lesson and the README's course map.

Each notebook in `notebooks/` named `NN_slug.ipynb` is a lesson. Its first cell is
markdown starting with `# Lesson N · Title`, followed by a one-line description; its
metadata may carry `{"course": {"minutes": 30}}`. This tool writes:

- a navigation cell (tagged `navigation`) second and last in every lesson;
- the table between `<!-- course-map:start -->` and `<!-- course-map:end -->` in README.md.

    python -m memory_course.tooling.navigation          # rewrite what is out of date
    python -m memory_course.tooling.navigation --check  # exit 1 if anything is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"
TAG = "navigation"
MAP_START, MAP_END = "<!-- course-map:start -->", "<!-- course-map:end -->"


@dataclass(frozen=True)
class Lesson:
    path: Path
    number: int
    title: str
    summary: str
    minutes: int | None


def _title_and_summary(notebook: nbformat.NotebookNode, path: Path) -> tuple[str, str]:
    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "markdown":
        raise ValueError(f"{path.name}: the first cell must be the markdown title")
    lines = [line.strip() for line in first.source.splitlines() if line.strip()]
    match = re.match(r"#\s+Lesson\s+\d+\s*[·:-]\s*(.+)", lines[0]) if lines else None
    if not match:
        raise ValueError(f"{path.name}: the first line must read '# Lesson N · Title'")
    summary = lines[1] if len(lines) > 1 else ""
    return match.group(1).strip(), summary


def lessons(folder: Path = NOTEBOOKS) -> list[Lesson]:
    found = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        title, summary = _title_and_summary(notebook, path)
        minutes = notebook.metadata.get("course", {}).get("minutes")
        found.append(Lesson(path, int(path.name[:2]), title, summary, minutes))
    return found


def _nav_markdown(all_lessons: list[Lesson], index: int) -> str:
    parts = []
    if index > 0:
        previous = all_lessons[index - 1]
        parts.append(f"[← Lesson {previous.number}: {previous.title}]({previous.path.name})")
    parts.append("[Course map](../README.md#course-map)")
    if index < len(all_lessons) - 1:
        following = all_lessons[index + 1]
        parts.append(f"[Lesson {following.number}: {following.title} →]({following.path.name})")
    return " · ".join(parts)


def _nav_cell(source: str, cell_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source, metadata={"tags": [TAG]})
    cell.id = cell_id
    return cell


def update_notebook(all_lessons: list[Lesson], index: int) -> bool:
    """Put the navigation cell second and last; return True if the file changed."""
    path = all_lessons[index].path
    notebook = nbformat.read(path, as_version=4)
    source = _nav_markdown(all_lessons, index)
    body = [c for c in notebook.cells if TAG not in c.metadata.get("tags", [])]
    cells = [body[0], _nav_cell(source, "nav-top"), *body[1:], _nav_cell(source, "nav-bottom")]
    if [(c.cell_type, c.source) for c in cells] == [
        (c.cell_type, c.source) for c in notebook.cells
    ]:
        return False
    notebook.cells = cells
    nbformat.write(notebook, path)
    return True


def course_map(all_lessons: list[Lesson]) -> str:
    rows = ["| # | Lesson | What you will learn | Time |", "|---|---|---|---|"]
    for lesson in all_lessons:
        link = f"[{lesson.title}](notebooks/{lesson.path.name})"
        minutes = f"{lesson.minutes} min" if lesson.minutes else ""
        rows.append(f"| {lesson.number} | {link} | {lesson.summary} | {minutes} |")
    return "\n".join(rows)


def update_readme(all_lessons: list[Lesson], readme: Path = README) -> bool:
    text = readme.read_text(encoding="utf-8")
    if MAP_START not in text or MAP_END not in text:
        raise ValueError(f"{readme.name} lacks the {MAP_START} ... {MAP_END} markers")
    head, rest = text.split(MAP_START, 1)
    _, tail = rest.split(MAP_END, 1)
    new = f"{head}{MAP_START}\n{course_map(all_lessons)}\n{MAP_END}{tail}"
    if new == text:
        return False
    readme.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write lesson navigation and the course map.")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if stale")
    args = parser.parse_args(argv)
    all_lessons = lessons()
    stale = []
    for index, lesson in enumerate(all_lessons):
        if args.check:
            notebook = nbformat.read(lesson.path, as_version=4)
            navs = [c.source for c in notebook.cells if TAG in c.metadata.get("tags", [])]
            expected = _nav_markdown(all_lessons, index)
            ok = (
                len(notebook.cells) > 2
                and navs == [expected, expected]
                and TAG in notebook.cells[1].metadata.get("tags", [])
                and TAG in notebook.cells[-1].metadata.get("tags", [])
            )
            if not ok:
                stale.append(lesson.path.name)
        elif update_notebook(all_lessons, index):
            stale.append(lesson.path.name)
    if README.exists():
        if args.check:
            text = README.read_text(encoding="utf-8")
            if course_map(all_lessons) not in text:
                stale.append(README.name)
        elif update_readme(all_lessons):
            stale.append(README.name)
    verb = "out of date" if args.check else "updated"
    for name in stale:
        print(f"{verb}: {name}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
