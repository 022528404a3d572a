"""Wall time to execute every lesson, offline, as CI does (goal: under 60 s in total).

Notebooks are executed in memory (nothing is written back), one kernel each, in order.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from memory_course.offline.offline_guard import kernel_environment
from memory_course.tooling.notebook_runner import KERNEL_NAME

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run(out_dir: Path) -> str:
    rows = ["| lesson | seconds |", "|---|---:|"]
    total = 0.0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            kernel_name=KERNEL_NAME,
            timeout=300,
            resources={"metadata": {"path": str(path.parent)}},
        )
        started = time.perf_counter()
        client.execute(env=kernel_environment())
        seconds = time.perf_counter() - started
        total += seconds
        rows.append(f"| {path.stem} | {seconds:.1f} |")
    rows.append(f"| **all {len(rows) - 2} lessons** | **{total:.1f}** |")
    verdict = "within" if total < 60 else "over"
    table = (
        "\n".join(rows)
        + f"\n\nTotal {total:.1f} s on {os.cpu_count()} cores: {verdict} the 60 s goal."
    )
    (out_dir / "notebooks.md").write_text(table + "\n", encoding="utf-8")
    return table


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    print(run(out))
