"""Benchmark: how long the grader takes, for one submission and for a class of 50.

* the import floor: a fresh interpreter importing LangChain's OpenAI client, redis,
  fakeredis and pytest (what any grading run must at least pay once);
* one submission: the reference, graded by `python -m grading grade` (every test, each
  with a fresh confined student process and a fresh confined process for its fakes);
* a submission whose every call hangs: each test waits for its deadline;
* a batch of 50: copies of the reference, three partial fixtures, a sessions-only
  fixture and the exercise stub, graded by `grading.batch.grade_batch` with one
  worker per core. Both cores at work shows as every worker pid grading a share of
  the submissions;
* one lesson (lesson 3's worked solution, `grade --assignment lesson_03`) and a batch of
  50 attempts at it (the solution, its wrong attempts and the stub, in turn).

    python -m tests.bench.grading [OUT_DIR]          # default: test-artifacts/bench
    python -m tests.bench.grading --lesson [OUT_DIR]  # the lesson's figures only
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "submissions"
MIX = [
    ("reference", REPO / "solutions"),
    ("no_memory", FIXTURES / "no_memory.patch"),
    ("no_limit", FIXTURES / "no_limit.patch"),
    ("no_ttl", FIXTURES / "no_ttl.patch"),
    ("sessions_only", FIXTURES / "sessions_only"),
    ("stub", REPO / "exercises"),
]
CLASS_SIZE = 50
IMPORT_FLOOR = "import langchain_openai, redis, fakeredis, pytest"
HANG_EVERYTHING = """
import time


class SessionNotFoundError(ValueError):
    pass


class LimitedRedisChatHistory:
    def __init__(self, *args, **kwargs):
        time.sleep(3600)


class ChatApplication:
    def __init__(self, *args, **kwargs):
        time.sleep(3600)
"""


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def _class_folder(root: Path) -> None:
    from tests.submission_patches import apply_patch

    for index in range(CLASS_SIZE):
        kind, source = MIX[index % len(MIX)]
        folder = root / f"student{index:02d}-{kind}"
        folder.mkdir(parents=True)
        if source.suffix == ".patch":  # a partial submission: a patch of complete/
            (folder / "chat_application.py").write_text(apply_patch(source))
        else:
            shutil.copyfile(source / "chat_application.py", folder / "chat_application.py")


def _grade_class(folder: Path, fill: Callable[[Path], object], options) -> tuple:
    """`fill` a class folder in `folder`, grade it as a batch: the batch's summary, the
    submissions each worker pid graded, and how many of each kind got each score."""
    from grading.batch import grade_batch

    root = folder / "class"
    fill(root)
    summary = grade_batch(root, folder / "out", options, progress=False)
    per_worker = Counter(r.worker_pid for r in summary.results)
    scores = Counter((r.submission.split("-", 1)[1], r.score) for r in summary.results)
    return summary, per_worker, scores


def _scores_line(scores: Counter) -> str:
    return "Scores (kind, score: count): " + ", ".join(
        f"{kind} {score:g}: {n}" for (kind, score), n in sorted(scores.items())
    )


LESSON = "lesson_03"


def _lesson_folder(root: Path) -> Counter:
    """50 attempts at LESSON: the solution, each wrong attempt and the stub, in turn."""
    from tests.submission_patches import patched_submissions

    mix = {
        "solution": (REPO / "solutions" / f"{LESSON}.py").read_text(),
        **patched_submissions(REPO / "tests" / "fixtures" / "lessons" / LESSON),
        "stub": (REPO / "exercises" / f"{LESSON}.py").read_text(),
    }
    kinds = list(mix)
    for index in range(CLASS_SIZE):
        kind = kinds[index % len(kinds)]
        folder = root / f"student{index:02d}-{kind}"
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.py").write_text(mix[kind])
    return Counter(kinds)


def run_lesson(out_dir: Path) -> str:
    """One lesson's attempt graded once, then a batch of 50; the figures as Markdown."""
    from grading.runner import GradingOptions

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = GradingOptions(assignment=LESSON)
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        grade = [sys.executable, "-m", "grading", "grade", "--assignment", LESSON]
        single_wall = _timed([*grade, str(REPO / "solutions"), "--out", folder])
        single = json.loads((Path(folder) / "results.json").read_text())
        summary, per_worker, scores = _grade_class(Path(folder), _lesson_folder, options)
    lines = [
        f"| {LESSON} | wall s |",
        "| --- | --- |",
        f"| one attempt (worked solution, {len(single['tests'])} tests, score "
        f"{single['score']:g}) | {single_wall:.1f} |",
        f"| batch of {CLASS_SIZE} attempts ({os.cpu_count()} cores, {len(per_worker)} "
        f"workers) | {summary.wall_time:.1f} |",
        "",
        f"Per attempt in the batch: {summary.wall_time / CLASS_SIZE:.2f} s of wall time.",
        _scores_line(scores),
    ]
    report = "\n".join(lines) + "\n"
    (out_dir / "grading-lesson.md").write_text(report, encoding="utf-8")
    return report


