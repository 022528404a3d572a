"""Benchmark: what a chat turn and a session listing cost in Redis, four ways.

Compared, the first three behind the same `RunnableWithMessageHistory` prompt (system +
history + input), all four with the same offline model:

* `lesson`: the lesson's naive JSON-blob history (`memory_course/naive_redis_history.py`);
* `community`: langchain-community's `RedisChatMessageHistory` (one `LPUSH` and one
  `EXPIRE` per message);
* `service`: lesson 10's `memory_course.chat_service.RedisSessionHistory` (one `LRANGE`,
  one `MULTI`/`EXEC`);
* `reference`: `solutions.chat_application.ChatApplication` (one pipelined read, one
  `MULTI`/`EXEC`). It also updates session metadata and user indexes each turn; the
  others store the history only.

Measured on fakeredis, on the real Redis (`REDIS_URL`, default
redis://127.0.0.1:6379/0; skipped with a note when unreachable) and, for the round trips
and bytes of a turn, on a 3-master Redis Cluster the benchmark starts itself
(`tests/redis_cluster.py`; skipped with a note without `redis-server`):

* round trips and bytes sent per turn at history lengths 10, 50 and 500 (untrimmed),
  counted with `memory_course.redis_metrics.measure`;
* turns per second, single-threaded and with 8 threads (one session each, history
  starting at 50 messages), plus what 8 threads sharing one session keep;
* `list_sessions` round trips for 1, 10 and 100 sessions (lesson vs reference), and
  how many ids of expired sessions each leaves behind.

The contenders and the count-only tables (`round_trip_table`, `list_sessions_table`)
live in `memory_course.redis_costs`, so lesson 10 shows the same numbers without
timings (and without the reference, which that package never imports: this module
imports it and passes it in as `reference=`); this module adds the reference, the
timings, the threads, the real server and the plot. On the real server every key
lives under a unique prefix and is deleted afterwards.

    python -m tests.bench.redis_history [OUT_DIR]     # default: test-artifacts/bench
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fakeredis
import redis

import solutions.chat_application as reference_solution
from memory_course import silence_known_deprecations
from memory_course.redis_costs import (
    HISTORY_LENGTHS,
    IMPLEMENTATIONS,
    SESSION_COUNTS,
    STEADY_HISTORY,
    UNTRIMMED,
    Contender,
    list_sessions_table,
    round_trip_table,
)
from tests.threads import run_in_threads

__all__ = [
    "HISTORY_LENGTHS",
    "IMPLEMENTATIONS",
    "SESSION_COUNTS",
    "list_sessions_table",
    "round_trip_table",
    "run",
    "throughput_table",
]

THREADS = 8


def _names(reference: Any) -> tuple[str, ...]:
    """`IMPLEMENTATIONS`, without `reference` when no reference module is passed in."""
    return tuple(n for n in IMPLEMENTATIONS if n != "reference" or reference is not None)


# --- timings -------------------------------------------------------------------------


def _conversation(
    contender: Contender, session_ids: list[str], turns: int
) -> Callable[[int], None]:
    """Work for thread `n`: `turns` turns in `session_ids[n]`."""

    def work(number: int) -> None:
        for turn in range(turns):
            contender.chat(session_ids[number], f"turn {turn} from thread {number}")

    return work


def throughput_table(
    client: Any, *, key_prefix: str = "bench:", turns: int = 60, reference: Any = None
) -> list[dict[str, Any]]:
    """Turns per second, 1 thread and `THREADS` threads, and one shared session.

    Throughput runs give every thread its own session starting at `STEADY_HISTORY`
    messages (the default limit; `lesson` and `reference` stay there). The
    shared-session run sends `THREADS` x 10 turns to one untrimmed session and reports
    how many messages were kept out of the expected number. The `reference` rows are
    there only when the reference module is passed in.
    """
    silence_known_deprecations()
    rows = []
    per_thread = max(1, turns * 2 // THREADS)
    for name in _names(reference):
        contender = Contender(name, client, key_prefix, STEADY_HISTORY, reference)
        for threads, turns_each in ((1, turns), (THREADS, per_thread)):
            sessions = [contender.new_session() for _ in range(threads)]
            for session_id in sessions:
                contender.fill(session_id, STEADY_HISTORY)
                contender.chat(session_id, "warm-up")  # schemas and connections, untimed
            started = time.perf_counter()
            run_in_threads(threads, _conversation(contender, sessions, turns_each))
            elapsed = time.perf_counter() - started
            rows.append(
                {
                    "implementation": name,
                    "threads": threads,
                    "turns": threads * turns_each,
                    "turns_per_second": threads * turns_each / elapsed,
                }
            )
        shared = Contender(name, client, f"{key_prefix}shared:", UNTRIMMED, reference)
        session_id = shared.new_session()
        run_in_threads(THREADS, _conversation(shared, [session_id] * THREADS, 10))
        rows.append(
            {
                "implementation": name,
                "threads": THREADS,
                "turns": THREADS * 10,
                "shared_session_kept": shared.stored(session_id),
                "shared_session_expected": THREADS * 10 * 2,
            }
        )
    return rows


# --- the run -------------------------------------------------------------------------


@contextmanager
def _real_redis() -> Iterator[tuple[Any, str] | tuple[None, str]]:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    prefix = f"bench:{uuid.uuid4().hex[:12]}:"
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        yield None, f"real Redis skipped: not reachable at {url} ({error})"
        return
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()


@contextmanager
def _redis_cluster() -> Iterator[tuple[Any, str] | tuple[None, str]]:
    """A 3-master Redis Cluster of the benchmark's own (`tests/redis_cluster.py`)."""
    from tests.redis_cluster import local_redis_cluster, missing_binaries

    if missing := missing_binaries():
        yield None, f"Redis Cluster skipped: {' and '.join(missing)} not on PATH"
        return
    with local_redis_cluster() as cluster:
        yield cluster.client, "bench:"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base else "n/a"


