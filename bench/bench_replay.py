"""Replay frame rate, measured in headless Chromium. Run: .venv/bin/python bench/bench_replay.py [RUNS]

The app is served offline (tests/browser/serve_offline.py) and the Cascade replay page opened on the
Feb 2026 crash (5m candles, 3 days). Each run presses Play and times the next FRAMES frames three ways:

- sent: frames the server sent (websocket messages carrying a new replay caption);
- shown: frames that reached the screen (changes of the caption's text in the page);
- server: the server's time per frame, read off the websocket: from the browser's request to rerun
  the player fragment (or the end of the previous run, if later) to the server's "fragment run
  finished" message; and the run's own messages' size (what the browser has to take in per frame).

It prints each run and the medians, and the load average before and after. The page asks for
``ui.sections.replay.FPS`` frames a second.
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

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.conftest import http_ok, wait_until  # noqa: E402
from ui.sections.replay import FPS  # noqa: E402

LINK = "/replay?src=btc_2026-02_crash&tf=5m&lb=3d"
FRAMES = 10
STALL_MS = 90_000  # no FRAMES new frames within this: the run is reported as stalled
CAPTION = "UTC candle · close"
# Counts the caption's changes (one per frame that reached the screen) in window.__shown and keeps
# the latest text in window.__caption.
WATCH = """() => { window.__shown = 0; let last = '';
  const look = () => { const c = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
      .map(e => e.innerText).find(t => t.includes('UTC candle · close'));
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


def parse_forward(payload: bytes) -> ForwardMsg | None:
    """The server's websocket message, or None when it is not a ForwardMsg."""
    msg = ForwardMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # noqa: BLE001 - not a ForwardMsg
        return None
    return msg


def sent_captions(msg: ForwardMsg) -> int:
    """1 if this message from the server carries a replay caption, else 0."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return 0
    element = msg.delta.new_element
    return int(element.WhichOneof("type") == "markdown" and CAPTION in element.markdown.body)


def fragment_finished(msg: ForwardMsg) -> bool:
    """True for the server's "fragment run finished" message."""
    return msg.WhichOneof("type") == "script_finished" and \
        msg.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


def fragment_request(payload: bytes) -> bool:
    """True when the browser's websocket message asks for a fragment rerun."""
    msg = BackMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # noqa: BLE001
        return False
    return msg.WhichOneof("type") == "rerun_script" and bool(msg.rerun_script.fragment_id)


class Wire:
    """Watches one page's websocket: captions sent, fragment requests and finished fragment runs."""

    def __init__(self) -> None:
        self.captions = 0
        self.pending: float | None = None  # time of the earliest request not yet served
        self.last_done = 0.0
        self.bytes_now = 0
        self.runs: list[tuple[float, int]] = []  # (server seconds, bytes sent) per fragment run

    def received(self, payload) -> None:
        if not isinstance(payload, bytes):
            return
        msg = parse_forward(payload)
        if msg is None:
            return
        self.bytes_now += len(payload)
        self.captions += sent_captions(msg)
        if fragment_finished(msg):
            now = time.perf_counter()
            if self.pending is not None:
                self.runs.append((now - max(self.pending, self.last_done), self.bytes_now))
            self.pending, self.last_done, self.bytes_now = None, now, 0

    def sent(self, payload) -> None:
        if isinstance(payload, bytes) and fragment_request(payload) and self.pending is None:
            self.pending = time.perf_counter()


def one_run(browser, url: str) -> dict[str, float]:
    """Open the replay, press Play, time FRAMES shown frames; return frames per second and server ms."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    wire = Wire()

    def watch(ws) -> None:
        ws.on("framereceived", wire.received)
        ws.on("framesent", wire.sent)

    page.on("websocket", watch)
    try:
        page.goto(url + LINK)
        # The replay's own time slider (the sidebar has sliders too, ready earlier).
        page.wait_for_selector(".st-key-replay_time [data-testid='stSliderThumbValue']", timeout=120_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
        page.evaluate(WATCH)
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function("() => window.__shown >= 2", timeout=120_000)  # playing: first frames shown
        shown0, sent0, runs0, t0 = page.evaluate("window.__shown"), wire.captions, len(wire.runs), time.perf_counter()
        try:
            page.wait_for_function(f"() => window.__shown >= {shown0 + FRAMES}", timeout=STALL_MS)
        except PlaywrightTimeout:
            # the replay stopped playing (or drew nothing new for STALL_MS): report it, do not hang
            return {"stalled": True, "shown": page.evaluate("window.__shown") - shown0,
                    "button": page.locator(".st-key-replay_play button").inner_text()}
        elapsed = time.perf_counter() - t0
        runs = wire.runs[runs0:]
        page.get_by_role("button", name="Pause").click()
        return {"shown_fps": FRAMES / elapsed, "sent_fps": (wire.captions - sent0) / elapsed,
                "server_ms": 1000 * statistics.median(r[0] for r in runs) if runs else float("nan"),
                "kb": statistics.median(r[1] for r in runs) / 1024 if runs else float("nan")}
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
                print(f"load average at the start: {load()}", flush=True)
                results = []
                for i in range(runs):
                    r = one_run(browser, url)
                    if r.get("stalled"):
                        print(f"run {i + 1}: STALLED: {r['shown']} frames shown in {STALL_MS / 1000:.0f} s, the "
                              f"button says {r['button']!r}", flush=True)
                        continue
                    results.append(r)
                    print(f"run {i + 1}: {r['shown_fps']:.2f} frames/s shown, {r['sent_fps']:.2f} frames/s sent, "
                          f"server {r['server_ms']:.0f} ms and {r['kb']:.0f} kB per frame (median)", flush=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"load average at the end: {load()}")
    if not results:
        print("every run stalled")
        return
    print(f"median of {len(results)} (of {runs} runs): {statistics.median(r['shown_fps'] for r in results):.2f} frames/s reached the "
          f"screen, {statistics.median(r['sent_fps'] for r in results):.2f} sent by the server, server "
          f"{statistics.median(r['server_ms'] for r in results):.0f} ms and "
          f"{statistics.median(r['kb'] for r in results):.0f} kB per frame; the page asks for {FPS}/s")


def load() -> str:
    """The load averages (1, 5, 15 min) and the core count."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
