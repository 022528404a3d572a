"""Every output of a grading run, computed from a `GradingResult` and nothing else.

- `results_json`: Gradescope's results.json (top-level `score`, `execution_time`,
  `output`, `tests[]` with `name`, `score`, `max_score`, `status`, `output`,
  `visibility`); hidden tests show only their instructor-written feedback, and only
  once grades are published.
- `junit_xml`: JUnit XML for CI dashboards (same names and messages).
- `feedback_markdown`: what the student reads.
- `csv_header`/`csv_row`: one gradebook line; `class_statistics`: pass rates.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from xml.etree import ElementTree

from grading.score import NOT_RUN, PASSED, GradingResult, TestOutcome

__all__ = [
    "HIDDEN_VISIBILITY",
    "safe_text",
    "class_statistics",
    "csv_header",
    "csv_row",
    "feedback_markdown",
    "results_json",
    "statistics_markdown",
    "junit_xml",
    "summary_line",
]

# Gradescope shows hidden tests (their feedback message only) after grades are published.
HIDDEN_VISIBILITY = "after_published"


# Control characters (terminal escapes, what XML 1.0 forbids) and unpaired surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """`text` with every control character and unpaired surrogate replaced by U+FFFD.

    Applied to everything that comes from a student before any report is written:
    no terminal escape reaches the instructor's terminal, and XML, JSON, Markdown and
    CSV writers only ever see printable text, newlines and tabs.
    """
    return _UNSAFE.sub("\ufffd", str(text))


def _csv_cell(text: str) -> str:
    text = safe_text(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _fmt(points: float) -> str:
    return f"{points:g}"


def summary_line(result: GradingResult) -> str:
    """`alice: 42/50 (+ bonus 6/10)`, with not-run tests mentioned."""
    bonus = [o for o in result.outcomes if o.spec.bonus]
    earned_bonus = sum(o.earned for o in bonus)
    base = result.score - earned_bonus
    line = f"{result.submission}: {_fmt(base)}/{_fmt(result.max_score)}"
    if bonus:
        line += f" (+ bonus {_fmt(earned_bonus)}/{_fmt(result.bonus_max)})"
    if result.not_run:
        points = sum(o.spec.points for o in result.not_run)
        line += f"; {len(result.not_run)} hidden tests ({_fmt(points)} points) not run"
    return line


def _names(result: GradingResult) -> list[tuple[TestOutcome, str]]:
    indexes = result.hidden_indexes()
    return [(o, o.display_name(indexes.get(o.spec.node_id, 0))) for o in result.outcomes]


def _test_output(outcome: TestOutcome) -> str:
    if outcome.status == PASSED:
        return "Passed."
    return outcome.message or "Failed."


def results_json(result: GradingResult) -> dict[str, Any]:
    """Gradescope's results.json for this result (tests not run are left out)."""
    tests = []
    for number, (outcome, name) in enumerate(_names(result), start=1):
        if outcome.status == NOT_RUN:
            continue
        tests.append(
            {
                "name": name,
                "number": str(number),
                "score": outcome.earned,
                "max_score": outcome.spec.points,
                "status": "passed" if outcome.status == PASSED else "failed",
                "output": safe_text(_test_output(outcome)),
                "visibility": HIDDEN_VISIBILITY if outcome.spec.hidden else "visible",
                "tags": [outcome.spec.requirement],
            }
        )
    output = [summary_line(result), *isolation_lines(result), *result.notes]
    return {
        "score": result.score,
        "execution_time": max(1, round(result.execution_time)),
        "output": safe_text("\n".join(output)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def isolation_lines(result: GradingResult) -> list[str]:
    """`isolation: strong`, or `isolation: weak` and what was not protected."""
    if not result.isolation:
        return []
    lines = [f"isolation: {result.isolation}"]
    lines += [f"  not protected: {gap}" for gap in result.isolation_gaps]
    return lines


def _is_error(outcome: TestOutcome) -> bool:
    return outcome.status not in (PASSED, NOT_RUN) and outcome.kind != "failure"


def junit_xml(result: GradingResult) -> str:
    """JUnit XML (Jenkins xunit's junit-10.xsd): one testcase per graded test.

    An assertion that did not hold is a `<failure>`; an exception, time-out, crash or
    import failure an `<error>`. Messages are the safe ones the student may read.
    """
    run = [(o, n) for o, n in _names(result) if o.status != NOT_RUN]
    errors = sum(_is_error(o) for o, _ in run)
    suite = ElementTree.Element(
        "testsuite",
        name=f"grading:{result.submission}",
        tests=str(len(run)),
        failures=str(sum(o.status != PASSED for o, _ in run) - errors),
        errors=str(errors),
        skipped="0",
        time=f"{result.execution_time:.3f}",
    )
    properties = ElementTree.SubElement(suite, "properties")
    for key, value in (("score", result.score), ("max_score", result.max_score)):
        ElementTree.SubElement(properties, "property", name=key, value=_fmt(value))
    for outcome, name in run:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"grading.{outcome.spec.requirement}",
            name=name,
            time=f"{outcome.duration:.3f}",
        )
        if outcome.status != PASSED:
            tag = "error" if _is_error(outcome) else "failure"
            message = safe_text(outcome.message)
            element = ElementTree.SubElement(case, tag, message=_first_line(message))
            element.text = message
    output = "\n".join([*isolation_lines(result), *result.notes])
    if output:
        ElementTree.SubElement(suite, "system-out").text = safe_text(output)
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["failed"])[0][:200]


