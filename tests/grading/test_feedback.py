"""What `check` tells a student: each failure in words under its requirement, a summary
line that reads the same in the course and in the student copy, an import error once;
and one scoring rule (base + bonus) in every output.

Three fixtures of tests/fixtures/feedback are the reference with one typical mistake
each, stored as patches of it (`tests.submission_patches`); `check` runs on each once
(about 8 s each).
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys

import pytest

from grading import plugin, report
from grading.release import build_release
from grading.runner import GradingOptions, _in_words, hidden_summary
from grading.score import FAILED, NOT_RUN, PASSED, GradingResult, TestOutcome, TestSpec
from tests.grading.test_cli import run_grading
from tests.grading.test_outcomes import FIXTURES, REPO
from tests.submission_patches import apply_patch

# Each `check` takes ~8 s on an idle machine; the module fixture runs three.
pytestmark = pytest.mark.timeout(900)

FEEDBACK = REPO / "tests" / "fixtures" / "feedback"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
REQUIREMENT_ROW = re.compile(r"^  (\S.*?)  +(\d+)/(\d+) +\(\d+/\d+ tests passed\)$")


@pytest.fixture(scope="module")
def hidden_not_run() -> str:
    """How the summary line counts the hidden tests, from the tests themselves."""
    hidden = hidden_summary(GradingOptions())
    assert hidden and hidden["tests"] > 1
    return f"{hidden['tests']} hidden tests worth {hidden['points']:g} points are run only by the instructor"


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    out = tmp_path_factory.mktemp("check-out")
    staged = tmp_path_factory.mktemp("feedback-submissions")
    done = {}
    for name in ("wrong_order", "wrong_exception", "no_ttl"):
        (staged / name).mkdir()
        text = apply_patch(FEEDBACK / f"{name}.patch")
        (staged / name / "chat_application.py").write_text(text, encoding="utf-8")
        done[name] = run_grading("check", str(staged / name), "--out", str(out / name))
        assert done[name].returncode == 1, done[name].stdout + done[name].stderr
    return done, out


def rows(stdout: str) -> list[tuple[str, int, int]]:
    """(title, earned, available) of each requirement's row, in the printed order."""
    found = [REQUIREMENT_ROW.match(line) for line in stdout.splitlines()]
    return [(m[1], int(m[2]), int(m[3])) for m in found if m]


def failures_under(stdout: str) -> dict[str, list[str]]:
    """The lines printed under each requirement's row, by requirement title."""
    grouped: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        row = REQUIREMENT_ROW.match(line)
        if row:
            current = row[1]
            grouped[current] = []
        elif current and line.startswith("    "):
            grouped[current].append(line.strip())
        else:
            current = None
    return grouped


def summary_of(stdout: str) -> str:
    return next(line for line in reversed(stdout.splitlines()) if ": public tests " in line)


def test_wrong_order_in_list_sessions_says_what_and_shows_both_orders(checks):
    done, _ = checks
    failed = [
        lines
        for lines in failures_under(done["wrong_order"].stdout).values()
        if lines and lines[0].startswith("FAILED test_list_sessions_most_recent_first: ")
    ]
    assert len(failed) == 1, done["wrong_order"].stdout
    title, reason, *rest = failed[0]
    assert title.endswith(": list_sessions orders sessions by last activity, newest first.")
    # The test's sentence, with the ids in full: the same two, in the opposite order.
    shown = re.fullmatch(
        r"list_sessions\('alice'\) should list the session chatted in last first: after a chat "
        rf"in the older of two sessions, expected \['({UUID})', '({UUID})'\]; "
        rf"it listed \['({UUID})', '({UUID})'\]",
        reason,
    )
    assert shown is not None, reason
    assert shown.group(1, 2) == shown.group(4, 3)
    assert rest == [], "the sentence shows both values: no second rendering of them"


def test_wrong_exception_for_an_unknown_session_names_the_expected_one(checks):
    done, _ = checks
    under = failures_under(done["wrong_exception"].stdout)["Errors"]
    assert under[:3] == [
        "FAILED test_chat_on_unknown_session_raises: chat on an unknown session raises "
        "SessionNotFoundError, a ValueError.",
        "chat on an unknown session id raised ValueError; it must raise SessionNotFoundError "
        "(a subclass of ValueError)",
        "expected 'SessionNotFoundError' to be in ('ValueError', 'Exception', 'BaseException', "
        "'object')",
    ]


def test_missing_ttl_lists_the_keys_expiry(checks):
    done, _ = checks
    under = failures_under(done["no_ttl"].stdout)["Sliding expiry (TTL)"]
    assert under[:2] == [
        "FAILED test_session_keys_expire: Every key of a session has a TTL of at most session_ttl.",
        "every key of the session should expire in 1..60 s; their TTLs are [-1, 60] "
        "(-1: no expiry)",
    ]


