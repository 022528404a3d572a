"""The command line: `check` is honest about hidden tests, `grade` writes its three files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.grading.test_outcomes import FIXTURES, GRADESCOPE_SCHEMA, REPO

# Each test runs the grader once or twice (~8 s each on an idle machine).
pytestmark = pytest.mark.timeout(600)


def run_grading(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grading", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


# The last line of `check`: public points (bonus included), then the hidden tests.
CHECK_SUMMARY = re.compile(
    r"^(\w+): public tests (\d+)/(\d+) \(bonus included\); "
    r"(\d+) hidden tests worth (\d+) points are run only by the instructor$"
)


def test_check_on_the_stub_reports_zero_and_the_hidden_tests_not_run():
    done = run_grading("check", "--test-timeout", "2")
    assert done.returncode == 1, done.stderr
    summary = CHECK_SUMMARY.match(done.stdout.strip().splitlines()[-1])
    assert summary is not None, done.stdout
    name, earned, available, hidden, points = summary.groups()
    assert (name, earned) == ("exercises", "0") and int(available) > 0
    assert int(hidden) > 0 and int(points) > 0
    assert "all tests passed" not in done.stdout.lower()


def test_check_never_claims_everything_passed_while_hidden_tests_exist():
    done = run_grading("check", str(FIXTURES / "complete"), "--test-timeout", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = CHECK_SUMMARY.match(done.stdout.strip().splitlines()[-1])
    assert summary is not None, done.stdout
    name, earned, available, _, _ = summary.groups()
    assert name == "complete" and earned == available
    assert "Every public test passed" not in done.stdout
    assert "all tests passed" not in done.stdout.lower()
    assert "FAILED" not in done.stdout


def test_grade_writes_results_junit_and_feedback(tmp_path):
    out = tmp_path / "out"
    done = run_grading("grade", str(FIXTURES / "exit_at_import"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "score: 0" in done.stdout
    assert "100/100" not in done.stdout, "the submission's own output reached the grader's"
    results = json.loads((out / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 0 and results["tests"]
    assert "<testsuite" in (out / "junit.xml").read_text()
    assert "could not be imported: SystemExit" in (out / "feedback.md").read_text()
    # Reported once, above the tests, which say only that they did not run.
    assert results["output"].count("could not be imported: SystemExit") == 1
    assert {t["output"] for t in results["tests"]} == {
        "not run: your file could not be imported (see above)"
    }


def test_weak_isolation_is_refused_unless_allowed_and_then_labelled(tmp_path):
    """Without namespaces student code could read the solutions: say so, loudly."""
    stub = str(REPO / "exercises")
    refused = run_grading(
        "grade", stub, "--out", str(tmp_path / "a"), "--no-namespaces", "--test-timeout", "2"
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "isolation is weak" in refused.stderr and "--allow-weak-isolation" in refused.stderr
    assert not (tmp_path / "a").exists(), "a refused run writes no results"
    allowed = run_grading(
        "grade",
        stub,
        "--out",
        str(tmp_path / "b"),
        "--no-namespaces",
        "--allow-weak-isolation",
        "--test-timeout",
        "2",
    )
    assert allowed.returncode == 0, allowed.stderr
    output = json.loads((tmp_path / "b" / "results.json").read_text())["output"]
    assert "isolation: weak" in output and "not protected: files" in output
    assert "isolation: weak" in (tmp_path / "b" / "feedback.md").read_text()
    check = run_grading("check", "--no-namespaces", "--test-timeout", "2")
    assert check.returncode == 1 and "isolation: weak" in check.stdout
