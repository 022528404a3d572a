"""Grade a folder of submissions in parallel and write the class's outputs.

Workers are a process pool started from a fresh forkserver and warmed up there, one
per core; each grades one submission at a time through `grading.runner.grade` (which
forks its own grading run, so a worker survives whatever a submission does). The
parent only collects results and writes files, with a tqdm progress bar. A failure
to grade one submission, even a worker dying, is recorded for that submission and
the batch goes on.

Output folder:

    gradebook.csv                 one row per student
    statistics.json, statistics.md  pass rate of each test across the class; mean and
                                  median score (base) and bonus, apart
    students/<name>/results.json  Gradescope format
    students/<name>/feedback.md   what the student reads
    students/<name>/junit.xml
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from grading import report
from grading.collect import Submission, find_submissions
from grading.runner import GradingOptions, grade
from grading.score import GradingResult

__all__ = ["BatchSummary", "grade_batch", "write_submission_outputs"]


@dataclass
class BatchSummary:
    """What a batch produced: every result, where the files are, which workers ran."""

    results: list[GradingResult]
    out: Path
    wall_time: float
    worker_pids: list[int]


def _grade_one(submission: Submission, options: GradingOptions) -> dict[str, Any]:
    return grade(submission.source, options, name=submission.name).to_dict()


def write_submission_outputs(
    result: GradingResult, folder: Path, hidden_summary: dict[str, Any] | None = None
) -> None:
    """results.json, junit.xml and feedback.md of one result into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(report.results_json(result), indent=2) + "\n")
    (folder / "junit.xml").write_text(report.junit_xml(result))
    (folder / "feedback.md").write_text(report.feedback_markdown(result, hidden_summary))


def _run_pool(
    submissions: list[Submission],
    options: GradingOptions,
    workers: int,
    record: Any,
) -> list[Submission]:
    """Grade in a pool of `workers`, calling `record` per result; those a broken pool lost."""
    context, initializer = _pool_context()
    lost: list[Submission] = []
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=initializer
    ) as pool:
        futures: dict[Future, Submission] = {
            pool.submit(_grade_one, s, options): s for s in submissions
        }
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                submission = futures.pop(future)
                try:
                    result = GradingResult.from_dict(future.result())
                except BrokenProcessPool:
                    lost.append(submission)
                    continue
                except Exception as exc:
                    result = _failed(submission, f"{type(exc).__name__}: {exc}")
                record(submission, result)
    return lost


def _pool_context() -> tuple[multiprocessing.context.BaseContext, Any]:
    """Workers start from a fresh forkserver: nothing of the calling process is copied.

    Each worker keeps one zygote for every submission it grades (`share_zygote`); its
    grading runs are new programs (`grading.runner.grade`).
    """
    from grading.runner import share_zygote

    return multiprocessing.get_context("forkserver"), share_zygote


def _failed(submission: Submission, reason: str) -> GradingResult:
    return GradingResult(submission.name, notes=[f"internal grader error: {reason}"])


def grade_batch(
    root: Path,
    out: Path,
    options: GradingOptions | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> BatchSummary:
    """Grade every submission under `root` into `out`; see the module docstring."""
    import time

    root, out = Path(root).resolve(), Path(out).resolve()
    options = options or GradingOptions(shards=1)
    submissions = find_submissions(root)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict[str, GradingResult] = {}
    bar = tqdm(total=len(submissions), desc="grading", unit="submission", disable=not progress)

    def record(submission: Submission, result: GradingResult) -> None:
        results[submission.name] = result
        write_submission_outputs(result, out / "students" / submission.name)
        bar.update(1)

    count = workers or os.cpu_count() or 1
    broken = _run_pool(submissions, options, count, record)
    # A dead worker breaks the whole pool; retry those alone so only the culprit fails.
    for submission in broken:
        if _run_pool([submission], options, 1, record):
            record(submission, _failed(submission, "the grading worker died"))
    bar.close()
    ordered = [results[s.name] for s in submissions]
    (out / "gradebook.csv").write_text(report.gradebook_csv(ordered))
    stats = report.class_statistics(ordered)
    (out / "statistics.json").write_text(json.dumps(stats, indent=2) + "\n")
    (out / "statistics.md").write_text(report.statistics_markdown(stats))
    pids = sorted({r.worker_pid for r in ordered if r.worker_pid})
    return BatchSummary(ordered, out, time.monotonic() - started, pids)