def test_check_output_has_no_pytest_introspection_or_truncation(checks, hidden_not_run):
    done, _ = checks
    titles = [title for title, _, _ in rows(done["no_ttl"].stdout)]
    assert titles[:4] == [
        "Create, list and delete sessions",
        "Memory injected into the model's prompt",
        "Message limit",
        "Sliding expiry (TTL)",
    ], "rows in the order of the requirement table"
    for name, run in done.items():
        for forbidden in ("Use -v", "assert [", "assert ", "...", "AssertionError"):
            assert forbidden not in run.stdout, (name, forbidden, run.stdout)
        assert [title for title, _, _ in rows(run.stdout)] == titles
        # Every failure sits under its requirement's row.
        printed = sum(line.startswith("    FAILED ") for line in run.stdout.splitlines())
        grouped = sum(
            line.startswith("FAILED ")
            for lines in failures_under(run.stdout).values()
            for line in lines
        )
        assert printed == grouped > 0
        earned = sum(e for _, e, _ in rows(run.stdout))
        available = sum(a for _, _, a in rows(run.stdout))
        assert earned < available
        assert summary_of(run.stdout) == (
            f"{name}: public tests {earned}/{available} (bonus included); {hidden_not_run}"
        )


def test_check_out_writes_the_students_feedback_without_hidden_tests(checks):
    done, out = checks
    feedback = (out / "no_ttl" / "feedback.md").read_text()
    assert (
        done["no_ttl"].stdout.strip().splitlines()[-1] == f"wrote {out / 'no_ttl' / 'feedback.md'}"
    )
    assert f"**Score: {summary_of(done['no_ttl'].stdout)}**" in feedback
    assert "Hidden check" not in feedback and "hidden not run" not in feedback
    ttl = feedback.index("### Sliding expiry (TTL)")
    assert ttl < feedback.index("#### test_session_keys_expire: ")
    assert "    every key of the session should expire in 1..60 s" in feedback


def test_an_import_error_is_reported_once_with_its_line(tmp_path):
    done = run_grading("check", str(FIXTURES / "syntax_error"), "--out", str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    error = [line for line in lines if "could not be imported:" in line]
    assert error == [
        "  Note: chat_application.py could not be imported: SyntaxError: invalid syntax "
        "(chat_application.py, line 5)"
    ]
    first_row = min(i for i, line in enumerate(lines) if REQUIREMENT_ROW.match(line))
    assert lines.index(error[0]) < first_row
    not_run = [line for line in lines if line.startswith("    NOT RUN ")]
    assert len(not_run) >= 20 and all(
        line.endswith(": your file could not be imported") for line in not_run
    )
    assert "FAILED" not in done.stdout
    feedback = (tmp_path / "feedback.md").read_text()
    assert feedback.count("could not be imported: SyntaxError") == 1
    assert feedback.count("    not run: your file could not be imported (see above)") == len(
        not_run
    )


def test_course_and_student_copy_print_the_same_summary_line(tmp_path, hidden_not_run):
    """The course collects its hidden tests; the student copy reads hidden_summary.json."""
    course = tmp_path / "course" / "exercises"
    course.mkdir(parents=True)
    shutil.copyfile(REPO / "solutions" / "chat_application.py", course / "chat_application.py")
    release = tmp_path / "release"
    build_release(REPO, release)
    assert not (release / "grading" / "assignments" / "chat_application" / "hidden").exists()
    shutil.copyfile(
        REPO / "solutions" / "chat_application.py", release / "exercises" / "chat_application.py"
    )
    env = {**os.environ, "PYTHONPATH": str(release)}

    def in_release(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *command],
            cwd=release,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    grader = in_release("-c", "import grading; print(grading.__file__)").stdout.strip()
    assert grader.startswith(str(release)), "the student copy's own grader runs there"
    student = in_release("-m", "grading", "check", "exercises")
    instructor = run_grading("check", str(course))
    assert student.returncode == instructor.returncode == 0, student.stdout + student.stderr
    available = sum(a for _, _, a in rows(instructor.stdout))
    expected = f"exercises: public tests {available}/{available} (bonus included); {hidden_not_run}"
    assert summary_of(student.stdout) == summary_of(instructor.stdout) == expected
    assert student.stdout.strip().splitlines()[-1] == expected


# ---------------------------------------------------------------- without a grading run


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "AssertionError: list order\nassert expected ['a', 'b'], got ['b', 'a']\n"
            " +  where ['b', 'a'] = <ChatApplication.list_sessions>('alice')",
            "list order\nexpected ['a', 'b'], got ['b', 'a']",
        ),
        ("AssertionError: assert expected 4, got 2", "expected 4, got 2"),
        (  # the test's sentence already shows both values: not twice
            "AssertionError: expected ['a', 'b']; it listed ['b', 'a']\n"
            "assert expected ['a', 'b'], got ['b', 'a']",
            "expected ['a', 'b']; it listed ['b', 'a']",
        ),
        (  # `4` is not shown by "40"
            "AssertionError: after 40 s\nassert expected 4, got 2",
            "after 40 s\nexpected 4, got 2",
        ),
        (
            "AssertionError: assert [1] == [2]\n  At index 0 diff: 1 != 2\n  Use -v to get more diff",
            "a check of this test did not hold: [1] == [2]; At index 0 diff: 1 != 2",
        ),
        (
            "Failed: DID NOT RAISE ValueError",
            "expected ValueError to be raised, but nothing was raised",
        ),
        (
            "KeyError: 'x' (raised by your code while calling chat())",
            "KeyError: 'x' (raised by your code while calling chat())",
        ),
        (
            "grading.sandbox.SubmissionTimeout: no answer in time while calling chat() (killed)",
            "SubmissionTimeout: no answer in time while calling chat() (killed)",
        ),
        (
            "grading.sandbox.SubmissionImportError: chat_application.py could not be imported: "
            "SyntaxError: invalid syntax (chat_application.py, line 5)",
            report.IMPORT_NOT_RUN,
        ),
    ],
)
def test_failures_are_put_in_words(raw, shown):
    assert _in_words(raw) == shown


