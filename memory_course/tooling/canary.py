"""The drift canary: the course against the newest LangChain the package index resolves.

    make canary                       # or: python3 memory_course/tooling/canary.py

builds a throwaway environment (`.venv-canary`, git-ignored, rebuilt on every run) from
`requirements.lock`, then upgrades the course's direct dependencies that move fastest
(the LangChain family, LangGraph and its savers, redis, fakeredis, FastAPI, nbval, pytest)
to the newest versions the index resolves, keeping every other package of the lock
unless an upgrade needs a newer one. It runs the whole suite and every notebook (nbval,
strict) there and prints a short report:

* each package's pinned and newest version;
* per lesson, whether it passes, with the first differing cell and its error;
* any other test that failed.

The only difference expected is each lesson's Setup cell (`show_setup`), which prints the
versions and warns "Not the course's versions"; it counts as a pass only when it fails
that way. Nothing else is ignored, except the one test that checks the installed
environment is the lock (the canary changes it on purpose).

The report goes to stdout and to `test-artifacts/canary-report.md` (with the JUnit XML
beside it); the exit status is 0 when everything passes. Standard library only: it runs
on any supported Python without the course's environment, and needs the network only for
the package index.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-canary"
ARTIFACTS = REPO / "test-artifacts"
PIP_VERSION = "26.3"
KERNEL = "memory-course"

# Upgraded to the newest the index resolves; everything else stays at the lock's version
# (pip's only-if-needed strategy upgrades a dependency only when a new release needs it).
CANARY_PACKAGES = (
    "langchain-core",
    "langchain-openai",
    "langchain-community",
    "langchain-classic",
    "langchain",
    "langchain-postgres",
    "langchain-mongodb",
    "langchain-tests",
    "langchain-text-splitters",
    "langsmith",
    "openai",
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "langgraph-checkpoint-postgres",
    "langgraph-prebuilt",
    "langgraph-sdk",
    "redis",
    "fakeredis[lua]",
    "fastapi",
    "nbval",
    "pytest",
)
# Installed in every venv, never in the lock.
TOOLING = ("pip", "setuptools", "wheel")
# Checks that the installed packages are the lock's: false by construction here.
DESELECTED = ("tests/course/test_environment.py::test_installed_environment_matches_the_lock",)
# The Setup cell: the one cell whose difference is expected, and how it must differ.
SETUP_CALL = "show_setup("
BANNER = "Not the course's versions"
# Colour codes, as a terminal gets them and as pytest's JUnit XML spells them (#x1B[...m).
ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*m")
VERSION_LINE = re.compile(r"[A-Za-z][\w.-]*\s+\d+(\.\w+)+")
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s#;]+)")


def normal(name: str) -> str:
    """The canonical form of a package name (PEP 503), without extras."""
    return re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower()


def read_pins(text: str) -> dict[str, str]:
    """`name==version` lines of a requirements file (markers and comments dropped)."""
    pins = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normal(match.group(1))] = match.group(2)
    return pins


@dataclass(frozen=True)
class VersionRow:
    package: str
    pinned: str | None
    newest: str | None

    @property
    def moved(self) -> bool:
        return self.pinned != self.newest


def version_rows(
    pinned: dict[str, str], newest: dict[str, str], packages=CANARY_PACKAGES
) -> list[VersionRow]:
    """The canary's packages, then every other package whose version moved with them."""
    pinned = {normal(k): v for k, v in pinned.items()}
    newest = {normal(k): v for k, v in newest.items()}
    named = [normal(p) for p in packages]
    rows = [VersionRow(p, pinned.get(p), newest.get(p)) for p in named]
    others = sorted(
        p
        for p in set(pinned) | set(newest)
        if p not in named and p not in TOOLING and pinned.get(p) != newest.get(p)
    )
    # A marker line of the lock that does not apply here is not a move.
    rows += [VersionRow(p, pinned.get(p), newest.get(p)) for p in others if p in newest]
    return rows


def format_version_table(rows: list[VersionRow]) -> str:
    lines = ["| package | pinned | newest | |", "| --- | --- | --- | --- |"]
    for row in rows:
        mark = "moved" if row.moved else ""
        lines.append(f"| {row.package} | {row.pinned or '-'} | {row.newest or '-'} | {mark} |")
    return "\n".join(lines)


@dataclass
class LessonResult:
    lesson: str
    cells: int = 0
    failed_cells: list[int] = field(default_factory=list)
    banner_only: bool = False  # the Setup cell differed, as expected, and nothing else
    first_cell: int | None = None
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.failed_cells or self.banner_only


