"""The zygote: a fresh interpreter that forks every confined process of a grading run.

It is started with `execve` (`python -m grading.zygote FD`), so it never holds
anything of the grader: no test module was ever imported in it, no instructor
setting, no environment but `CONFINED_ENVIRONMENT`. It imports LangChain, redis,
fakeredis and the child-side modules once and warms them up; every student process
and service process is then a cheap fork of it, and inherits nothing else.

    grading run (pytest; a child subreaper)
      └─ zygote (this module, exec'd; single-threaded while it forks)
           └─ launcher (enters new namespaces, forks, reports the pid, waits)
                └─ confined process: PID 1 of its namespaces, `grading.child.main`
                   (student code) or `grading.services.main` (the fakes)

`Zygote` is the grader's handle: `start()` execs it, `spawn(plan, fds)` asks for a
new confined process holding exactly `fds` and returns its pid. One zygote can serve
several grading runs of the same submission at once (the runner's shards): it is
started with one control socket per shard (`launch`), and each shard `attach`es to its
own.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grading import confine
from grading.plan import IsolationPlan

__all__ = ["CONFINED_ENVIRONMENT", "Zygote", "ZygoteError"]

REPO_DIR = Path(__file__).resolve().parent.parent
# The whole environment a confined process ever has: handed to the zygote by execve,
# so no byte of the grader's own environment exists in its memory.
CONFINED_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "MEMORY_COURSE_OFFLINE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
# Imported once in the zygote so that every forked process has them.
PRELOAD = (
    "httpx",
    "redis",
    "fakeredis",
    "lupa",
    "langchain_openai",
    "langchain_core.chat_history",
    "langchain_core.messages",
    "langchain_core.prompts",
    "langchain_core.runnables.history",
    "memory_course.deprecations",
    "memory_course.factories",
    "memory_course.offline.offline_guard",
    "memory_course.offline.offline_model",
    "memory_course.offline.openai_stub",
    "grading.child",
    "grading.services",
)


# The message that hands the zygote new control sockets (`ZygoteProcess.controls`).
ATTACH = b'{"attach": true}'


class ZygoteError(RuntimeError):
    """The zygote could not be started or did not answer."""


def _warm_up() -> None:
    """Exercise the usual code paths once, so forked processes start warm.

    A first `ChatOpenAI`, chain and HTTP call cost ~0.3 s of imports and schema
    building; done here, no confined process pays it again. Every thread it starts
    has ended when it returns (the zygote must fork alone).
    """
    for module in PRELOAD:
        __import__(module)
    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from grading import child, services
    from memory_course.deprecations import silence_known_deprecations

    silence_known_deprecations()
    services.harden_lua()
    with tempfile.TemporaryDirectory(prefix="grading-warm-") as folder:
        listeners = []
        for name in ("redis.sock", "model.sock"):
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(Path(folder, name)))
            listener.listen(16)
            listeners.append(listener)
        fakes = services.Fakes(*listeners)
        try:
            prompt = ChatPromptTemplate.from_messages(
                [("system", "warm-up"), MessagesPlaceholder("history"), ("human", "{input}")]
            )
            history = InMemoryChatMessageHistory()
            llm = child.chat_model(str(Path(folder, "model.sock")))
            chain = RunnableWithMessageHistory(
                prompt | llm,
                lambda _session: history,
                input_messages_key="input",
                history_messages_key="history",
            )
            chain.invoke({"input": "Hello"}, config={"configurable": {"session_id": "warm"}})
            llm.http_client.close()  # ends the server's keep-alive thread
            client = child.redis_client(str(Path(folder, "redis.sock")), decode_responses=False)
            client.set("warm", "up")
            client.eval("return redis.call('GET', KEYS[1])", 1, "warm")
            client.close()
            fakes.dump()
        finally:
            fakes.stop()
    deadline = time.monotonic() + 2
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _launcher(plan: IsolationPlan, fds: list[int], control: socket.socket) -> None:
    """Enter namespaces, fork the confined process, report its pid, wait for it."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    namespaces = confine.enter_namespaces() if plan.namespaces else []
    pid = os.fork()
    if pid == 0:
        control.close()
        if plan.role == "service":
            from grading import services

            services.main(plan, fds, namespaces)
        else:
            from grading import child

            child.main(plan, fds, namespaces)
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"pid": pid}).encode())
    control.close()
    while True:
        try:
            os.waitpid(pid, 0)
            break
        except ChildProcessError:
            break
        except InterruptedError:
            continue


