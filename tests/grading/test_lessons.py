"""Every lesson's exercise is a graded assignment, and grades fairly.

For each lesson 1 to 11: the generated stub scores 0 of a positive total, the worked
solution full marks, and each wrong attempt of `tests/fixtures/lessons/lesson_NN/`
exactly the score that folder's `scores.toml` gives, losing points only on the
requirements it names. All attempts are graded once, in one fresh process, as an
instructor's `batch` would (one batch per lesson).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grading.assignment import available, load
from grading.score import PASSED, GradingResult
from tests.submission_patches import patched_submissions

REPO = Path(__file__).resolve().parents[2]
LESSONS = [f"lesson_{n:02d}" for n in range(1, 12)]
ATTEMPTS = REPO / "tests" / "fixtures" / "lessons"
# The first test that asks for `graded` pays for grading every attempt (a few minutes).
pytestmark = pytest.mark.timeout(1800)
BUILT = [name for name in LESSONS if (REPO / "grading" / "assignments" / name).is_dir()]


def _expected(lesson: str) -> dict[str, dict]:
    path = ATTEMPTS / lesson / "scores.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


EXPECTED = {lesson: _expected(lesson) for lesson in BUILT}

BATCH_SCRIPT = """
import json, os, sys
from pathlib import Path
from grading.batch import grade_batch
from grading.runner import GradingOptions

root, out, record = map(Path, sys.argv[1:4])
results = {}
for lesson in sorted(p.name for p in root.iterdir()):
    options = GradingOptions(
        test_timeout=10.0,
        run_timeout=120.0,
        allow_weak_isolation=os.geteuid() != 0,
        assignment=lesson,
    )
    summary = grade_batch(root / lesson, out / lesson, options, workers=2, progress=False)
    results[lesson] = [r.to_dict() for r in summary.results]
record.write_text(json.dumps(results))
"""


# Appended to each lesson's solution: the submission looks for its lesson's hidden tests
# and folder wherever they might be reachable, and wrecks its own grade if it finds any.
# The harness runs in the same process, yet nothing of the assignment's folder is there.
PEEK_AT_HIDDEN = """

import os as _os

for _path in {paths!r}:
    if _os.path.exists(_path):
        raise SystemExit(f"reached {{_path}}")
"""


def _peeking(lesson: str, solution: str) -> str:
    folder = REPO / "grading" / "assignments" / lesson
    paths = [
        str(folder / "hidden"),
        str(folder),
        f"grading/assignments/{lesson}/hidden",
        f"../grading/assignments/{lesson}",
        str(REPO / "solutions"),
    ]
    return solution + PEEK_AT_HIDDEN.format(paths=paths)


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict[str, dict[str, GradingResult]]:
    root = tmp_path_factory.mktemp("lesson-attempts")
    for lesson in BUILT:
        assignment = load(lesson)
        attempts = {
            "stub": (REPO / str(assignment.stub)).read_text(encoding="utf-8"),
            "solution": (REPO / assignment.solutions[0]).read_text(encoding="utf-8"),
            **patched_submissions(ATTEMPTS / lesson),
        }
        attempts["peeks_at_hidden"] = _peeking(lesson, attempts["solution"])
        for name, text in attempts.items():
            folder = root / lesson / name
            folder.mkdir(parents=True)
            (folder / assignment.entry_file).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("lesson-grades")
    record = out / "record.json"
    subprocess.run(
        [sys.executable, "-c", BATCH_SCRIPT, str(root), str(out), str(record)],
        cwd=REPO,
        check=True,
        timeout=1200,
        env={**os.environ},
    )
    data = json.loads(record.read_text())
    return {
        lesson: {r["submission"]: GradingResult.from_dict(r) for r in results}
        for lesson, results in data.items()
    }


def _failed_requirements(result: GradingResult) -> set[str]:
    return {o.spec.requirement for o in result.outcomes if o.status != PASSED}


def test_every_lesson_is_an_assignment() -> None:
    names = {assignment.name for assignment in available()}
    assert sorted(names) == sorted(["chat_application", *LESSONS])


@pytest.mark.parametrize("lesson", BUILT)
def test_stub_scores_zero_of_a_positive_total(graded, lesson: str) -> None:
    stub = graded[lesson]["stub"]
    assert stub.max_score > 0
    assert stub.score == 0, [o.spec.name for o in stub.outcomes if o.status == PASSED]
    assert stub.notes == [] or not any("could not be imported" in n for n in stub.notes)


@pytest.mark.parametrize("lesson", BUILT)
def test_worked_solution_scores_full_marks(graded, lesson: str) -> None:
    solution = graded[lesson]["solution"]
    failures = {o.spec.name: o.message for o in solution.outcomes if o.status != PASSED}
    assert failures == {}
    assert solution.score == solution.max_score + solution.bonus_max


@pytest.mark.parametrize("lesson", BUILT)
def test_no_folder_of_the_assignment_is_reachable_from_the_submission(graded, lesson):
    """The solution plus a look for the hidden tests, the assignment's folder and the
    solutions (beside the harness, in the same process): it finds none, so full marks."""
    result = graded[lesson]["peeks_at_hidden"]
    failures = {o.spec.name: o.message for o in result.outcomes if o.status != PASSED}
    assert failures == {}
    assert result.score == result.max_score + result.bonus_max > 0


@pytest.mark.parametrize("lesson", BUILT)
def test_each_lesson_has_two_wrong_attempts_with_expected_scores(lesson: str) -> None:
    patches = sorted(p.stem for p in (ATTEMPTS / lesson).glob("*.patch"))
    assert len(patches) >= 2, f"{lesson} needs at least two wrong attempts"
    assert sorted(EXPECTED.get(lesson, {})) == patches


@pytest.mark.parametrize(
    ("lesson", "attempt"),
    [(lesson, attempt) for lesson in BUILT for attempt in EXPECTED.get(lesson, {})],
)
def test_wrong_attempt_scores_exactly_its_expected_score(graded, lesson, attempt) -> None:
    result = graded[lesson][attempt]
    expected = EXPECTED[lesson][attempt]
    assert 0 < result.score < result.max_score, "a wrong attempt scores in between"
    assert _failed_requirements(result) == set(expected["loses"])
    assert result.score == expected["score"]
