"""An injectable clock, so code that depends on time can be tested without waiting.

Code that asks "what time is it?" takes a `Clock` instead of calling `time.time()` or
`datetime.now()` itself. Production passes `SystemClock()`; lessons and tests pass a
`ManualClock`, which only moves when told to:

    clock = ManualClock()
    clock.advance(timedelta(minutes=31))   # instantly, no sleeping
    clock.sleep(2)                         # also instant; recorded in clock.sleeps

Every `now()` is timezone-aware UTC.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_START", "Clock", "ManualClock", "SystemClock"]

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
"""Where a `ManualClock` starts unless told otherwise."""


@runtime_checkable
class Clock(Protocol):
    """What time-dependent code needs: the current time, and a way to wait."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def time(self) -> float:
        """The current time in seconds since the epoch, like `time.time()`."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a `ManualClock` advances instead of waiting)."""
        ...


class SystemClock:
    """The real clock: `datetime.now(UTC)`, `time.time()` and `time.sleep()`."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


def _as_timedelta(delta: float | timedelta) -> timedelta:
    return delta if isinstance(delta, timedelta) else timedelta(seconds=delta)


class ManualClock:
    """A clock that stands still until `advance()` or `sleep()` moves it forward.

    Contract: time never goes backwards (a negative step raises `ValueError`);
    `sleep(s)` returns at once after advancing by `s` and appends `s` to `sleeps`, so a
    test can assert how long retrying code would have waited. Safe to share between
    threads.
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware, e.g. datetime(..., tzinfo=UTC)")
        self._now = start.astimezone(UTC)
        self._start = self._now
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.now().timestamp()

    def advance(self, delta: float | timedelta) -> datetime:
        """Move forward by `delta` (seconds or a `timedelta`); return the new time."""
        step = _as_timedelta(delta)
        if step < timedelta(0):
            raise ValueError(f"a clock cannot go backwards (got {step})")
        with self._lock:
            self._now += step
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        with self._lock:
            self.sleeps.append(seconds)

    @property
    def elapsed(self) -> timedelta:
        """How far the clock has moved since it started."""
        with self._lock:
            return self._now - self._start

    def __repr__(self) -> str:
        return f"ManualClock(elapsed={self.elapsed})"
