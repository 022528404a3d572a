"""Run every benchmark and print its figures: `make bench` or `python -m tests.bench`.

    python -m tests.bench                 # all
    python -m tests.bench redis_history   # one or more by name

Each benchmark module has `run(out_dir) -> str`; tables and plots land in
test-artifacts/bench/ (not in git).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

BENCHMARKS = ("redis_history", "grading", "notebooks")
OUT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the course's benchmarks.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"tests.bench.{name}")
        started = time.perf_counter()
        print(f"\n## {name}\n", flush=True)
        print(module.run(OUT_DIR), flush=True)
        print(f"\n({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    print(f"\nTables and plots: {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