@dataclass
class SuiteResult:
    lessons: dict[str, LessonResult]
    other_failures: list[tuple[str, str]]  # (test id, first line of the error)
    tests: int = 0
    skipped: int = 0

    @property
    def passed(self) -> bool:
        return (
            bool(self.lessons)
            and not self.other_failures
            and all(lesson.passed for lesson in self.lessons.values())
        )


def _error_summary(text: str, limit: int = 300) -> str:
    """The telling lines of a failure: nbval's reason, the mismatch, or the exception."""
    lines = [ANSI.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and line != "Notebook cell execution failed"]
    keep: list[str] = []
    for line in lines:
        telling = re.match(r"^Cell \d+: ", line) or re.match(
            r"^[A-Za-z_][\w.]*(Error|Exception)\b", line
        )
        diff = line.startswith(("mismatch", "+ ", "- ", "E "))
        if (telling or diff) and line not in keep and len(keep) < 5:
            keep.append(line)
    summary = " / ".join(keep or lines[:2])
    return summary if len(summary) <= limit else summary[: limit - 3] + "..."


def _is_banner(text: str) -> bool:
    """The Setup cell differing the expected way: in its version lines and nothing else.

    nbval shows the difference as a line diff (complete: the canary runs pytest with
    `verbosity_assertions=2`); every changed line must be a `package  version` line or
    the "Not the course's versions" warning. A truncated diff cannot be checked.
    """
    clean = ANSI.sub("", text)
    if (
        SETUP_CALL not in clean
        or "Cell outputs differ" not in clean
        or "Cell execution caused an exception" in clean
        or "truncated" in clean
    ):
        return False
    changed = [
        line.strip()[2:]
        for line in clean.splitlines()
        if line.strip().startswith(("- ", "+ ")) or line.strip() in ("-", "+")
    ]
    return bool(changed) and all(
        VERSION_LINE.fullmatch(line) or line.startswith(BANNER) for line in changed
    )


def _lesson_and_cell(case: ET.Element) -> tuple[str, int] | None:
    classname, name = case.get("classname", ""), case.get("name", "")
    match = re.fullmatch(r"Cell (\d+)", name)
    if not match or not classname.endswith(".ipynb"):
        return None
    lesson = classname.rsplit("/", 1)[-1].removesuffix(".ipynb")
    # pytest writes "notebooks.01_name.ipynb": the lesson is what follows the folder.
    lesson = lesson.split(".", 1)[1] if "." in lesson else lesson
    return lesson, int(match.group(1))


def parse_junit(xml_text: str) -> SuiteResult:
    """Per-lesson results and other failures from `pytest --junitxml` output."""
    root = ET.fromstring(xml_text)
    lessons: dict[str, LessonResult] = {}
    others: list[tuple[str, str]] = []
    banner_cells: dict[str, int] = {}
    tests = skipped = 0
    for case in root.iter("testcase"):
        tests += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if case.find("skipped") is not None and problem is None:
            skipped += 1
        where = _lesson_and_cell(case)
        text = ""
        if problem is not None:
            text = problem.text or problem.get("message") or ""
        if where is None:
            if problem is not None:
                test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
                others.append((test_id, _error_summary(text)))
            continue
        lesson, cell = where
        result = lessons.setdefault(lesson, LessonResult(lesson))
        result.cells += 1
        if problem is None:
            continue
        result.failed_cells.append(cell)
        if _is_banner(text) and lesson not in banner_cells:
            banner_cells[lesson] = cell
            continue
        if result.first_cell is None or cell < result.first_cell:
            result.first_cell, result.error = cell, _error_summary(text)
    for lesson, result in lessons.items():
        result.failed_cells.sort()
        result.banner_only = result.failed_cells == [banner_cells.get(lesson)]
        if result.first_cell is None and result.failed_cells and not result.banner_only:
            result.first_cell = result.failed_cells[0]
    return SuiteResult(dict(sorted(lessons.items())), others, tests, skipped)


def format_lessons(result: SuiteResult) -> str:
    lines = ["| lesson | result | first differing cell | error |", "| --- | --- | --- | --- |"]
    for lesson in result.lessons.values():
        if lesson.passed:
            verdict = "pass (Setup banner only)" if lesson.banner_only else "pass"
            lines.append(f"| {lesson.lesson} | {verdict} | | |")
        else:
            error = lesson.error.replace("|", "\\|")
            lines.append(f"| {lesson.lesson} | FAIL | Cell {lesson.first_cell} | {error} |")
    return "\n".join(lines)


