"""The shards of one grading run: pytest processes that take tests from one queue.

A submission's tests are independent and mostly wait on confined processes, so the
runner grades them in parallel: it execs one zygote for the submission
(`grading.zygote`), starts `initial` shards (each `python -m grading.runner`, with its
own control socket to that zygote), and hands out test ids one at a time as shards ask
for them. When a shard has been inside its current test for `GROW_AFTER_S` (a
submission that hangs, or tests waiting on deadlines) and more tests are queued than
shards are free, it starts another shard, up to `MAX_SHARDS`. Starting shards costs
CPU that honest tests running beside them need, so a test that ran out of time goes
back to the end of the queue once (up to `retries` per run) and its second result
counts. Each shard writes one JSON line per event on
a pipe of its own; confined processes never hold it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["GROW_AFTER_S", "MAX_SHARDS", "Shard", "drive", "start_shard"]

MAX_SHARDS = 8
GROW_AFTER_S = 1.0
REPO_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Shard:
    """One pytest process of a grading run, as the runner sees it."""

    process: subprocess.Popen[bytes]
    events_fd: int
    queue_fd: int
    buffer: bytes = b""
    busy_since: float | None = None
    open: bool = True
    events: list[dict[str, Any]] = field(default_factory=list)

    def assign(self, node_id: str) -> None:
        """Send the next test id ("" when the queue is empty: the shard then ends)."""
        try:
            os.write(self.queue_fd, (node_id + "\n").encode())
        except OSError:
            return
        self.busy_since = time.monotonic() if node_id else None

    def close(self) -> None:
        if not self.open:  # closed once only: a descriptor number may be reused since
            return
        self.open = False
        for fd in (self.events_fd, self.queue_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def start_shard(
    command: list[str], environment: dict[str, str], control: socket.socket | None, log: Path
) -> Shard:
    """Start `command` (a grading run) with its event pipe, queue pipe and zygote socket."""
    events_read, events_write = os.pipe()
    queue_read, queue_write = os.pipe()
    passed = [events_write, queue_read] + ([control.fileno()] if control else [])
    arguments = [f"--events-fd={events_write}", f"--queue-fd={queue_read}"]
    if control is not None:
        arguments.append(f"--zygote-fd={control.fileno()}")
    try:
        with open(log, "ab") as output:
            process = subprocess.Popen(
                [*command, *arguments],
                pass_fds=passed,
                env=environment,
                cwd=REPO_DIR,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
    finally:
        os.close(events_write)
        os.close(queue_read)
        if control is not None:
            control.close()
    return Shard(process, events_read, queue_write)


def _lines(shard: Shard, chunk: bytes) -> list[dict[str, Any]]:
    shard.buffer += chunk
    *lines, shard.buffer = shard.buffer.split(b"\n")
    return [json.loads(line) for line in lines if line.strip()]


def drive(
    shards: list[Shard], start_another: Any, deadline: float, retries: int = 0
) -> tuple[list[dict[str, Any]], bool]:
    """Serve the queue until every shard has ended; (events, whether time ran out).

    `start_another()` returns a new `Shard` or None when no more may start. A later
    result for a test replaces an earlier one (a time-out run again).
    """
    events: list[dict[str, Any]] = []
    queue: deque[str] | None = None
    retried: set[str] = set()
    while any(shard.open for shard in shards):
        now = time.monotonic()
        if now >= deadline:
            return events, True
        live = [shard for shard in shards if shard.open]
        readable, _, _ = select.select(
            [s.events_fd for s in live], [], [], min(0.2, deadline - now)
        )
        for shard in live:
            if shard.events_fd not in readable:
                continue
            chunk = os.read(shard.events_fd, 1 << 16)
            if not chunk:
                shard.close()
                continue
            for event in _lines(shard, chunk):
                kind = event.get("event")
                if kind == "collected" and queue is None:
                    queue = deque(str(node) for node in event.get("selected", []))
                if kind == "next":
                    shard.assign(queue.popleft() if queue else "")
                    continue
                if kind == "result":
                    shard.busy_since = None
                    event = _retry_if_timed_out(event, queue, retried, retries)
                events.append(event)
        # A shard waiting in one test for long means tests wait on deadlines, not on
        # the CPU: start another while more tests are queued than shards are free.
        open_shards = [s for s in shards if s.open]
        stuck = any(s.busy_since and now - s.busy_since >= GROW_AFTER_S for s in open_shards)
        free = sum(s.busy_since is None for s in open_shards)
        if queue and stuck and len(queue) > free:
            another = start_another()
            if another is not None:
                shards.append(another)
    return events, False


def _retry_if_timed_out(
    event: dict[str, Any], queue: deque[str] | None, retried: set[str], retries: int
) -> dict[str, Any]:
    """Queue a timed-out test once more, if the run has retries left; the event to keep."""
    if event.get("kind") != "timeout":
        return event
    node = str(event.get("node_id", ""))
    if node in retried:
        message = str(event.get("message", ""))
        return {**event, "message": f"{message} (run twice: out of time both times)".lstrip()}
    if queue is not None and len(retried) < retries:
        retried.add(node)
        queue.append(node)
    return event
