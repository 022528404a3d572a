"""The network guard under which notebooks run: loopback works, nothing else does.

No test here sends a packet off this machine: every non-loopback attempt goes through
the guard, and each test first proves the guard is in place before trying one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from memory_course.offline import offline_guard
from memory_course.tooling.notebook_runner import KERNEL_NAME

BLOCKED = ("192.0.2.10", 80)  # TEST-NET-1: documentation range, never a real host


def test_loopback_and_unix_addresses_pass():
    for address in [
        ("127.0.0.1", 6379),
        ("127.8.9.10", 1),
        ("::1", 80),
        ("localhost", 80),
        "/tmp/s",
    ]:
        offline_guard.check_address(address)


@pytest.mark.parametrize(
    "address", [BLOCKED, ("10.0.0.1", 5432), ("::ffff:192.0.2.10", 80), ("example.com", 443)]
)
def test_other_addresses_are_refused(address):
    with pytest.raises(offline_guard.OfflineViolation):
        offline_guard.check_address(address)


GUARDED_CHILD = """
import socket, sys
from memory_course.offline import offline_guard
assert offline_guard.is_installed(), "guard missing"
try:
    socket.create_connection(("192.0.2.10", 80), timeout=1)
except offline_guard.OfflineViolation:
    print("refused")
try:
    socket.getaddrinfo("example.com", 443)
except offline_guard.OfflineViolation:
    print("lookup refused")
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
socket.create_connection(listener.getsockname(), timeout=1).close()
print("loopback ok")
"""


def test_kernel_environment_guards_new_python_processes(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    env = offline_guard.kernel_environment()
    assert "OPENAI_API_KEY" not in env
    out = subprocess.run(
        [sys.executable, "-c", GUARDED_CHILD], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["refused", "lookup", "refused", "loopback", "ok"]


def test_notebook_kernels_start_offline():
    """A kernel started the way nbval and `make notebooks` start them is guarded."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import os, socket\n"
            "from memory_course.offline import offline_guard\n"
            "print(offline_guard.is_installed(), 'REDIS_URL' in os.environ)\n"
            "try:\n"
            "    socket.create_connection(('192.0.2.10', 80), timeout=1)\n"
            "except offline_guard.OfflineViolation as error:\n"
            "    print(type(error).__name__)"
        )
    ]
    client = NotebookClient(notebook, kernel_name=KERNEL_NAME, timeout=60)
    client.execute(env=offline_guard.kernel_environment({**os.environ, "REDIS_URL": "redis://x"}))
    assert notebook.cells[0].outputs[0]["text"].split() == ["True", "False", "OfflineViolation"]


def test_the_nbval_plugin_starts_kernels_offline():
    from nbval import kernel as nbval_kernel

    assert getattr(nbval_kernel.start_new_kernel, "__offline__", False)
