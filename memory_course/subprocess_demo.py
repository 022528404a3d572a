"""Run Python code in separate processes, for lessons and tests about persistence.

A history that "survives a restart" or "stays correct under concurrent writers" can only
be shown with more than one process. The helpers here start fresh interpreters (the
same `sys.executable`, so the course environment and the offline guard come along):

- `run_python(source)`: run a snippet to completion and return its output;
- `run_and_kill(source)`: start a snippet, wait until it prints `ready`, let it run a
  little longer, then kill it with SIGKILL (no cleanup handlers run, as in a crash);
- `run_in_parallel(source, workers)`: start several copies, wait until every copy has
  called `wait_for_start()`, then release them at the same moment.

Children print UTF-8 (`PYTHONIOENCODING=utf-8`) whatever their locale, so a lesson can
give a child a non-UTF-8 locale and still read what it prints. Every child first calls
`silence_known_deprecations()`, so its stderr carries only what is new.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "READY",
    "ProcessResult",
    "child_environment",
    "run_and_kill",
    "run_in_parallel",
    "run_python",
    "wait_for_start",
]

READY = "ready"
WORKER_VARIABLE = "WORKER_INDEX"
_PREAMBLE = (
    "from memory_course.deprecations import silence_known_deprecations\n"
    "silence_known_deprecations()\n"
)


@dataclass(frozen=True)
class ProcessResult:
    """How a child process ended: its exit code (negative: killed by that signal)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """stdout split into lines, without the `ready` handshake line."""
        return [line for line in self.stdout.splitlines() if line != READY]


def child_environment(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with `overrides` applied (a `None` value removes it)."""
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _command(source: str) -> list[str]:
    # The code travels base64-encoded: a child with an ASCII locale could not decode a
    # non-ASCII command line, and the lessons give children exactly such locales.
    code = _PREAMBLE + textwrap.dedent(source)
    packed = base64.b64encode(code.encode("utf-8")).decode("ascii")
    bootstrap = (
        f"import base64; exec(compile(base64.b64decode('{packed}').decode('utf-8'), "
        "'<child>', 'exec'))"
    )
    return [sys.executable, "-c", bootstrap]


def _start(
    source: str, cwd: str | Path | None, env: Mapping[str, str | None] | None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(source),
        cwd=cwd,
        env=child_environment(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def run_python(
    source: str,
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60.0,
    check: bool = True,
) -> ProcessResult:
    """Run `source` (dedented) in a new interpreter and wait for it.

    With `check=True` a non-zero exit raises `ChildProcessError` carrying the child's
    stderr, so a failing demonstration never passes silently.
    """
    completed = subprocess.run(
        _command(source),
        cwd=cwd,
        env=child_environment(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    result = ProcessResult(completed.returncode, completed.stdout, completed.stderr)
    if check and result.returncode != 0:
        raise ChildProcessError(f"child exited with {result.returncode}:\n{result.stderr}")
    return result


def _await_ready(process: subprocess.Popen[str]) -> None:
    """Block until the child prints the `ready` line; raise if it ends without doing so."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != READY:
        process.kill()
        _, stderr = process.communicate()
        raise ChildProcessError(f"child did not get ready (printed {line!r}):\n{stderr}")


def run_and_kill(
    source: str,
    *,
    after: float = 0.1,
    cwd: str | Path | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60.0,
) -> ProcessResult:
    """Start `source`, wait for it to print `ready`, wait `after` seconds, then kill it.

    The kill is SIGKILL on POSIX (TerminateProcess on Windows): the child gets no chance
    to flush, close files or run `finally` blocks, exactly like a crash or an OOM kill.
    `source` must print `ready` (flushed) once it is inside the work to interrupt.
    """
    process = _start(source, cwd, env)
    _await_ready(process)
    time.sleep(after)
    process.kill()
    stdout, stderr = process.communicate(timeout=timeout)
    return ProcessResult(process.returncode, READY + "\n" + stdout, stderr)


def wait_for_start() -> int:
    """Called by a child of `run_in_parallel`: report ready, block until released.

    Returns this child's index (0, 1, ...), taken from the `WORKER_INDEX` variable.
    """
    print(READY, flush=True)
    sys.stdin.readline()
    return int(os.environ.get(WORKER_VARIABLE, "0"))


def run_in_parallel(
    source: str,
    workers: int,
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60.0,
    check: bool = True,
) -> list[ProcessResult]:
    """Run `workers` copies of `source` so that their work truly overlaps.

    Interpreters take a while to start; without a barrier the first copy could finish
    before the last one begins. So each copy must call `wait_for_start()` once it has
    done its imports; when all have, they are released together. Results come back in
    worker order. With `check=True` any non-zero exit raises `ChildProcessError`.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    processes = [
        _start(source, cwd, {**(env or {}), WORKER_VARIABLE: str(index)})
        for index in range(workers)
    ]
    try:
        for process in processes:
            _await_ready(process)
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=timeout)
            results.append(ProcessResult(process.returncode, READY + "\n" + stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    failed = [r for r in results if r.returncode != 0]
    if check and failed:
        raise ChildProcessError(
            f"{len(failed)} of {workers} children failed; first stderr:\n{failed[0].stderr}"
        )
    return results