def test_comparisons_are_worded_with_values_in_full():
    ids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(3)]
    assert plugin.pytest_assertrepr_compare("==", ids[:2], ids[1::-1]) == [
        f"expected {ids[1::-1]!r}, got {ids[:2]!r}"
    ]
    assert plugin.pytest_assertrepr_compare("in", "x", ("a",)) == ["expected 'x' to be in ('a',)"]
    assert plugin.pytest_assertrepr_compare("<=", 75, 60) == [
        "expected a value of at most 60, got 75"
    ]
    long = plugin.pytest_assertrepr_compare("==", "a" * 2000, "b")[0]
    assert "[and 1402 more characters]" in long and "..." not in long


def _spec(name: str, requirement: str, points: float, *, bonus=False, hidden=False) -> TestSpec:
    feedback = "Hidden feedback." if hidden else None
    return TestSpec(f"x::{name}", name, name, requirement, points, hidden, feedback, bonus=bonus)


def _result(name: str, base: float, bonus: float) -> GradingResult:
    outcomes = [
        TestOutcome(_spec("test_base_passed", "memory", base), PASSED),
        TestOutcome(_spec("test_base_failed", "memory", 50 - base), FAILED, "no", kind="failure"),
        TestOutcome(_spec("test_bonus_passed", "bonus", bonus, bonus=True), PASSED),
        TestOutcome(_spec("test_bonus_failed", "bonus", 10 - bonus, bonus=True), FAILED, "no"),
    ]
    return GradingResult(name, outcomes)


def test_scores_count_the_bonus_apart_everywhere():
    results = [_result("alice", 40, 10), _result("bob", 20, 0), _result("carol", 30, 6)]
    assert report.summary_line(results[0]) == "alice: 40/50 + bonus 10/10"
    rows = list(csv.DictReader(io.StringIO(report.gradebook_csv(results))))
    assert [(r["score"], r["max_score"], r["bonus"], r["bonus_max"]) for r in rows] == [
        ("40", "50", "10", "10"),
        ("20", "50", "0", "10"),
        ("30", "50", "6", "10"),
    ]
    stats = report.class_statistics(results)
    assert (stats["mean_score"], stats["median_score"], stats["max_score"]) == (30, 30, 50)
    assert (stats["median_bonus"], stats["bonus_max"]) == (6, 10)
    text = report.statistics_markdown(stats)
    assert "- Score without bonus (out of 50): mean 30.00, median 30" in text
    assert "- Bonus (out of 10): mean 5.33, median 6" in text


def test_results_json_keeps_the_total_for_when_grades_are_published():
    result = _result("alice", 40, 10)
    result.outcomes.append(TestOutcome(_spec("test_secret", "memory", 4, hidden=True), FAILED, ""))
    output = report.results_json(result)["output"]
    assert output.splitlines()[0] == (
        "alice: public tests 50/60 (bonus included); 1 hidden test worth 4 points is shown, "
        "with your total, once grades are published"
    )
    hidden = TestOutcome(_spec("test_secret", "memory", 4, hidden=True), NOT_RUN, "")
    checked = GradingResult("alice", [*_result("alice", 40, 10).outcomes, hidden])
    assert report.summary_line(checked) == (
        "alice: public tests 50/60 (bonus included); 1 hidden test worth 4 points is run only "
        "by the instructor"
    )
