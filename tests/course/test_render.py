"""Each lesson opened in JupyterLab, in headless Chromium, shows its diagrams rendered.

Debian's `chromium` is driven by Playwright (no browser download). One screenshot per
notebook is kept under test-artifacts/render/ (not in git) for a person to look at.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from memory_course.offline.offline_guard import kernel_environment
from tests.services import in_ci

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = REPO / "test-artifacts" / "render"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},
}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _mermaid_blocks(path: Path) -> int:
    notebook = nbformat.read(path, as_version=4)
    return sum(
        len(re.findall(r"^```mermaid", cell.source, re.MULTILINE))
        for cell in notebook.cells
        if cell.cell_type == "markdown"
    )


def _plots(path: Path) -> int:
    notebook = nbformat.read(path, as_version=4)
    return sum(
        1
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )


@pytest.fixture(scope="module")
def lab_url():
    if CHROMIUM is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"CI needs the render check: {message}", pytrace=False)
        pytest.skip(message)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={REPO}",
        ],
        env=kernel_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/status", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not start")
        # Render every cell, not only those scrolled into view; no news pop-up.
        for plugin, settings in SETTINGS.items():
            httpx.put(
                f"{base}/lab/api/settings/{plugin}",
                headers=headers,
                timeout=10,
                content=json.dumps({"raw": json.dumps(settings)}),
            ).raise_for_status()
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def page(lab_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        yield context.new_page()
        browser.close()


def test_there_are_notebooks_to_render():
    assert len(NOTEBOOKS) == 12


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_renders_its_diagrams(notebook, lab_url, page):
    base, token = lab_url
    expected_diagrams, expected_plots = _mermaid_blocks(notebook), _plots(notebook)
    assert expected_diagrams + expected_plots > 0, f"{notebook.name} has no diagram or plot"
    page.goto(f"{base}/lab/tree/notebooks/{notebook.name}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    if expected_diagrams:
        page.wait_for_function(
            "n => [...document.querySelectorAll('.jp-RenderedMermaid img')]"
            ".filter(i => i.naturalWidth > 0).length >= n",
            arg=expected_diagrams,
            timeout=60_000,
        )
    if expected_plots:
        page.wait_for_function(
            "n => [...document.querySelectorAll('.jp-RenderedImage img')]"
            ".filter(i => i.naturalWidth > 0).length >= n",
            arg=expected_plots,
            timeout=60_000,
        )
    # A diagram mermaid cannot parse is marked as a warning and shows its source instead.
    errors = page.locator(".jp-RenderedMermaid.jp-mod-warning").count()
    assert errors == 0, f"{notebook.name}: a mermaid diagram failed to render"
    # The notebook scrolls inside JupyterLab, so bring the first figure into view.
    figure = ".jp-RenderedMermaid" if expected_diagrams else ".jp-RenderedImage"
    page.locator(figure).first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}.png"))