def _quote(text: str) -> str:
    """An indented code block: Markdown shows it as literal text, never as markup."""
    lines = safe_text(text).splitlines()
    return "\n".join("    " + line for line in lines) or "    (no message)"


def feedback_markdown(result: GradingResult, hidden_summary: dict[str, Any] | None = None) -> str:
    """The student's feedback: totals, a table per requirement, then each failure."""
    lines = [f"# Feedback: {result.submission}", "", f"**Score: {summary_line(result)}**", ""]
    for line in isolation_lines(result):
        lines += [f"`{line.strip()}`", ""]
    for note in result.notes:
        lines += [_quote(note), ""]
    lines += ["| Requirement | Points | Tests passed |", "| --- | --- | --- |"]
    for row in result.by_requirement():
        tests = f"{row['passed']}/{row['tests']}"
        if row["not_run"]:
            tests += f" ({row['not_run']} hidden not run)"
        lines.append(
            f"| {row['title']} | {_fmt(row['earned'])}/{_fmt(row['available'])} | {tests} |"
        )
    lines.append("")
    if hidden_summary and not any(o.spec.hidden for o in result.outcomes):
        lines += [
            f"Hidden tests not run here: {hidden_summary['tests']} "
            f"({_fmt(hidden_summary['points'])} points). Your final score may differ.",
            "",
        ]
    failures = [(o, n) for o, n in _names(result) if o.status not in (PASSED, NOT_RUN)]
    if failures:
        lines += ["## What to fix", ""]
        for outcome, name in failures:
            lines += [
                f"### {name} ({_fmt(outcome.spec.points)} points)",
                "",
                _quote(outcome.message),
                "",
            ]
    else:
        lines += ["Every test that ran passed.", ""]
    return "\n".join(lines)


GRADEBOOK_COLUMNS = [
    "student",
    "score",
    "max_score",
    "bonus",
    "bonus_max",
    "percent",
    "isolation",
    "notes",
]


def requirement_keys(results: list[GradingResult]) -> list[str]:
    """The assignment's requirements, in the declared order (from any graded result)."""
    for result in results:
        if result.outcomes:
            return [key for key, _ in result.requirements()]
    return []


def csv_header(results: list[GradingResult]) -> list[str]:
    """Gradebook columns: totals, then points per requirement."""
    return GRADEBOOK_COLUMNS + [f"points:{key}" for key in requirement_keys(results)]


def csv_row(result: GradingResult, keys: list[str]) -> list[str]:
    bonus = sum(o.earned for o in result.outcomes if o.spec.bonus)
    base = result.score - bonus
    percent = 100.0 * base / result.max_score if result.max_score else 0.0
    per_requirement = {row["requirement"]: row["earned"] for row in result.by_requirement()}
    note = " | ".join(n.splitlines()[0] for n in result.notes)[:300]
    return [
        _csv_cell(result.submission),
        _fmt(base),
        _fmt(result.max_score),
        _fmt(bonus),
        _fmt(result.bonus_max),
        f"{percent:.1f}",
        result.isolation or "",
        _csv_cell(note),
        *[_fmt(per_requirement.get(key, 0.0)) for key in keys],
    ]


def gradebook_csv(results: list[GradingResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    keys = requirement_keys(results)
    writer.writerow(csv_header(results))
    for result in results:
        writer.writerow(csv_row(result, keys))
    return buffer.getvalue()


def class_statistics(results: list[GradingResult]) -> dict[str, Any]:
    """Pass rate of each test across the class, and score statistics."""
    tests: dict[str, dict[str, Any]] = {}
    for result in results:
        for outcome, name in _names(result):
            entry = tests.setdefault(
                outcome.spec.node_id,
                {
                    "name": outcome.spec.name,
                    "display_name": name,
                    "requirement": outcome.spec.requirement,
                    "hidden": outcome.spec.hidden,
                    "points": outcome.spec.points,
                    "passed": 0,
                    "graded": 0,
                },
            )
            if outcome.status != NOT_RUN:
                entry["graded"] += 1
                entry["passed"] += outcome.status == PASSED
    for entry in tests.values():
        entry["pass_rate"] = entry["passed"] / entry["graded"] if entry["graded"] else 0.0
    scores = sorted(r.score for r in results)
    middle = len(scores) // 2
    median = (
        (scores[middle] if len(scores) % 2 else (scores[middle - 1] + scores[middle]) / 2)
        if scores
        else 0.0
    )
    return {
        "submissions": len(results),
        "mean_score": sum(scores) / len(scores) if scores else 0.0,
        "median_score": median,
        "max_score": results[0].max_score if results else 0.0,
        "tests": list(tests.values()),
    }


def statistics_markdown(stats: dict[str, Any]) -> str:
    lines = [
        "# Class statistics",
        "",
        f"Submissions: {stats['submissions']}; mean score {stats['mean_score']:.2f}, "
        f"median {stats['median_score']:g} (out of {stats['max_score']:g}, bonus extra).",
        "",
        "| Test | Requirement | Hidden | Points | Pass rate |",
        "| --- | --- | --- | --- | --- |",
    ]
    for test in stats["tests"]:
        lines.append(
            f"| {test['name']} | {test['requirement']} | {'yes' if test['hidden'] else ''} "
            f"| {test['points']:g} | {100 * test['pass_rate']:.0f}% ({test['passed']}/{test['graded']}) |"
        )
    return "\n".join(lines) + "\n"