def run(out_dir: Path) -> str:
    """Every figure of this benchmark (`make bench`): the capstone's, then a lesson's."""
    return run_capstone(out_dir) + "\n" + run_lesson(out_dir)


def run_capstone(out_dir: Path) -> str:
    """Grade once, then a class of 50; return the figures as Markdown (also saved)."""
    from grading.runner import GradingOptions

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = GradingOptions()
    floor = min(_timed([sys.executable, "-c", IMPORT_FLOOR]) for _ in range(3))
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        # One submission as an instructor grades it: the command line, a process of its own.
        grade = [sys.executable, "-m", "grading", "grade"]
        single_wall = _timed([*grade, str(REPO / "solutions"), "--out", folder])
        single = json.loads((Path(folder) / "results.json").read_text())
        hanging = Path(folder) / "hang_everything"
        hanging.mkdir()
        (hanging / "chat_application.py").write_text(HANG_EVERYTHING)
        hang_wall = _timed([*grade, str(hanging), "--out", str(Path(folder) / "hang-out")])
        hang = json.loads((Path(folder) / "hang-out" / "results.json").read_text())

    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        summary, per_worker, scores = _grade_class(Path(folder), _class_folder, options)
    lines = [
        "| what | wall s |",
        "| --- | --- |",
        f"| import floor ({IMPORT_FLOOR}) | {floor:.1f} |",
        f"| one submission (reference, {len(single['tests'])} tests, score "
        f"{single['score']:g}) | {single_wall:.1f} |",
        f"| one submission whose every call hangs ({len(hang['tests'])} tests, score "
        f"{hang['score']:g}, {options.test_timeout:g} s per test) | {hang_wall:.1f} |",
        f"| batch of {CLASS_SIZE} ({os.cpu_count()} cores, {len(per_worker)} workers) "
        f"| {summary.wall_time:.1f} |",
        "",
        f"One submission: {single_wall / floor:.1f} x the import floor.",
        f"Per submission in the batch: {summary.wall_time / CLASS_SIZE:.2f} s of wall time.",
        "Submissions graded by each worker pid: "
        + ", ".join(f"{pid}: {count}" for pid, count in sorted(per_worker.items())),
        _scores_line(scores),
    ]
    report = "\n".join(lines) + "\n"
    (out_dir / "grading.md").write_text(report, encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    lesson_only = "--lesson" in args
    args = [a for a in args if a != "--lesson"]
    out_dir = Path(args[0]) if args else REPO / "test-artifacts" / "bench"
    if not lesson_only:
        print(run_capstone(out_dir))
        print(f"Saved {out_dir / 'grading.md'}")
    print(run_lesson(out_dir))
    print(f"Saved {out_dir / 'grading-lesson.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
