"""Real-browser fixtures: the app served on a free loopback port, and Debian's Chromium via Playwright.

Every test under tests/browser is marked ``browser`` here. Tests wait on conditions (Playwright's
``expect``/``wait_for*`` and the helpers below), never for a fixed time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import http_ok, wait_until

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "test-output" / "screenshots"
#: The heatmap page's picture (a canvas component) once it has painted (it sets data-paint).
PICTURE = ".lh-root[data-paint]"
CHART = "[data-testid='stVegaLiteChart']"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test collected under this folder ``browser`` (a conftest's hooks are per folder)."""
    item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def no_network():
    """Browser tests talk to the local server only; the app server itself runs offline here."""
    yield


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Start the app (`streamlit run app.py`, network cut: serve_offline.py) on a free port; yield its URL."""
    port = _free_port()
    workdir = tmp_path_factory.mktemp("server")
    env = dict(os.environ, LIQMAP_CACHE_DIR=str(workdir / "cache"))
    log = open(workdir / "server.log", "wb")  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("serve_offline.py")), str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError("the app server exited")
        return http_ok(url + "/_stcore/health")

    try:
        wait_until(healthy, 60, "the app server's health check")
    except (TimeoutError, RuntimeError) as error:
        proc.kill()
        log.close()
        pytest.fail(f"the app server did not start ({error}): "
                    + (workdir / "server.log").read_text(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (headless)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: scripts/test.sh installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page at a desktop size; its screenshots go under test-output/screenshots."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no running indicator), then for the
    browser to paint a frame after it (two animation frames: layout and paint have happened)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


# Distinct colours in a sample of every ``step``-th pixel of the ``i``-th element matching ``sel``
# (a chart canvas; 0 while it is missing). A blank chart has a handful, a painted heatmap hundreds.
_COLOURS = """([sel, i, step]) => { const c = document.querySelectorAll(sel)[i];
  if (!c || !c.width || !c.height) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();
  for (let k = 0; k < d.length; k += 4 * step) seen.add(d[k] + ',' + d[k+1] + ',' + d[k+2]);
  return seen.size; }"""
# A cheap fingerprint of what the ``i``-th canvas shows (a hash of a pixel sample and its size).
_FINGERPRINT = """([sel, i]) => { const c = document.querySelectorAll(sel)[i];
  if (!c || !c.width || !c.height) return '';
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let k = 0; k < d.length; k += 4 * 31) h = (Math.imul(h, 31) + d[k] * 65536 + d[k+1] * 256 + d[k+2]) | 0;
  return c.width + 'x' + c.height + ':' + h; }"""


def canvas_colours(page, selector: str, index: int, step: int = 97) -> int:
    """How many distinct colours a pixel sample of the ``index``-th ``selector`` canvas holds."""
    return page.evaluate(_COLOURS, [selector, index, step])


def wait_painted(page, selector: str, index: int, more_than: int, step: int = 97, timeout: float = 30_000) -> None:
    """Wait until the ``index``-th ``selector`` canvas shows more than ``more_than`` distinct colours."""
    page.wait_for_function(f"([sel, i, step, n]) => ({_COLOURS})([sel, i, step]) > n",
                           arg=[selector, index, step, more_than], polling=100, timeout=timeout)


def canvas_fingerprint(page, selector: str, index: int) -> str:
    """What the ``index``-th ``selector`` canvas shows now, as a short string ('' while it is missing)."""
    return page.evaluate(_FINGERPRINT, [selector, index])


def wait_repainted(page, selector: str, index: int, before: str, more_than: int = 50, timeout: float = 30_000) -> None:
    """Wait until the ``index``-th ``selector`` canvas shows something other than ``before`` (a
    fingerprint), painted with more than ``more_than`` colours (not a blank canvas mid-redraw)."""
    page.wait_for_function(
        f"([sel, i, before, n]) => {{ const now = ({_FINGERPRINT})([sel, i]);"
        f" return now !== '' && now !== before && ({_COLOURS})([sel, i, 97]) > n; }}",
        arg=[selector, index, before, more_than], polling=100, timeout=timeout)
