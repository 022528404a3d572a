"""Lesson 10's Redis cost tables, with the reference solution and without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fakeredis

from memory_course.redis_costs import HISTORY_LENGTHS, round_trip_table

REPO = Path(__file__).resolve().parents[2]


def _by_name(rows):
    table: dict[str, list[dict]] = {}
    for row in rows:
        table.setdefault(row["implementation"], []).append(row)
    return table


def test_round_trip_table_with_the_reference():
    table = _by_name(round_trip_table(fakeredis.FakeRedis(server=fakeredis.FakeServer())))

    assert list(table) == ["lesson", "community", "reference"]
    for rows in table.values():
        assert [r["history_length"] for r in rows] == list(HISTORY_LENGTHS)
    reference = table["reference"]
    assert [r["round_trips"] for r in reference] == [2] * len(HISTORY_LENGTHS)
    sent = [r["bytes_sent"] for r in reference]
    assert max(sent) - min(sent) < 50  # flat: only the digits of the length change
    lesson = [r["bytes_sent"] for r in table["lesson"]]
    assert lesson == sorted(lesson) and lesson[-1] > 10 * lesson[0]  # grows with the history


def test_round_trip_table_in_the_student_copy():
    """Where `solutions` cannot be imported the reference rows are left out, quietly."""
    code = (
        "import sys; sys.modules['solutions'] = None\n"
        "import json, fakeredis\n"
        "from memory_course.redis_costs import reference_available, round_trip_table\n"
        "rows = round_trip_table(fakeredis.FakeRedis(server=fakeredis.FakeServer()))\n"
        "print(json.dumps([reference_available(), rows]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    available, rows = json.loads(done.stdout.strip().splitlines()[-1])
    assert available is False
    assert {r["implementation"] for r in rows} == {"lesson", "community"}
    assert "Traceback" not in done.stderr
