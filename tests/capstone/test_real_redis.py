"""The reference `ChatApplication` against a real Redis that fails mid-conversation.

Each test starts its own `redis-server` on a free loopback port (never the shared
one), then stops it (`SIGKILL`) or freezes it (`SIGSTOP`) and brings it back on the
same port. The app is built from a URL, so it uses its own client with bounded
timeouts: it must raise `StorageUnavailableError` instead of hanging, store nothing
half-way, and work again once the server is back, without being recreated. No test
measures time; the pytest timeout catches a hang.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis

from memory_course import RecordingChatModel
from solutions.chat_application import (
    ChatApplication,
    SessionNotFoundError,
    StorageUnavailableError,
)
from tests.capstone.support import CallbackModel
from tests.services import in_ci

pytestmark = [pytest.mark.redis_server, pytest.mark.timeout(60)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisProcess:
    """A throw-away `redis-server` on one port, without persistence."""

    def __init__(self, executable: str, port: int) -> None:
        self.executable = executable
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            for _ in range(400):
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
                try:
                    probe.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.025)
            raise RuntimeError(f"redis-server did not answer on port {self.port}")
        finally:
            probe.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot die
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def redis_process():
    executable = shutil.which("redis-server")
    if executable is None:
        message = "redis-server is not on PATH; the outage tests start their own server"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = RedisProcess(executable, _free_port())
    server.start()
    yield server
    server.kill()


def test_server_killed_between_turns(redis_process):
    model = RecordingChatModel()
    app = ChatApplication(redis_process.url, llm=model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")

    redis_process.kill()
    calls = {
        "chat": lambda: app.chat(session_id, "What's my name?"),
        "get_session_info": lambda: app.get_session_info(session_id),
        "list_sessions": lambda: app.list_sessions("alice"),
        "create_session": lambda: app.create_session("alice"),
        "delete_session": lambda: app.delete_session(session_id),
        "export_session": lambda: app.export_session(session_id),
    }
    for name, call in calls.items():
        with pytest.raises(StorageUnavailableError) as raised:
            call()
        assert isinstance(raised.value.__cause__, redis.ConnectionError), name
    assert len(model.prompts) == 1  # the failed turn never reached the model

    redis_process.start()  # same port, empty: this server keeps nothing on disk
    assert app.get_session_info(session_id) is None
    with pytest.raises(SessionNotFoundError):
        app.chat(session_id, "Hello again")
    fresh = app.create_session("alice")
    app.chat(fresh, "Hi, I'm Alex")
    assert "Alex" in app.chat(fresh, "What's my name?")
    assert [i.session_id for i in app.list_sessions("alice")] == [fresh]


def test_server_killed_while_the_model_answers(redis_process):
    """The write fails after the model replied: an error, not a silent lost turn."""
    model = CallbackModel()
    app = ChatApplication(redis_process.url, llm=model)
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")

    model.on_call = redis_process.kill
    with pytest.raises(StorageUnavailableError):
        app.chat(session_id, "What's my name?")
    model.on_call = None

    redis_process.start()
    fresh = app.create_session("alice")
    assert app.chat(fresh, "Hello")
    assert app.get_session_info(fresh).message_count == 2


def test_frozen_server_times_out_and_the_conversation_survives(redis_process):
    model = RecordingChatModel()
    app = ChatApplication(
        f"{redis_process.url}?socket_timeout=0.5&socket_connect_timeout=0.5", llm=model
    )
    session_id = app.create_session("alice")
    app.chat(session_id, "Hi, I'm Alex")

    redis_process.freeze()
    try:
        with pytest.raises(StorageUnavailableError) as raised:
            app.chat(session_id, "What's my name?")
        assert isinstance(raised.value.__cause__, redis.TimeoutError)
        with pytest.raises(StorageUnavailableError):
            app.list_sessions("alice")
    finally:
        redis_process.thaw()

    assert len(model.prompts) == 1
    info = app.get_session_info(session_id)
    assert info.message_count == 2  # nothing of the failed turn was stored
    assert "Alex" in app.chat(session_id, "What's my name?")
    assert app.get_session_info(session_id).message_count == 4
    assert [i.session_id for i in app.list_sessions("alice")] == [session_id]