def main(control_fds: list[int]) -> None:
    controls = [socket.socket(fileno=fd) for fd in control_fds]
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    confine.close_fds_except({control.fileno() for control in controls})
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    confine.set_parent_death_signal()
    _warm_up()
    # Objects imported so far are never collected: forked processes then share their
    # pages instead of copying them when the collector walks them.
    gc.collect()
    gc.freeze()
    for control in controls:
        try:
            control.send(b'{"ready": true}')
        except OSError:
            controls.remove(control)
    while controls:
        _reap_children()
        try:
            readable, _, _ = select.select(controls, [], [], 1.0)
        except OSError:
            return
        for control in readable:
            try:
                message, fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 4)
            except OSError:
                message, fds = b"", []
            if not message:  # that shard is done
                controls.remove(control)
                control.close()
                continue
            if message == ATTACH:  # control sockets for more shards
                for fd in fds:
                    added = socket.socket(fileno=fd)
                    added.send(b'{"ready": true}')
                    controls.append(added)
                continue
            pid = os.fork()
            if pid == 0:
                try:
                    _launcher(IsolationPlan.from_json(message.decode()), fds, control)
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)


class Zygote:
    """The grader's handle on a zygote process (see the module docstring)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @staticmethod
    def launch(shards: int) -> tuple[subprocess.Popen[bytes], list[socket.socket]]:
        """Exec a zygote serving `shards` control sockets; the process and our ends."""
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(shards)]
        theirs = [pair[1].fileno() for pair in pairs]
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "grading.zygote", *map(str, theirs)],
                pass_fds=theirs,
                env=CONFINED_ENVIRONMENT,
                cwd=REPO_DIR,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            for _ours, their in pairs:
                their.close()
        return process, [ours for ours, _theirs in pairs]

    def start(self, timeout: float = 120.0) -> Zygote:
        """Exec a zygote of our own (a grading run started by hand) and wait for it."""
        self._process, (control,) = self.launch(1)
        return self.attach(control, timeout)

    def attach(self, control: socket.socket, timeout: float = 120.0) -> Zygote:
        """Use the zygote behind `control`, once it says it is ready."""
        self._control = control
        control.settimeout(timeout)
        try:
            ready = control.recv(1 << 10)
        except OSError as exc:
            self.stop()
            raise ZygoteError(f"the zygote did not start: {exc}") from None
        if not ready:
            self.stop()
            raise ZygoteError("the zygote exited while starting")
        return self

    def spawn(self, plan: IsolationPlan, fds: list[int], timeout: float = 10.0) -> int:
        if self._control is None:
            raise ZygoteError("the zygote is not running")
        socket.send_fds(self._control, [plan.to_json().encode()], fds)
        self._control.settimeout(timeout)
        try:
            reply = json.loads(self._control.recv(1 << 16))
        except (OSError, ValueError) as exc:
            raise ZygoteError(f"could not start a confined process: {exc}") from None
        return int(reply["pid"])

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            try:
                self._process.kill()
                self._process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._process = None


class ZygoteProcess:
    """A zygote this process started, handing control sockets to grading runs.

    The runner starts one per submission; a batch worker keeps one for all the
    submissions it grades (the zygote never runs student code, so nothing of one run
    can reach the next through it), which saves an interpreter start per submission.
    """

    def __init__(self) -> None:
        self.process, (self._master,) = Zygote.launch(1)

    def controls(self, count: int) -> list[socket.socket]:
        """`count` new control sockets, each answered "ready" once the zygote is warm."""
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(count)]
        try:
            socket.send_fds(self._master, [ATTACH], [theirs.fileno() for _, theirs in pairs])
        finally:
            for _ours, theirs in pairs:
                theirs.close()
        return [ours for ours, _theirs in pairs]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self._master.close()
        self.process.kill()
        self.process.wait()


if __name__ == "__main__":
    main([int(fd) for fd in sys.argv[1:]])
