"""Page speed, measured in headless Chromium and server-side. Run: .venv/bin/python bench/bench_page.py

1. Heatmap drawing: Vega-Lite rect per cell vs the raster layer, same grid, same run.
2. The heatmap page on the bundled data: time from navigation to painted and idle, warm (median of 5).
3. A control change: server-side rerun time of the page (AppTest), median of 7.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from serving import wait_healthy  # bench/serving.py (this script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run"]


def serve(script: str) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run script`` on a free port; return the process and its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    return wait_healthy(proc, f"http://127.0.0.1:{port}", seconds=40)


def painted(page, url: str, ready: str) -> float:
    """Seconds from navigation until ``ready`` is visible, a chart canvas exists and the app is idle."""
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas", timeout=120_000)
    page.wait_for_selector(ready, timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return time.perf_counter() - t0


def bench_render(browser) -> None:
    proc, url = serve("bench/render_app.py")
    try:
        print("1. Heatmap drawing in Chromium (navigation -> painted, median of 3; first load discarded)")
        for rows, cols in ((200, 288), (300, 1000)):
            for mode in ("rect", "raster"):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                target = f"{url}/?mode={mode}&rows={rows}&cols={cols}"
                painted(page, target, "text=rendered")
                times = [painted(page, target, "text=rendered") for _ in range(3)]
                page.close()
                print(f"   {rows:>4} x {cols:<5} cells  {mode:<6}  {statistics.median(times):6.2f} s")
    finally:
        proc.terminate()


def bench_page(browser) -> None:
    proc, url = serve("app.py")
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        target = url + "/?src=btc_2026-09"
        cold = painted(page, target, "text=Key levels")
        warm = [painted(page, target, "text=Key levels") for _ in range(5)]
        page.close()
        print("2. Heatmap page, bundled 3-day BTC sample, 5m candles, navigation -> painted and idle")
        print(f"   cold {cold:.2f} s; warm median {statistics.median(warm):.2f} s (min {min(warm):.2f}, max {max(warm):.2f})")
    finally:
        proc.terminate()


def bench_rerun() -> None:
    from streamlit.testing.v1 import AppTest

    from ui.sections.assumptions import editor_key
    from ui.state import KEYS, MODEL

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["src"] = "btc_2026-09"
    at.session_state[editor_key(expanded=False)] = True  # the sidebar's assumption controls drawn
    at.run()
    # Side, highlight and zoom restyle in the browser (no rerun: bench/bench_ux.py); these rerun the page.
    moves = {
        "timeframe": lambda v: at.selectbox(key=KEYS["tf"]).set_value(("15m", "1h", "5m")[v % 3]),
        "long share": lambda v: at.slider(key="sensitivity_sls").set_value(0.3 + 0.05 * (v % 8)),
        "model v1/v2": lambda v: at.radio(key=MODEL.widget_keys["model"]).set_value(("v1", "v2")[v % 2]),
    }
    print("3. Control change, server-side rerun of the heatmap page (AppTest, median of 7)")
    for name, move in moves.items():
        times = []
        for v in range(7):
            move(v)
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        print(f"   {name:<13} {statistics.median(times) * 1000:6.0f} ms")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        bench_render(browser)
        bench_page(browser)
        browser.close()
    bench_rerun()


if __name__ == "__main__":
    main()
