"""The engine knows no assignment: each is a folder of its own, found by name or path.

`tests/fixtures/assignments/tiny/` is a second assignment (a visit counter in Redis)
declared only in its folder; the unchanged engine grades it, hidden tests and bonus
included.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grading.assignment import Assignment, AssignmentError, available, load
from grading.runner import GradingOptions, grade
from tests.grading.test_cli import run_grading

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "fixtures" / "assignments" / "tiny"
TINY_SUBMISSIONS = REPO / "tests" / "fixtures" / "assignments" / "tiny_submissions"
# Engine modules: no string in their code (docstrings aside) names the capstone's file
# or classes. `release` writes the course's README, which does.
ENGINE = sorted(path for path in (REPO / "grading").glob("*.py") if path.name != "release.py")
CAPSTONE_WORDS = re.compile(
    r"ChatApplication|LimitedRedisChatHistory|SessionInfo|SessionNotFoundError|"
    r"chat_application"
)


def _code_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_engine_module_names_the_capstone():
    named = [
        f"{path.name}:{line}: {text!r}"
        for path in ENGINE
        for line, text in _code_strings(path)
        if CAPSTONE_WORDS.search(text)
    ]
    # The one exception: which assignment a bare command grades.
    source = (REPO / "grading" / "assignment.py").read_text().splitlines()
    line = source.index('DEFAULT_ASSIGNMENT = "chat_application"') + 1
    assert named == [f"assignment.py:{line}: 'chat_application'"]


def test_the_capstone_is_declared_in_its_folder():
    capstone = load("chat_application")
    assert capstone.entry_file == "chat_application.py"
    assert [r.key for r in capstone.requirements] == [
        "sessions",
        "memory",
        "limit",
        "ttl",
        "info",
        "errors",
        "bonus",
        "cluster",
    ]
    assert [r.key for r in capstone.requirements if r.bonus] == ["bonus", "cluster"]
    assert (REPO / capstone.stub).is_file()
    assert all((REPO / path).is_file() for path in capstone.solutions)
    assert "chat_application" in [a.name for a in available()]


def test_list_shows_the_assignments():
    done = run_grading("list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("chat_application ")
    assert "lesson_03 " in done.stdout and "(start from exercises/lesson_03.py)" in done.stdout


def test_an_unknown_assignment_is_a_clear_error():
    done = run_grading("check", "--assignment", "no_such_thing")
    assert done.returncode == 2
    assert "no assignment named 'no_such_thing' (available: chat_application, " in done.stderr
    with pytest.raises(AssignmentError, match="not an assignment"):
        load(REPO / "tests")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('entry_file = "x.txt"\n[[requirements]]\nkey = "a"\ntitle = "A"\n', "entry_file"),
        ('entry_file = "x.py"\n', "at least one"),
        (
            'entry_file = "x.py"\n[[requirements]]\nkey = "a"\ntitle = "A"\n'
            '[[requirements]]\nkey = "a"\ntitle = "B"\n',
            "unique",
        ),
        ('entry_file = "x.py"\n[[requirements]]\ntitle = "A"\n', "key and a title"),
        ("entry_file = ", "assignment.toml"),
    ],
)
def test_a_bad_declaration_says_what_is_wrong(tmp_path, text, problem):
    (tmp_path / "assignment.toml").write_text(text)
    with pytest.raises(AssignmentError, match=problem):
        Assignment.from_folder(tmp_path)


@pytest.fixture(scope="module")
def tiny_results():
    options = GradingOptions(assignment=str(TINY), test_timeout=5.0, shards=1)
    return {name: grade(TINY_SUBMISSIONS / name, options) for name in ("complete", "forgetful")}


def test_a_second_assignment_is_graded_by_the_unchanged_engine(tiny_results):
    complete = tiny_results["complete"]
    assert complete.isolation == "strong", complete.protections
    assert (complete.score, complete.max_score, complete.bonus_max) == (6, 5, 1)
    assert [(row["requirement"], row["earned"]) for row in complete.by_requirement()] == [
        ("counting", 2),
        ("storage", 3),
        ("extra", 1),
    ]
    assert not complete.notes


def test_the_second_assignment_loses_exactly_what_is_missing(tiny_results):
    forgetful = tiny_results["forgetful"]
    earned = {row["requirement"]: row["earned"] for row in forgetful.by_requirement()}
    assert earned == {"counting": 2, "storage": 0, "extra": 0}
    failed = {o.spec.name: o.message for o in forgetful.outcomes if o.status == "failed"}
    assert set(failed) == {"test_counts_survive_another_process", "test_reset_starts_again"}
    assert failed["test_counts_survive_another_process"] == (
        "Counts must live in Redis: another process saw no earlier visits."
    )
    assert "AttributeError" in failed["test_reset_starts_again"]


def test_graded_tests_run_by_hand_as_notebook_12_shows():
    """`pytest <assignment>/public/FILE --submission=DIR` from the repository root finds
    the assignment's own pytest.ini, so its tests run like any pytest tests."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "grading/assignments/chat_application/public/test_memory.py",
            "--submission=solutions",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^\.{3,} +\[100%\]$", done.stdout, re.MULTILINE), done.stdout


def test_the_guides_table_of_assignments_matches_their_tests():
    """grading/README.md's table: points, public and hidden test counts of each assignment."""
    from grading.runner import _collect_specs

    guide = (REPO / "grading" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (\w+) \| [^|]+ \| ([^|]+) \| (\d+) \((\d+) pts\) \| (\d+) \((\d+) pts\) \|",
        guide,
        re.MULTILINE,
    )
    assert sorted(row[0] for row in rows) == sorted(a.name for a in available())
    for name, points, public, public_points, hidden, hidden_points in rows:
        specs = _collect_specs(GradingOptions(assignment=name))
        base = sum(s.points for s in specs if not s.bonus)
        bonus = sum(s.points for s in specs if s.bonus)
        shown = f"{base:g}" + (f" + {bonus:g} bonus" if bonus else "")
        visible = [s for s in specs if not s.hidden]
        secret = [s for s in specs if s.hidden]
        assert [points.strip(), int(public), int(hidden)] == [shown, len(visible), len(secret)]
        assert [int(public_points), int(hidden_points)] == [
            sum(s.points for s in visible),
            sum(s.points for s in secret),
        ]
