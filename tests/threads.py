"""Work spread over threads, for the suite's concurrency tests and the benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["run_in_threads"]


def run_in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run `work(n)` for n in 0..count-1, each in a thread of its own, started together.

    Every thread is joined; then the first exception any of them raised is raised here
    (an exception in a thread is otherwise only printed).
    """
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(number: int) -> None:
        try:
            start.wait()
            work(number)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
