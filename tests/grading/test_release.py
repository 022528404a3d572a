"""The student release leaks nothing and is coherent; the Gradescope zip grades for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grading.release import (
    ReleaseError,
    build_release,
    find_leaks,
    hidden_fingerprints,
    solution_fingerprints,
)
from tests.autograder import autograder_results, run_autograder_script, unpacked_autograder
from tests.grading.test_outcomes import GRADESCOPE_SCHEMA, REPO

# What a release is built from: a copy of these is a course to tamper with.
COURSE = ["exercises", "grading", "memory_course", "notebooks", "solutions"]
COURSE_FILES = ["requirements.in", "requirements.lock", "environment.yml", ".gitignore"]
# A distinctive line of the reference, with quotes (escaped inside a notebook's JSON).
SOLUTION_LINE = 'raise SessionNotFoundError(f"session {session_id} expired or was deleted")'


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    summary = build_release(REPO, out)
    return out, summary


def test_release_has_the_course_without_solutions_or_hidden_tests(release):
    out, summary = release
    assert summary["source"] == (
        "git checkout" if (REPO / ".git").exists() else "folder (not a git checkout)"
    )
    assert (out / "exercises" / "chat_application.py").is_file()
    assert (out / "memory_course" / "__init__.py").is_file()
    assert (
        out / "grading" / "assignments" / "chat_application" / "public" / "test_memory.py"
    ).is_file()
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
    summary_file = json.loads(
        (out / "grading" / "assignments" / "chat_application" / "hidden_summary.json").read_text()
    )
    hidden = REPO / "grading" / "assignments" / "chat_application" / "hidden"
    hidden_tests = re.findall(
        r"^def (test_\w+)", "".join(p.read_text() for p in hidden.glob("test_*.py")), re.MULTILINE
    )
    assert summary_file == summary["hidden_summary"]
    assert summary_file["tests"] == len(hidden_tests) > 0


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
    assert "22 tests collected" in done.stdout


@pytest.mark.parametrize(
    ("assignment", "solution", "score"),
    [("chat_application", "chat_application.py", 61), ("lesson_03", "lesson_03.py", 13)],
)
def test_gradescope_zip_grades_the_reference(tmp_path, assignment, solution, score):
    from grading.gradescope import build_autograder

    archive = build_autograder(REPO, tmp_path / "build" / "autograder.zip", assignment)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert {"setup.sh", "run_autograder", "requirements.lock"} <= set(names)
    assert any(name.startswith(f"grading/assignments/{assignment}/hidden/") for name in names)
    env = {**os.environ, "AUTOGRADER_PYTHON": sys.executable}
    with unpacked_autograder(archive, REPO / "solutions" / solution) as root:
        run_autograder_script(root, "run_autograder", env, timeout=300)
        results = autograder_results(root)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == score
    assert all(test["status"] == "passed" for test in results["tests"])


def test_release_ships_every_lessons_stub_public_tests_and_hidden_summary(release):
    out, _ = release
    lessons = sorted(p.name for p in (REPO / "grading" / "assignments").glob("lesson_*"))
    assert lessons
    for lesson in lessons:
        shipped = out / "grading" / "assignments" / lesson
        assert (out / "exercises" / f"{lesson}.py").read_text() == (
            REPO / "exercises" / f"{lesson}.py"
        ).read_text()
        assert list((shipped / "public").glob("test_*.py")), lesson
        assert not (shipped / "hidden").exists(), lesson
        summary = json.loads((shipped / "hidden_summary.json").read_text())
        assert summary["tests"] > 0, lesson


@pytest.fixture
def course(tmp_path):
    """A copy of the course's release sources in a folder of its own (no git checkout)."""
    root = tmp_path / "course"
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in COURSE:
        shutil.copytree(REPO / name, root / name, ignore=skip)
    for name in COURSE_FILES:
        shutil.copyfile(REPO / name, root / name)
    return root


