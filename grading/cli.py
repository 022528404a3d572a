"""`python -m grading ...`: the grader's command line.

check [PATH]                     public tests on your own work (default exercises/)
grade SUBMISSION --out DIR       one submission: results.json, junit.xml, feedback.md
batch SUBMISSIONS_DIR --out DIR  every submission in parallel, gradebook and statistics
release OUT                      the student copy of the course (no solutions, no hidden tests)
gradescope OUT                   an autograder zip for Gradescope
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from grading.runner import GradingOptions

__all__ = ["main"]

REPO_DIR = Path(__file__).resolve().parent.parent


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--test-timeout", type=float, default=5.0, help="seconds per test (5)")
    parser.add_argument(
        "--run-timeout", type=float, default=300.0, help="seconds per submission (300)"
    )
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory cap, MiB (1024)")
    parser.add_argument(
        "--no-namespaces",
        action="store_true",
        help="skip Linux namespaces (weaker isolation; for comparison only)",
    )


def _options(args: argparse.Namespace, run_hidden: bool) -> GradingOptions:
    return GradingOptions(
        test_timeout=args.test_timeout,
        run_timeout=args.run_timeout,
        memory_mb=args.memory_mb,
        run_hidden=run_hidden,
        namespaces=not args.no_namespaces,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="run the public tests on your own work")
    check.add_argument("path", nargs="?", default=str(REPO_DIR / "exercises"))
    _limits(check)
    one = commands.add_parser("grade", help="grade one submission (folder or zip)")
    one.add_argument("submission")
    one.add_argument("--out", required=True)
    _limits(one)
    many = commands.add_parser("batch", help="grade every submission of a folder in parallel")
    many.add_argument("submissions")
    many.add_argument("--out", required=True)
    many.add_argument("--workers", type=int, default=None, help="default: one per core")
    many.add_argument("--no-progress", action="store_true")
    _limits(many)
    release = commands.add_parser("release", help="build the student copy of the course")
    release.add_argument("out")
    gradescope = commands.add_parser("gradescope", help="build the Gradescope autograder zip")
    gradescope.add_argument("out")
    return parser


def _isolation_notes(protections: list[str]) -> list[str]:
    if any("namespace" in p for p in protections):
        return []
    return [
        "Isolation is reduced here: no Linux namespaces were available (run as root, or "
        "enable unprivileged user namespaces, for network/PID/mount isolation). Your code "
        "ran with resource limits and a Python-level network guard only."
    ]


def _check(args: argparse.Namespace) -> int:
    from grading import report
    from grading.runner import grade, hidden_summary

    options = _options(args, run_hidden=False)
    result = grade(Path(args.path), options)
    # Hidden tests present here were collected but not run; a student copy has none
    # and ships their summary instead.
    not_run = result.not_run
    summary = (
        {"tests": len(not_run), "points": sum(o.spec.points for o in not_run)}
        if not_run
        else hidden_summary(options)
    )
    print(f"Public tests of {Path(args.path).resolve()}\n")
    for row in result.by_requirement():
        if row["tests"]:
            print(
                f"  {row['title']:<42} {row['earned']:>4g}/{row['available']:<4g} "
                f"({row['passed']}/{row['tests']} tests passed)"
            )
    public = [o for o in result.outcomes if not o.spec.hidden]
    earned = sum(o.earned for o in public)
    available = sum(o.spec.points for o in public)
    print(f"\n  Public tests: {earned:g}/{available:g} points (bonus included)")
    failures = [o for o in public if o.status != "passed"]
    for outcome in failures:
        first = (outcome.message.strip().splitlines() or ["failed"])[0]
        print(f"  FAILED {outcome.spec.name}: {first[:160]}")
    for note in [*result.notes, *_isolation_notes(result.protections)]:
        print(f"\n  Note: {note}")
    if summary and summary["tests"]:
        print(
            f"\n  Not run here: {summary['tests']} hidden tests worth {summary['points']:g} "
            "points, graded only by the instructor. Your final score may differ."
        )
    elif not failures:
        print("\n  Every public test passed.")
    print(f"\n{report.summary_line(result)}")
    return 0 if not failures else 1


def _grade(args: argparse.Namespace) -> int:
    from grading import report
    from grading.batch import write_submission_outputs
    from grading.runner import grade

    out = Path(args.out)
    options = replace(_options(args, run_hidden=True), hide_paths=(str(out.resolve()),))
    result = grade(Path(args.submission), options)
    write_submission_outputs(result, out)
    print(report.summary_line(result))
    print(f"score: {result.score:g}")
    print(f"wrote {out / 'results.json'}, {out / 'junit.xml'}, {out / 'feedback.md'}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from grading.batch import grade_batch

    summary = grade_batch(
        Path(args.submissions),
        Path(args.out),
        _options(args, run_hidden=True),
        workers=args.workers,
        progress=not args.no_progress,
    )
    for result in summary.results:
        print(f"{result.submission}: {result.score:g}")
    cpu = sum(r.cpu_time for r in summary.results)
    print(
        f"{len(summary.results)} submissions in {summary.wall_time:.1f} s "
        f"(CPU {cpu:.1f} s, workers {summary.worker_pids}); "
        f"wrote {summary.out / 'gradebook.csv'} and {summary.out / 'statistics.md'}"
    )
    return 0


def _release(args: argparse.Namespace) -> int:
    from grading.release import build_release

    built = build_release(REPO_DIR, Path(args.out))
    print(json.dumps(built, indent=2))
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from grading.gradescope import build_autograder

    path = build_autograder(REPO_DIR, Path(args.out))
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is 0 unless the command failed."""
    args = _parser().parse_args(argv)
    handler = {
        "check": _check,
        "grade": _grade,
        "batch": _batch,
        "release": _release,
        "gradescope": _gradescope,
    }[args.command]
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return handler(args)
