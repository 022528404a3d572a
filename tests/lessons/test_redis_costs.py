"""Lesson 10's Redis cost tables, with the reference passed in and without it."""

from __future__ import annotations

import re
from pathlib import Path

import fakeredis
import pytest

import memory_course
import solutions.chat_application as reference_solution
from memory_course.redis_costs import (
    HISTORY_LENGTHS,
    IMPLEMENTATIONS,
    Contender,
    list_sessions_table,
    round_trip_table,
)
from memory_course.redis_metrics import measure

PACKAGE = Path(memory_course.__file__).resolve().parent

# `import solutions...`, `from solutions... import`, and the module's name as a string
# literal ("solutions" or "solutions.something"), as importlib or __import__ take it,
# directly or through a constant.
SOLUTIONS_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+solutions\b"
    r"|(?:import_module|find_spec|__import__)\s*\(\s*[rbu]?[\"']solutions\b"
    r"|[\"']solutions(?:\.\w+)*[\"']",
    re.MULTILINE,
)


def _fresh():
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def _by_name(rows):
    table: dict[str, list[dict]] = {}
    for row in rows:
        table.setdefault(row["implementation"], []).append(row)
    return table


def _flat(rows):
    """Every turn costs the same, whatever the length of the history."""
    assert [r["round_trips"] for r in rows] == [2] * len(HISTORY_LENGTHS)
    sent = [r["bytes_sent"] for r in rows]
    assert max(sent) - min(sent) < 50  # only the digits of the length change


def test_round_trip_table_with_the_reference():
    table = _by_name(round_trip_table(_fresh(), reference=reference_solution))

    assert list(table) == ["lesson", "community", "service", "reference"] == list(IMPLEMENTATIONS)
    for rows in table.values():
        assert [r["history_length"] for r in rows] == list(HISTORY_LENGTHS)
    _flat(table["reference"])
    _flat(table["service"])
    lesson = [r["bytes_sent"] for r in table["lesson"]]
    assert lesson == sorted(lesson) and lesson[-1] > 10 * lesson[0]  # grows with the history
    assert [r["round_trips"] for r in table["community"]] == [5] * len(HISTORY_LENGTHS)


def test_round_trip_table_without_the_reference():
    rows = round_trip_table(_fresh())

    table = _by_name(rows)
    assert list(table) == ["lesson", "community", "service"]
    _flat(table["service"])
    # the same counts as with the reference: passing it in only adds its rows
    with_reference = round_trip_table(_fresh(), reference=reference_solution)
    assert [r for r in with_reference if r["implementation"] != "reference"] == rows


def test_service_turn_reads_once_then_writes_in_one_transaction():
    """`service` is lesson 10's RedisSessionHistory: LRANGE, then one MULTI/EXEC."""
    client = _fresh()
    contender = Contender("service", client, "costs:", 100_000)
    for length in HISTORY_LENGTHS:
        session_id = contender.new_session()
        contender.fill(session_id, length)
        with measure(client) as metrics:
            contender.chat(session_id, "What did I say first?")
        assert metrics.round_trips == 2
        assert metrics.commands == ["LRANGE", "MULTI", "RPUSH", "EXPIRE", "EXEC"]
        assert contender.stored(session_id) == length + 2
        key = f"costs:service:{session_id}"
        assert client.type(key) == b"list"
        assert 0 < client.ttl(key) <= 3600


def test_list_sessions_table_with_and_without_the_reference():
    without = list_sessions_table(_fresh())
    assert {r["implementation"] for r in without} == {"lesson"}

    rows = list_sessions_table(_fresh(), reference=reference_solution)
    assert [r for r in rows if r["implementation"] == "lesson"] == without
    reference = [r for r in rows if r["implementation"] == "reference"]
    assert [r["sessions"] for r in reference] == [r["sessions"] for r in without]
    assert all(r["stale_ids_left"] == 0 for r in reference)


def test_reference_contender_needs_the_reference():
    with pytest.raises(ValueError, match="reference"):
        Contender("reference", _fresh(), "costs:", 50)
    contender = Contender("reference", _fresh(), "costs:", 50, reference=reference_solution)
    session_id = contender.new_session()
    contender.chat(session_id, "Hi")
    assert contender.stored(session_id) == 2


def test_unknown_contender_is_refused():
    with pytest.raises(ValueError, match="unknown implementation"):
        Contender("blob", _fresh(), "costs:", 50)


def test_the_import_check_sees_every_form():
    for line in (
        "import solutions.chat_application",
        "from solutions import chat_application",
        "    from solutions.chat_application import ChatApplication",
        'importlib.import_module("solutions.chat_application")',
        "importlib.util.find_spec('solutions')",
        '__import__("solutions")',
        '_REFERENCE = "solutions.chat_application"',
    ):
        assert SOLUTIONS_IMPORT.search(line), line
    for line in (
        "# the reference lives in `solutions.chat_application`",
        "x = 'see solutions/ for worked answers'",
        "import solutionsx",
    ):
        assert not SOLUTIONS_IMPORT.search(line), line


def test_no_module_of_memory_course_imports_the_solutions():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "redis_costs.py" in sources
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in sources
        for text in [path.read_text(encoding="utf-8")]
        for match in SOLUTIONS_IMPORT.finditer(text)
    ]
    assert offenders == []
