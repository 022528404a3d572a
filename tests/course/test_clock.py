"""The injectable clock: a manual clock moves only when told, the system clock is real."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from memory_course.clock import DEFAULT_START, Clock, ManualClock, SystemClock


def test_manual_clock_stands_still_until_advanced() -> None:
    clock = ManualClock()
    assert clock.now() == DEFAULT_START
    assert clock.now() == clock.now()
    assert clock.advance(90) == DEFAULT_START + timedelta(seconds=90)
    assert clock.advance(timedelta(minutes=1)) == DEFAULT_START + timedelta(seconds=150)
    assert clock.elapsed == timedelta(seconds=150)


def test_manual_clock_time_matches_now() -> None:
    clock = ManualClock(datetime(2030, 5, 1, 12, tzinfo=UTC))
    assert clock.time() == datetime(2030, 5, 1, 12, tzinfo=UTC).timestamp()
    clock.advance(2.5)
    assert clock.time() == datetime(2030, 5, 1, 12, 0, 2, 500000, tzinfo=UTC).timestamp()


def test_manual_clock_sleep_advances_and_is_recorded() -> None:
    clock = ManualClock()
    clock.sleep(0.5)
    clock.sleep(2)
    assert clock.sleeps == [0.5, 2]
    assert clock.elapsed == timedelta(seconds=2.5)


def test_manual_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.elapsed == timedelta(0)


def test_manual_clock_requires_an_aware_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))


def test_manual_clock_converts_start_to_utc() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    clock = ManualClock(datetime(2026, 1, 1, 1, tzinfo=paris))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_manual_clock_advances_are_not_lost_between_threads() -> None:
    clock = ManualClock()

    def tick() -> None:
        for _ in range(1000):
            clock.advance(1)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.elapsed == timedelta(seconds=4000)


def test_system_clock_reads_the_real_time() -> None:
    clock = SystemClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert before <= now <= after
    assert now.tzinfo is not None
    assert abs(clock.time() - now.timestamp()) < 60


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(), Clock)
