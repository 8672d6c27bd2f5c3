"""Replay frame rate, measured in headless Chromium. Run: .venv/bin/python bench/bench_replay.py [RUNS]

The app is served offline (tests/browser/serve_offline.py) and the Cascade replay page opened on the
Feb 2026 crash (5m candles, 3 days). Each run presses Play and times the next FRAMES frames three ways:

- sent: frames the server sent (websocket messages carrying a new replay caption);
- shown: frames that reached the screen (changes of the caption's text in the page);
- the server's own "frame drawn in N ms (median)" from the caption (the fragment's Python time).

It prints each run and the medians. The page asks for 5 frames a second (app_pages/replay.py FPS).
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.conftest import http_ok, wait_until  # noqa: E402

LINK = "/replay?src=btc_2026-02_crash&tf=5m&lb=3d"
FRAMES = 10
CAPTION = "UTC: price"
# Counts the caption's changes (one per frame that reached the screen) in window.__shown and keeps
# the latest text in window.__caption.
WATCH = """() => { window.__shown = 0; let last = '';
  const look = () => { const c = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
      .map(e => e.innerText).find(t => t.includes('UTC: price'));
    if (c && c !== last) { last = c; window.__caption = c; window.__shown += 1; } };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""


def serve(workdir: Path) -> tuple[subprocess.Popen, str]:
    """The app served offline on a free port (as in the browser tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "browser" / "serve_offline.py"), str(port)],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, LIQMAP_CACHE_DIR=str(workdir / "cache")))
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: http_ok(url + "/_stcore/health"), 60, "the app server")
    return proc, url


def sent_captions(payload: bytes) -> int:
    """1 if this websocket message from the server carries a replay caption, else 0."""
    msg = ForwardMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # noqa: BLE001 - not a ForwardMsg
        return 0
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return 0
    element = msg.delta.new_element
    return int(element.WhichOneof("type") == "markdown" and CAPTION in element.markdown.body)


def one_run(browser, url: str) -> dict[str, float]:
    """Open the replay, press Play, time FRAMES shown frames; return frames per second and server ms."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    sent = [0]
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: sent.__setitem__(0, sent[0] + sent_captions(payload))
        if isinstance(payload, bytes) else None))
    try:
        page.goto(url + LINK)
        page.wait_for_selector("[data-testid='stSliderThumbValue']", timeout=120_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
        page.evaluate(WATCH)
        page.get_by_role("button", name="Play").click()
        page.wait_for_function("() => window.__shown >= 2", timeout=120_000)  # playing: first frames shown
        shown0, sent0, t0 = page.evaluate("window.__shown"), sent[0], time.perf_counter()
        page.wait_for_function(f"() => window.__shown >= {shown0 + FRAMES}", timeout=300_000)
        elapsed = time.perf_counter() - t0
        caption = page.evaluate("window.__caption")
        page.get_by_role("button", name="Pause").click()
        server_ms = float(caption.split("frame drawn in ")[1].split(" ms")[0])
        return {"shown_fps": FRAMES / elapsed, "sent_fps": (sent[0] - sent0) / elapsed, "server_ms": server_ms}
    finally:
        context.close()


def main(runs: int) -> None:
    """``runs`` measurements on one server; prints each and the medians."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("chromium is not installed (scripts/test.sh installs Debian's chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
                results = []
                for i in range(runs):
                    r = one_run(browser, url)
                    results.append(r)
                    print(f"run {i + 1}: {r['shown_fps']:.2f} frames/s shown, {r['sent_fps']:.2f} frames/s sent, "
                          f"server frame {r['server_ms']:.0f} ms (median)", flush=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"median of {runs}: {statistics.median(r['shown_fps'] for r in results):.2f} frames/s reached the "
          f"screen, {statistics.median(r['sent_fps'] for r in results):.2f} sent by the server, server frame "
          f"{statistics.median(r['server_ms'] for r in results):.0f} ms; the page asks for 5/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