def format_report(rows: list[VersionRow], result: SuiteResult, seconds: float | None = None) -> str:
    verdict = "PASS" if result.passed else "FAIL"
    failed_lessons = sum(not lesson.passed for lesson in result.lessons.values())
    parts = [
        f"# Drift canary: {verdict}",
        "",
        "The course's suite and notebooks on the newest versions the package index resolves.",
        "",
        "## Versions",
        "",
        format_version_table(rows),
        "",
        "## Lessons (nbval, strict; only the Setup cell's version banner may differ)",
        "",
        format_lessons(result),
        "",
        "## Other tests",
        "",
        f"{result.tests} tests, {result.skipped} skipped, {len(result.other_failures)} failed "
        f"outside the notebooks; {failed_lessons} lesson(s) failed.",
    ]
    parts += [f"- `{test}`: {error}" for test, error in result.other_failures]
    if seconds is not None:
        parts += ["", f"Run time: {seconds / 60:.1f} min."]
    return "\n".join(parts) + "\n"


# --- Running it ----------------------------------------------------------------------


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run(args, check=False, **kwargs)


def build_environment(python: str, venv: Path, reuse: bool = False) -> dict[str, str]:
    """The lock, then the canary's packages upgraded; returns the installed versions."""
    bin_python = str(venv / "bin" / "python")
    pip = (bin_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    steps = [
        (python, "-m", "venv", str(venv)),
        (*pip, f"pip=={PIP_VERSION}"),
        (*pip, "-r", str(REPO / "requirements.lock")),
        (*pip, "--upgrade", "--upgrade-strategy", "only-if-needed", *CANARY_PACKAGES),
    ]
    if reuse and Path(bin_python).exists():
        steps = []
    else:
        shutil.rmtree(venv, ignore_errors=True)
    # The notebooks name the course's kernel; this environment must provide it.
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    steps.append(
        (bin_python, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL)
        + ("--display-name", f"Python {minor} (memory-course)")
    )
    for step in steps:
        if _run(*step, stdout=subprocess.DEVNULL).returncode:
            sys.exit(f"canary: building {venv} failed at: {' '.join(step)}")
    site = subprocess.run(
        (bin_python, "-c", "import site; print(site.getsitepackages()[0])"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "memory-course.pth").write_text(f"{REPO}\n", encoding="utf-8")
    listed = subprocess.run(
        (bin_python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {normal(p["name"]): p["version"] for p in json.loads(listed)}


def run_suite(venv: Path, junit: Path, pytest_args: list[str]) -> None:
    deselect = [arg for test in DESELECTED for arg in ("--deselect", test)]
    _run(
        str(venv / "bin" / "python"),
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--junitxml={junit}",
        "-o",
        "verbosity_assertions=2",  # nbval's diffs in full: the banner check reads them
        *deselect,
        *pytest_args,
        cwd=REPO,
        env=_suite_environment(),
    )


def _suite_environment() -> dict[str, str]:
    """This environment, less what `make canary` passes down: the suite's own `make`
    calls (tests/course/test_lab.py) must not inherit its PYTHON or MAKEFLAGS."""
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHON", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=VENV, help="the throwaway environment")
    parser.add_argument("--out", type=Path, default=ARTIFACTS, help="report and JUnit folder")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="run in the environment of the last run instead of building it anew",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from the last run's JUnit XML and versions",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if not (3, 11) <= sys.version_info[:2] <= (3, 13):
        sys.exit(f"canary: Python 3.11, 3.12 or 3.13 is required, not {sys.version.split()[0]}")
    args.out.mkdir(parents=True, exist_ok=True)
    junit = args.out / "canary-junit.xml"
    versions_file = args.out / "canary-versions.json"
    start = time.monotonic()
    pinned = read_pins((REPO / "requirements.lock").read_text(encoding="utf-8"))
    if args.report_only:
        newest = json.loads(versions_file.read_text(encoding="utf-8"))
    else:
        newest = build_environment(sys.executable, args.venv, args.reuse)
        versions_file.write_text(json.dumps(newest, indent=1, sort_keys=True), encoding="utf-8")
        junit.unlink(missing_ok=True)
        run_suite(args.venv, junit, args.pytest_args)
    if not junit.exists():
        sys.exit("canary: pytest wrote no JUnit XML; see its output above")
    result = parse_junit(junit.read_text(encoding="utf-8"))
    report = format_report(
        version_rows(pinned, newest),
        result,
        None if args.report_only else time.monotonic() - start,
    )
    (args.out / "canary-report.md").write_text(report, encoding="utf-8")
    print("\n" + report)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
