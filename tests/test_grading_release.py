"""The student release leaks nothing and is coherent; the Gradescope zip grades for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grading.release import build_release, find_leaks, hidden_fingerprints, solution_fingerprints
from tests.test_grading_outcomes import GRADESCOPE_SCHEMA, REPO


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    summary = build_release(REPO, out)
    return out, summary


def test_release_has_the_course_without_solutions_or_hidden_tests(release):
    out, summary = release
    assert (out / "exercises" / "chat_application.py").is_file()
    assert (out / "memory_course" / "__init__.py").is_file()
    assert (out / "grading" / "assignments" / "chat_application" / "public" / "test_memory.py").is_file()
    assert list((out / "notebooks").glob("*.ipynb"))
    assert not (out / "solutions").exists()
    assert not (out / "grading" / "assignments" / "chat_application" / "hidden").exists()
    assert not (out / "tests").exists()
    for left_out in summary["left_out"]:
        assert not (out / left_out).exists()


def test_no_hidden_test_or_solution_text_leaks(release):
    out, _ = release
    hidden_names = [text for text in hidden_fingerprints(REPO) if text.startswith("test_")]
    assert len(hidden_names) >= 20 and solution_fingerprints(REPO)
    everything = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert [name for name in hidden_names if name in everything] == []
    assert re.search(r"(from|import)\s+solutions\b", everything) is None
    assert find_leaks(out, REPO) == []


def test_leak_check_catches_a_planted_leak(release, tmp_path):
    out, _ = release
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    secret = next(text for text in hidden_fingerprints(REPO) if text.startswith("test_"))
    (copy / "notes.md").write_text(f"see {secret}\n")
    (copy / "exercises" / "cheat.py").write_text(solution_fingerprints(REPO)[0] + "\n")
    leaks = find_leaks(copy, REPO)
    assert any("notes.md" in leak for leak in leaks)
    assert any("cheat.py" in leak for leak in leaks)


def test_release_readme_makefile_and_pyproject_point_only_at_what_exists(release):
    out, summary = release
    readme = (out / "README.md").read_text()
    for path in re.findall(r"`((?:exercises|grading|notebooks)/[\w./-]+)`", readme):
        assert (out / path).exists(), path
    makefile = (out / "Makefile").read_text()
    assert "check:" in makefile and "python -m grading check exercises" in makefile
    for target in re.findall(r"requirements\.\w+", makefile):
        assert (out / target).exists(), target
    config = tomllib.loads((out / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert all((out / path).is_dir() for path in config["testpaths"])
    summary_file = json.loads((out / "grading" / "assignments" / "chat_application" / "hidden_summary.json").read_text())
    assert summary_file == summary["hidden_summary"] and summary_file["tests"] == 20


def test_release_pytest_collects_the_public_tests(release):
    out, _ = release
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(out), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "21 tests collected" in done.stdout


def test_gradescope_zip_grades_the_reference(tmp_path):
    from grading.gradescope import build_autograder

    archive = build_autograder(REPO, tmp_path / "build" / "autograder.zip")
    # Like /autograder on Gradescope: readable by the submission's own uid.
    root = Path(tempfile.mkdtemp(prefix="autograder-"))
    root.chmod(0o755)
    request_cleanup = root
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        assert {"setup.sh", "run_autograder", "requirements.lock"} <= set(names)
        assert any(name.startswith("grading/assignments/chat_application/hidden/") for name in names)
        opened.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copyfile(
        REPO / "solutions" / "chat_application.py", root / "submission" / "chat_application.py"
    )
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    shutil.rmtree(request_cleanup)
    assert results["score"] == 60
    assert all(test["status"] == "passed" for test in results["tests"])
