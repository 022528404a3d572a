"""`make lab` serves JupyterLab on the course, headless, on the embedded defaults."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_make_lab_serves_the_notebooks():
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "REDIS_URL"}}
    lab = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "lab",
            f"LAB_PORT={port}",
            f"LAB_ARGS=--IdentityProvider.token={token}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        listing = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/contents/notebooks",
                    headers={"Authorization": f"token {token}"},
                    timeout=2,
                )
                if response.status_code == 200:
                    listing = response.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        if listing is None:
            _stop(lab)
            pytest.fail(
                "JupyterLab did not answer:\n" + lab.stdout.read().decode(errors="replace")[-3000:]
            )
        names = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
        assert expected and expected <= names
        kernels = httpx.get(
            f"http://127.0.0.1:{port}/api/kernelspecs",
            headers={"Authorization": f"token {token}"},
            timeout=5,
        ).json()
        assert "memory-course" in kernels["kernelspecs"]
    finally:
        _stop(lab)


def _stop(process: subprocess.Popen) -> None:
    """Stop make and the JupyterLab it started (one process group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
