"""Every output of a grading run, computed from a `GradingResult` and nothing else.

- `results_json`: Gradescope's results.json (top-level `score`, `execution_time`,
  `output`, `tests[]` with `name`, `score`, `max_score`, `status`, `output`,
  `visibility`); hidden tests show only their instructor-written feedback, and only
  once grades are published.
- `junit_xml`: JUnit XML for CI dashboards (same names and messages).
- `feedback_markdown`: what the student reads (`check --out` writes it too).
- `check_text`: what `python -m grading check` prints.
- `csv_header`/`csv_row`: one gradebook line; `class_statistics`: pass rates.

Scores read `base/max + bonus/bonus_max` everywhere (summary line, gradebook,
statistics); a result whose hidden tests were not run (`check`) reads
`public tests earned/available (bonus included)` and how many hidden tests remain.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree

from grading.score import NOT_RUN, PASSED, GradingResult, TestOutcome

__all__ = [
    "HIDDEN_VISIBILITY",
    "IMPORT_NOT_RUN",
    "safe_text",
    "check_text",
    "class_statistics",
    "csv_header",
    "csv_row",
    "feedback_markdown",
    "results_json",
    "statistics_markdown",
    "hidden_not_run",
    "junit_xml",
    "summary_line",
]

# Gradescope shows hidden tests (their feedback message only) after grades are published.
HIDDEN_VISIBILITY = "after_published"
# What each test of a submission that could not be imported says; the reason (file,
# line, exception) is in the result's notes, shown once above the tests.
IMPORT_NOT_RUN = "not run: your file could not be imported (see above)"


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


def _points(points: float) -> str:
    return f"{_fmt(points)} point" + ("" if points == 1 else "s")


def _hidden_tests(hidden: dict[str, float]) -> str:
    """`20 hidden tests worth 24 points are` (the verb agrees)."""
    count = int(hidden["tests"])
    tests = "1 hidden test" if count == 1 else f"{count} hidden tests"
    return f"{tests} worth {_points(hidden['points'])} {'is' if count == 1 else 'are'}"


def hidden_not_run(
    result: GradingResult, hidden_summary: dict[str, Any] | None = None
) -> dict[str, float] | None:
    """`{"tests": n, "points": p}` of the hidden tests this result did not run, or None.

    Either collected but not run (`check` in the course's copy), or left out of the
    student copy, which ships their `hidden_summary` instead.
    """
    if result.not_run:
        return {"tests": len(result.not_run), "points": sum(o.spec.points for o in result.not_run)}
    shipped = not any(o.spec.hidden for o in result.outcomes)
    if hidden_summary and hidden_summary.get("tests") and shipped:
        return {"tests": int(hidden_summary["tests"]), "points": hidden_summary["points"]}
    return None


def _public_part(result: GradingResult) -> str:
    """`alice: public tests 30/36 (bonus included)`."""
    public = [o for o in result.run if not o.spec.hidden]
    earned, available = sum(o.earned for o in public), sum(o.spec.points for o in public)
    line = f"{result.submission}: public tests {_fmt(earned)}/{_fmt(available)}"
    return line + (" (bonus included)" if any(o.spec.bonus for o in public) else "")


def summary_line(result: GradingResult, hidden_summary: dict[str, Any] | None = None) -> str:
    """`alice: 42/50 + bonus 6/10`; when hidden tests were not run (`check`):
    `alice: public tests 30/36 (bonus included); 20 hidden tests worth 24 points are
    run only by the instructor`."""
    hidden = hidden_not_run(result, hidden_summary)
    if hidden is not None:
        return f"{_public_part(result)}; {_hidden_tests(hidden)} run only by the instructor"
    base = _base(result)
    line = f"{result.submission}: {_fmt(base)}/{_fmt(result.max_score)}"
    if result.bonus_max:
        line += f" + bonus {_fmt(result.score - base)}/{_fmt(result.bonus_max)}"
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
    # Gradescope shows students neither the hidden tests nor the total until grades are
    # published; the output they see at once must not tell the total either.
    hidden = [o for o in result.run if o.spec.hidden]
    headline = summary_line(result)
    if hidden:
        count = {"tests": len(hidden), "points": sum(o.spec.points for o in hidden)}
        headline = (
            f"{_public_part(result)}; {_hidden_tests(count)} shown, with your total, "
            "once grades are published"
        )
    output = [headline, *isolation_lines(result), *result.notes]
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


def _failures_by_requirement(
    result: GradingResult,
) -> list[tuple[dict[str, Any], list[tuple[TestOutcome, str]]]]:
    """Each requirement's row (`by_requirement`) with its failed tests, in the order of
    the requirement table (outcomes are already in that order)."""
    names = _names(result)
    return [
        (
            row,
            [
                (o, n)
                for o, n in names
                if o.spec.requirement == row["requirement"] and o.status not in (PASSED, NOT_RUN)
            ],
        )
        for row in result.by_requirement()
    ]


def feedback_markdown(result: GradingResult, hidden_summary: dict[str, Any] | None = None) -> str:
    """The student's feedback: totals, a table per requirement, then each failure under
    its requirement. `hidden_summary`: the hidden tests a student copy left out."""
    lines = [
        f"# Feedback: {result.submission}",
        "",
        f"**Score: {summary_line(result, hidden_summary)}**",
        "",
    ]
    for line in isolation_lines(result):
        lines += [f"`{line.strip()}`", ""]
    for note in result.notes:
        lines += [_quote(note), ""]
    lines += ["| Requirement | Points | Tests passed |", "| --- | --- | --- |"]
    for row in result.by_requirement():
        if not row["tests"] and hidden_not_run(result, hidden_summary):
            continue  # only hidden tests, none run: the summary line counts them
        tests = f"{row['passed']}/{row['tests']}"
        if row["not_run"]:
            tests += f" ({row['not_run']} hidden not run)"
        lines.append(
            f"| {row['title']} | {_fmt(row['earned'])}/{_fmt(row['available'])} | {tests} |"
        )
    lines.append("")
    if hidden_not_run(result, hidden_summary):
        lines += ["Your final score may differ: the instructor also runs the hidden tests.", ""]
    grouped = [(row, failed) for row, failed in _failures_by_requirement(result) if failed]
    if grouped:
        lines += ["## What to fix", ""]
        for row, failed in grouped:
            lines += [f"### {row['title']}", ""]
            for outcome, name in failed:
                lines += [
                    f"#### {name} ({_points(outcome.spec.points)})",
                    "",
                    _quote(outcome.message),
                    "",
                ]
    else:
        lines += ["Every test that ran passed.", ""]
    return "\n".join(lines)


def check_text(
    result: GradingResult,
    hidden_summary: dict[str, Any] | None = None,
    extra_notes: Sequence[str] = (),
) -> str:
    """What `check` prints: notes first (an import error is reported there, once), then
    points per requirement, each with its failed tests (the test's title, then the
    reason in full), then the summary line."""
    lines = []
    for note in [*result.notes, *extra_notes]:
        first, *rest = safe_text(note).splitlines() or [""]
        lines += [f"  Note: {first}", *(f"        {line}" for line in rest), ""]
    for row, failed in _failures_by_requirement(result):
        if not row["tests"]:
            continue
        lines.append(
            f"  {row['title']:<42} {_fmt(row['earned']):>4}/{_fmt(row['available']):<4} "
            f"({row['passed']}/{row['tests']} tests passed)"
        )
        for outcome, _ in failed:
            message = safe_text(outcome.message).strip() or "failed"
            if message == IMPORT_NOT_RUN:
                lines.append(f"    NOT RUN {outcome.spec.name}: your file could not be imported")
                continue
            lines.append(f"    FAILED {outcome.spec.name}: {outcome.spec.title}")
            lines += [f"      {line}" if line else "" for line in message.splitlines()]
    hidden = hidden_not_run(result, hidden_summary)
    failures = any(failed for _, failed in _failures_by_requirement(result))
    if hidden:
        lines += ["", "  Your final score may differ: the instructor also runs the hidden tests."]
    elif not failures and result.outcomes:
        lines += ["", "  Every public test passed."]
    lines += ["", summary_line(result, hidden_summary)]
    return "\n".join(lines)


def check_data(
    result: GradingResult,
    hidden_summary: dict[str, Any] | None = None,
    extra_notes: Sequence[str] = (),
) -> dict[str, Any]:
    """What `check --json` writes (the notebooks' check cell renders it): the same facts
    as `check_text`, as data."""
    requirements = []
    for row, failed in _failures_by_requirement(result):
        if not row["tests"]:
            continue
        failures = []
        for outcome, _ in failed:
            message = safe_text(outcome.message).strip() or "failed"
            if message != IMPORT_NOT_RUN:
                failures.append(
                    {"test": outcome.spec.name, "title": outcome.spec.title, "reason": message}
                )
        requirements.append(
            {
                "title": row["title"],
                "earned": row["earned"],
                "available": row["available"],
                "passed": row["passed"],
                "tests": row["tests"],
                "failures": failures,
            }
        )
    public = [o for o in result.run if not o.spec.hidden]
    return {
        "submission": result.submission,
        "notes": [safe_text(note) for note in [*result.notes, *extra_notes]],
        "requirements": requirements,
        "earned": sum(o.earned for o in public),
        "available": sum(o.spec.points for o in public),
        "hidden_not_run": hidden_not_run(result, hidden_summary),
        "summary": summary_line(result, hidden_summary),
    }


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
    """`score` is the base score out of `max_score`, `bonus` out of `bonus_max` apart;
    `percent` is of the base."""
    base = _base(result)
    bonus = result.score - base
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
    bases = [_base(r) for r in results]
    bonuses = [r.score - _base(r) for r in results]
    return {
        "submissions": len(results),
        # Base points out of max_score; the bonus apart, out of bonus_max.
        "mean_score": _mean(bases),
        "median_score": _median(bases),
        "max_score": max((r.max_score for r in results), default=0.0),
        "mean_bonus": _mean(bonuses),
        "median_bonus": _median(bonuses),
        "bonus_max": max((r.bonus_max for r in results), default=0.0),
        "tests": list(tests.values()),
    }


def _base(result: GradingResult) -> float:
    return result.score - sum(o.earned for o in result.outcomes if o.spec.bonus)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _median(values: list[float]) -> float:
    ordered, middle = sorted(values), len(values) // 2
    if not ordered:
        return 0.0
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def statistics_markdown(stats: dict[str, Any]) -> str:
    lines = [
        "# Class statistics",
        "",
        f"Submissions: {stats['submissions']}.",
        "",
        f"- Score without bonus (out of {stats['max_score']:g}): mean "
        f"{stats['mean_score']:.2f}, median {stats['median_score']:g}",
        f"- Bonus (out of {stats['bonus_max']:g}): mean {stats['mean_bonus']:.2f}, "
        f"median {stats['median_bonus']:g}",
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
