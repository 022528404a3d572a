"""Execute course notebooks in place and store their outputs, sanitized (`make notebooks`).

Kernels start offline (see `offline_guard.kernel_environment`) in the notebooks' own
folder, exactly as the nbval run does, so stored outputs match what CI recomputes.
Outputs go through the same sanitizers as nbval (`tests/nbval_sanitize.cfg`), so no
real UUID, timestamp, address or temp path is ever committed.

    python -m memory_course.tooling.notebook_runner notebooks/01_*.ipynb
"""

from __future__ import annotations

import argparse
import configparser
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from memory_course.offline.offline_guard import kernel_environment

REPO = Path(__file__).resolve().parents[2]
SANITIZE_FILE = REPO / "tests" / "nbval_sanitize.cfg"
KERNEL_NAME = "memory-course"


def load_sanitizers(path: Path = SANITIZE_FILE) -> list[tuple[re.Pattern[str], str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def sanitize_text(text: str, sanitizers: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in sanitizers:
        text = pattern.sub(replacement, text)
    return text


def _merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) pieces: how text is split depends on timing."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def _sanitize_outputs(notebook: nbformat.NotebookNode, sanitizers) -> None:
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = sanitize_text(output["text"], sanitizers)
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    output["data"][mime] = sanitize_text(value, sanitizers)


def execute(path: Path, timeout: int = 300) -> float:
    """Run `path` top to bottom and write it back with sanitized outputs; return seconds."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3.11 (memory-course)",
        "language": "python",
    }
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    started = time.perf_counter()
    client.execute(env=kernel_environment())
    elapsed = time.perf_counter() - started
    _sanitize_outputs(notebook, load_sanitizers())
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"{path}: {execute(path):.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