def test_the_reference_in_place_of_the_stub_is_refused_before_anything_is_written(course, tmp_path):
    shutil.copyfile(
        course / "solutions" / "chat_application.py", course / "exercises" / "chat_application.py"
    )
    out = tmp_path / "release"
    with pytest.raises(ReleaseError) as refused:
        build_release(course, out)
    message = str(refused.value)
    assert (
        "exercises/chat_application.py is not the stub generated from solutions/chat_application.py"
        in message
    )
    assert "make stub" in message
    assert not out.exists()


def test_a_solution_pasted_into_a_notebook_the_support_package_or_exercises_is_caught(
    course, tmp_path
):
    assert SOLUTION_LINE in solution_fingerprints(REPO)
    helper = course / "memory_course" / "checked_history.py"
    helper.write_text(helper.read_text() + f"\n\ndef _pasted(session_id):\n    {SOLUTION_LINE}\n")
    notebook_path = next(iter(sorted((course / "notebooks").glob("*.ipynb"))))
    notebook = json.loads(notebook_path.read_text())
    notebook["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "pasted",
            "metadata": {},
            "outputs": [],
            "source": [f"    {SOLUTION_LINE}\n"],
        }
    )
    notebook_path.write_text(json.dumps(notebook, indent=1) + "\n")
    # The whole reference under another name: exercises/ is not public by itself.
    shutil.copyfile(
        course / "solutions" / "chat_application.py", course / "exercises" / "answer.py"
    )
    out = tmp_path / "release"
    with pytest.raises(ReleaseError) as refused:
        build_release(course, out)
    assert not out.exists(), "nothing leaky is left behind"
    leaks = str(refused.value).splitlines()
    origin = "line of solutions/chat_application.py"
    for shipped in (helper, notebook_path):
        where = str(shipped.relative_to(course))
        assert f"{where}: {origin}: {SOLUTION_LINE!r}" in leaks, where
    assert len([leak for leak in leaks if leak.startswith(f"exercises/answer.py: {origin}")]) > 100


def test_in_a_git_checkout_ignored_files_stay_out_and_new_ones_are_listed(
    course, tmp_path, monkeypatch
):
    # The copy's graded tests cannot be collected beside this grader's own package (same
    # module names); the hidden summary is not what this test is about.
    monkeypatch.setattr("grading.runner.hidden_summary", lambda options: {"tests": 0})

    def git(*args):
        subprocess.run(["git", "-C", str(course), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=Course", "-c", "user.email=course@example.com", "commit", "-qm", "course")
    (course / "notebooks" / "scratch.db").write_bytes(b"SQLite format 3\0")  # .gitignore: *.db
    (course / "memory_course" / "new_helper.py").write_text('"""Not committed yet."""\n')
    out = tmp_path / "release"
    summary = build_release(course, out)
    assert summary["source"] == "git checkout"
    assert summary["ignored"] == ["notebooks/scratch.db"]
    assert summary["not_committed"] == ["memory_course/new_helper.py"]
    assert (out / "memory_course" / "new_helper.py").is_file()
    assert not (out / "notebooks" / "scratch.db").exists()


def _imported_modules(path: Path) -> list[str]:
    import ast

    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_grading_lock_installs_what_every_assignment_imports():
    """Gradescope installs only grading/requirements-grading.lock: every package that the
    solutions, harnesses and the support modules they use import must be in it."""
    import importlib.metadata

    lock = (REPO / "grading" / "requirements-grading.lock").read_text()
    pinned = {
        re.split(r"[=;\s]", line, maxsplit=1)[0].lower().replace("_", "-")
        for line in lock.splitlines()
        if line and not line.startswith("#")
    }
    pending = [
        *(REPO / "solutions").glob("*.py"),
        *(REPO / "grading" / "assignments").glob("*/harness.py"),
    ]
    seen: set[Path] = set()
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported_modules(path):
            if name.startswith("memory_course."):  # follow the support modules used
                module = REPO / (name.replace(".", "/") + ".py")
                pending += [module] if module.is_file() else []
                continue
            found = distributions.get(name.split(".")[0], [])
            # A namespace package (langgraph) comes from several distributions: one will do.
            if found and not any(d.lower().replace("_", "-") in pinned for d in found):
                missing[name] = path.relative_to(REPO).as_posix()
    assert missing == {}