def _cost_section(title: str, rows: list[dict[str, Any]]) -> list[str]:
    lesson = {r["history_length"]: r for r in rows if r["implementation"] == "lesson"}
    lines = [
        f"### {title}",
        "",
        "| history | implementation | round trips | bytes sent | round trips ref÷lesson "
        "| bytes ref÷lesson |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for length in HISTORY_LENGTHS:
        for row in (r for r in rows if r["history_length"] == length):
            base = lesson[length]
            ratios = (
                (
                    _ratio(row["round_trips"], base["round_trips"]),
                    _ratio(row["bytes_sent"], base["bytes_sent"]),
                )
                if row["implementation"] == "reference"
                else ("", "")
            )
            lines.append(
                f"| {length} | {row['implementation']} | {row['round_trips']} "
                f"| {row['bytes_sent']:,} | {ratios[0]} | {ratios[1]} |"
            )
    return [*lines, ""]


def _listing_section(title: str, rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| sessions | lesson round trips | reference round trips | ref÷lesson "
        "| expired ids left: lesson | reference |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for count in SESSION_COUNTS:
        lesson = next(r for r in rows if r["sessions"] == count and r["implementation"] == "lesson")
        ref = next(r for r in rows if r["sessions"] == count and r["implementation"] == "reference")
        lines.append(
            f"| {count} | {lesson['round_trips']} | {ref['round_trips']} "
            f"| {_ratio(ref['round_trips'], lesson['round_trips'])} "
            f"| {lesson['stale_ids_left']} | {ref['stale_ids_left']} |"
        )
    return [*lines, ""]


def _throughput_section(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        "### Turns per second (offline model; Python overhead included)",
        "",
        "| backend | implementation | 1 thread | 8 threads | ref÷lesson (1 / 8) "
        "| 8 threads on one session: messages kept |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for backend, rows in results.items():
        speed = {
            (r["implementation"], r["threads"]): r["turns_per_second"]
            for r in rows
            if "turns_per_second" in r
        }
        for name in IMPLEMENTATIONS:
            shared = next(
                r for r in rows if r["implementation"] == name and "shared_session_kept" in r
            )
            ratio = ""
            if name == "reference":
                ratio = (
                    f"{_ratio(speed[(name, 1)], speed[('lesson', 1)])} / "
                    f"{_ratio(speed[(name, THREADS)], speed[('lesson', THREADS)])}"
                )
            lines.append(
                f"| {backend} | {name} | {speed[(name, 1)]:.0f} | {speed[(name, THREADS)]:.0f} "
                f"| {ratio} | {shared['shared_session_kept']} of "
                f"{shared['shared_session_expected']} |"
            )
    return [*lines, ""]


def _plot(
    costs: list[dict[str, Any]],
    listing: list[dict[str, Any]],
    speeds: dict[str, list[dict[str, Any]]],
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "lesson": "tab:red",
        "community": "tab:blue",
        "service": "tab:orange",
        "reference": "tab:green",
    }
    width = 0.2
    figure, axes = plt.subplots(2, 2, figsize=(12, 9))
    bytes_axis, trips_axis, list_axis, speed_axis = axes.flat

    for name in IMPLEMENTATIONS:
        mine = [r for r in costs if r["implementation"] == name]
        bytes_axis.plot(
            [r["history_length"] for r in mine],
            [r["bytes_sent"] for r in mine],
            "o-",
            color=colours[name],
            label=name,
        )
    bytes_axis.set(
        xscale="log",
        yscale="log",
        xlabel="messages already in the history",
        ylabel="bytes sent to Redis",
        title="Bytes sent per chat turn",
    )

    for offset, name in enumerate(IMPLEMENTATIONS):
        mine = [r for r in costs if r["implementation"] == name]
        trips_axis.bar(
            [i + (offset - 1.5) * width for i in range(len(mine))],
            [r["round_trips"] for r in mine],
            width,
            color=colours[name],
            label=name,
        )
    trips_axis.set_xticks(range(len(HISTORY_LENGTHS)), [str(n) for n in HISTORY_LENGTHS])
    trips_axis.set(
        xlabel="messages already in the history",
        ylabel="round trips",
        title="Round trips per chat turn",
    )

    for name in ("lesson", "reference"):
        mine = [r for r in listing if r["implementation"] == name]
        list_axis.plot(
            [r["sessions"] for r in mine],
            [r["round_trips"] for r in mine],
            "o-",
            color=colours[name],
            label=name,
        )
    list_axis.set(
        xscale="log",
        yscale="log",
        xlabel="sessions of the user",
        ylabel="round trips",
        title="Round trips of list_sessions",
    )

    groups = [(backend, threads) for backend in speeds for threads in (1, THREADS)]
    for offset, name in enumerate(IMPLEMENTATIONS):
        values = [
            next(
                r["turns_per_second"]
                for r in speeds[backend]
                if r["implementation"] == name
                and r.get("threads") == threads
                and "turns_per_second" in r
            )
            for backend, threads in groups
        ]
        speed_axis.bar(
            [i + (offset - 1.5) * width for i in range(len(groups))],
            values,
            width,
            color=colours[name],
            label=name,
        )
    speed_axis.set_xticks(
        range(len(groups)), [f"{backend}\n{threads} thread(s)" for backend, threads in groups]
    )
    speed_axis.set(ylabel="turns per second", title="Throughput (offline model)")
    for axis in axes.flat:
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run(out_dir: Path) -> str:
    """Run every measurement; save `redis_history.md` and `.png` in `out_dir`.

    Returns the Markdown report (also printed by `python -m tests.bench`).
    """
    silence_known_deprecations()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    reference = reference_solution
    fake = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    costs = {"fakeredis": round_trip_table(fake, reference=reference)}
    listing = {"fakeredis": list_sessions_table(fake, reference=reference)}
    speeds = {"fakeredis": throughput_table(fake, reference=reference)}
    notes = []
    # The real server gets every table; the cluster (started here) the costs of a turn.
    every_table = [
        (costs, round_trip_table),
        (listing, list_sessions_table),
        (speeds, throughput_table),
    ]
    backends = [
        ("real Redis", _real_redis, every_table),
        ("Redis Cluster, 3 masters", _redis_cluster, every_table[:1]),
    ]
    for backend, connect, tables in backends:
        with connect() as (client, prefix_or_note):
            if client is None:
                notes.append(prefix_or_note)
                continue
            for table, build in tables:
                table[backend] = build(client, key_prefix=prefix_or_note, reference=reference)

    lines = [
        "## Redis chat history: lesson vs langchain-community vs service vs reference",
        "",
        "Round trips and bytes are counted by `memory_course.redis_metrics` (a pipeline or a "
        "MULTI/EXEC is one round trip). The reference also updates session metadata and "
        "user indexes in each turn; the others store the history only. Byte counts on "
        "the real server include its longer, unique key prefix. On Redis Cluster the "
        "reference's transaction covers the session's own keys (one hash slot); the user "
        "indexes, in other slots, follow in one pipeline: one more exchange per node "
        "holding an index, sent together.",
        "",
        "Timings are wall-clock on the machine at hand and vary between runs: with the "
        "offline model most of a turn is LangChain's own work (it serialises the whole "
        "prompt for `RunnableWithMessageHistory`'s listener), so the counts are the figures "
        "to rely on; the gap widens once Redis is a network hop away.",
        "",
    ]
    for backend, rows in costs.items():
        lines += _cost_section(f"One chat turn ({backend})", rows)
    for backend, rows in listing.items():
        lines += _listing_section(f"list_sessions ({backend})", rows)
    lines += _throughput_section(speeds)
    lines += [f"_{note}_" for note in notes]
    lines.append(f"Run time: {time.perf_counter() - started:.1f} s.")
    report = "\n".join(lines) + "\n"

    (out_dir / "redis_history.md").write_text(report, encoding="utf-8")
    _plot(costs["fakeredis"], listing["fakeredis"], speeds, out_dir / "redis_history.png")
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    default = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench"
    out_dir = Path(args[0]) if args else default
    print(run(out_dir))
    print(f"Saved {out_dir / 'redis_history.md'} and {out_dir / 'redis_history.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
