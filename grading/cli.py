"""`python -m grading ...`: the grader's command line.

list                             the assignments this grader knows
check [PATH|NAME]                public tests on your own work (default: the stub's folder;
                                 a NAME such as lesson_03 checks that assignment's stub)
grade SUBMISSION --out DIR       one submission: results.json, junit.xml, feedback.md
batch SUBMISSIONS_DIR --out DIR  every submission in parallel, gradebook and statistics
release OUT                      the student copy of the course (no solutions, no hidden tests)
gradescope OUT.zip               an autograder zip for Gradescope

Every command but `list` takes `--assignment NAME` (default: the capstone,
chat_application) or the path of an assignment's folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from grading import defaults
from grading.assignment import DEFAULT_ASSIGNMENT, AssignmentError, load
from grading.runner import GradingOptions

__all__ = ["main"]

REPO_DIR = Path(__file__).resolve().parent.parent


def _assignment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        default=DEFAULT_ASSIGNMENT,
        help=f"assignment name or folder (default {DEFAULT_ASSIGNMENT}; see `list`)",
    )


def _limits(parser: argparse.ArgumentParser, official: bool) -> None:
    _assignment(parser)
    parser.add_argument(
        "--test-timeout",
        type=float,
        default=defaults.TEST_TIMEOUT_S,
        help=f"seconds per test ({defaults.TEST_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=defaults.RUN_TIMEOUT_S,
        help=f"seconds per submission ({defaults.RUN_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=defaults.MEMORY_MB,
        help=f"memory cap, MiB ({defaults.MEMORY_MB})",
    )
    parser.add_argument(
        "--no-namespaces",
        action="store_true",
        help="skip Linux namespaces (weak isolation; for comparison only)",
    )
    if official:
        parser.add_argument(
            "--allow-weak-isolation",
            action="store_true",
            help="grade even where student code cannot be fully confined (results are labelled)",
        )


def _options(args: argparse.Namespace, run_hidden: bool) -> GradingOptions:
    return GradingOptions(
        test_timeout=args.test_timeout,
        run_timeout=args.run_timeout,
        memory_mb=args.memory_mb,
        run_hidden=run_hidden,
        namespaces=not args.no_namespaces,
        # A student's own check always runs; official grading refuses weak isolation.
        allow_weak_isolation=getattr(args, "allow_weak_isolation", True),
        assignment=args.assignment,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the assignments")
    check = commands.add_parser("check", help="run the public tests on your own work")
    check.add_argument(
        "path",
        nargs="?",
        default=None,
        help="your folder (default: the stub's), or an assignment's name (lesson_03)",
    )
    check.add_argument("--out", default=None, help="also write DIR/feedback.md")
    check.add_argument("--json", default=None, help="also write the result as JSON to FILE")
    _limits(check, official=False)
    one = commands.add_parser("grade", help="grade one submission (folder or zip)")
    one.add_argument("submission")
    one.add_argument("--out", required=True)
    _limits(one, official=True)
    many = commands.add_parser("batch", help="grade every submission of a folder in parallel")
    many.add_argument("submissions")
    many.add_argument("--out", required=True)
    many.add_argument("--workers", type=int, default=None, help="default: one per core")
    many.add_argument("--no-progress", action="store_true")
    _limits(many, official=True)
    release = commands.add_parser("release", help="build the student copy of the course")
    release.add_argument("out")
    _assignment(release)
    gradescope = commands.add_parser("gradescope", help="build the Gradescope autograder zip")
    gradescope.add_argument("out", help="the zip to write, or an existing folder to write it in")
    _assignment(gradescope)
    return parser


def _isolation_notes(result) -> list[str]:
    if result.isolation != "weak":
        return []
    return [
        "isolation: weak on this machine (no Linux namespaces: your code ran with resource "
        "limits and a Python-level network guard only); the instructor's grader confines it fully."
    ]


def _is_assignment_name(text: str) -> bool:
    """A course assignment's name, not an existing path (one broken declaration
    elsewhere does not matter here)."""
    from grading.assignment import ASSIGNMENTS_DIR, DECLARATION

    if Path(text).exists() or not text.isidentifier():
        return False
    return (ASSIGNMENTS_DIR / text / DECLARATION).is_file()


def _check(args: argparse.Namespace) -> int:
    from grading import report
    from grading.runner import grade, hidden_summary
    from grading.score import GradingResult

    if args.path is not None and _is_assignment_name(args.path):
        # `check lesson_03`: that assignment, on the student's own stub folder.
        args.assignment, args.path = args.path, None
    options = _options(args, run_hidden=False)
    assignment = options.load_assignment()
    if args.path is None:
        stub_folder = (REPO_DIR / assignment.stub).parent if assignment.stub else Path.cwd()
        args.path = str(stub_folder)
    result = grade(Path(args.path), options)
    # Hidden tests present here were collected but not run; a student copy has none
    # and ships their summary instead. Both print the same from the public outcomes.
    not_run = result.not_run
    summary = (
        {"tests": len(not_run), "points": sum(o.spec.points for o in not_run)}
        if not_run
        else hidden_summary(options)
    )
    public = GradingResult.from_dict(
        {
            **result.to_dict(),
            "outcomes": [o.to_dict() for o in result.outcomes if not o.spec.hidden],
        }
    )
    print(f"Public tests of {Path(args.path).resolve()}\n")
    print(report.check_text(public, summary, _isolation_notes(result)))
    if args.json:
        data = report.check_data(public, summary, _isolation_notes(result))
        Path(args.json).write_text(json.dumps(data, indent=2), encoding="utf-8")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "feedback.md").write_text(report.feedback_markdown(public, summary))
        print(f"\nwrote {out / 'feedback.md'}")
    passed = public.outcomes and all(o.status == "passed" for o in public.outcomes)
    return 0 if passed else 1


def _grade(args: argparse.Namespace) -> int:
    from grading import report
    from grading.batch import write_submission_outputs
    from grading.runner import grade

    out = Path(args.out)
    result = grade(Path(args.submission), _options(args, run_hidden=True))
    if result.refusal:
        print(f"grading {args.submission}: {result.refusal}", file=sys.stderr)
        return 2
    write_submission_outputs(result, out)
    print(report.summary_line(result))
    # results.json's score (what Gradescope records) counts the bonus in.
    print(f"results.json score: {result.score:g} (bonus included)")
    print(f"wrote {out / 'results.json'}, {out / 'junit.xml'}, {out / 'feedback.md'}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from grading import report
    from grading.batch import grade_batch

    summary = grade_batch(
        Path(args.submissions),
        Path(args.out),
        _options(args, run_hidden=True),
        workers=args.workers,
        progress=not args.no_progress,
    )
    refused = [r for r in summary.results if r.refusal]
    if refused:
        print(f"batch: {refused[0].refusal}", file=sys.stderr)
        return 2
    for result in summary.results:
        print(report.summary_line(result))
    cpu = sum(r.cpu_time for r in summary.results)
    print(
        f"{len(summary.results)} submissions in {summary.wall_time:.1f} s "
        f"(CPU {cpu:.1f} s, workers {summary.worker_pids}); "
        f"wrote {summary.out / 'gradebook.csv'} and {summary.out / 'statistics.md'}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from grading.assignment import available

    for assignment in available():
        stub = f" (start from {assignment.stub})" if assignment.stub else ""
        print(f"{assignment.name:<24} {assignment.title}{stub}")
    return 0


def _release(args: argparse.Namespace) -> int:
    from grading.release import build_release

    built = build_release(REPO_DIR, Path(args.out), default_assignment=args.assignment)
    print(json.dumps(built, indent=2))
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from grading.gradescope import build_autograder

    path = build_autograder(REPO_DIR, Path(args.out), args.assignment)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is 0 unless the command failed."""
    args = _parser().parse_args(argv)
    handler = {
        "list": _list,
        "check": _check,
        "grade": _grade,
        "batch": _batch,
        "release": _release,
        "gradescope": _gradescope,
    }[args.command]
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    if getattr(args, "assignment", None) is not None:
        try:
            load(args.assignment)
        except AssignmentError as exc:
            print(f"python -m grading {args.command}: {exc}", file=sys.stderr)
            return 2
    return handler(args)
