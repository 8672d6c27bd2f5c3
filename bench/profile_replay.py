"""Where a playing replay frame's server time goes. Run: .venv/bin/python bench/profile_replay.py [SECONDS]

Serves the app offline (as tests/browser/serve_offline.py) with two probes added in the server process:

- every script run is profiled with cProfile on the script thread (``ScriptRunner._run_script``), and
  its wall time recorded, split into full runs and fragment runs (the playing player's frames);
- every message the server writes to the websocket (on the event-loop thread) is timed and sized.

Then headless Chromium opens the replay of the Feb 2026 crash (5m, 3 days), presses Play, lets it
play for SECONDS (default 20), pauses, and this prints: the fragment runs' wall time (median), the
event-loop time spent writing their messages, and the functions with the most cumulative time over
all fragment runs (pstats). Nothing here is production code; the load average is printed with it.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LINK = "/replay?src=btc_2026-02_crash&tf=5m&lb=3d"
TOP = 30


def serve_profiled(port: int, out: Path) -> None:
    """The app server with the probes (runs in the child process; blocks until terminated)."""
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    from tests.browser.serve_offline import cut_network

    lock = threading.Lock()
    count = [0]
    run_script, send = ScriptRunner._run_script, Runtime._send_message

    def profiled_run(self, rerun_data) -> None:
        kind = "fragment" if rerun_data.fragment_id_queue else "full"
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        try:
            run_script(self, rerun_data)
        finally:
            prof.disable()
            wall = time.perf_counter() - t0
            with lock:
                count[0] += 1
                n = count[0]
            prof.dump_stats(out / f"{kind}-{n:05d}.prof")
            with (out / "runs.jsonl").open("a") as f:
                f.write(json.dumps({"n": n, "kind": kind, "wall": wall, "end": time.time()}) + "\n")

    def timed_send(self, session_info, msg) -> None:
        t0 = time.perf_counter()
        send(self, session_info, msg)
        with (out / "sends.jsonl").open("a") as f:
            f.write(json.dumps({"t": time.time(), "s": time.perf_counter() - t0, "type": msg.WhichOneof("type"),
                                "bytes": msg.ByteSize()}) + "\n")

    ScriptRunner._run_script = profiled_run
    Runtime._send_message = timed_send
    from streamlit.web import cli

    cut_network()
    os.chdir(REPO)
    cli.main(["run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
              "--server.headless", "true"], prog_name="streamlit")


def play(url: str, seconds: float) -> tuple[float, float]:
    """Open the replay, press Play, play ``seconds``, pause; returns the playing interval (epoch s)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url + LINK)
        page.wait_for_selector(".st-key-replay_time [data-testid='stSliderThumbValue']", timeout=120_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
        page.get_by_role("button", name="Play", exact=True).click()
        page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
        start = time.time()
        page.wait_for_timeout(seconds * 1000)  # a profile of a fixed playing span, not a test
        end = time.time()
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
        browser.close()
    return start, end


def report(out: Path, start: float, end: float) -> None:
    """Print the fragment runs' times, their messages' send times and the top of their profile."""
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    frags = [r for r in runs if r["kind"] == "fragment" and start <= r["end"] <= end]
    fulls = [r for r in runs if r["kind"] == "full" and start <= r["end"] <= end]
    sends = [json.loads(line) for line in (out / "sends.jsonl").read_text().splitlines()]
    sends = [s for s in sends if start <= s["t"] <= end]
    if not frags:
        print("no fragment runs while playing")
        return
    print(f"while playing {end - start:.0f} s: {len(frags)} fragment runs ({len(frags) / (end - start):.2f}/s), "
          f"{len(fulls)} full runs; fragment run wall time median {1000 * statistics.median(r['wall'] for r in frags):.0f}"
          f" ms (min {1000 * min(r['wall'] for r in frags):.0f}, max {1000 * max(r['wall'] for r in frags):.0f})")
    print(f"event loop: {len(sends)} messages sent, {sum(s['s'] for s in sends) / len(frags) * 1000:.0f} ms and "
          f"{sum(s['bytes'] for s in sends) / len(frags) / 1024:.0f} kB per fragment run")
    stats = pstats.Stats(*(str(out / f"fragment-{r['n']:05d}.prof") for r in frags))
    print(f"\ncProfile of the {len(frags)} fragment runs (cumulative):")
    stats.sort_stats("cumulative").print_stats(TOP)
    print("by own time:")
    stats.sort_stats("tottime").print_stats(TOP // 2)


def main(seconds: float) -> None:
    import subprocess

    from bench.bench_replay import load
    from tests.browser.conftest import _free_port
    from tests.conftest import http_ok, wait_until

    with tempfile.TemporaryDirectory() as tmp:
        out, port = Path(tmp), _free_port()
        log = (out / "server.log").open("wb")
        proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(out)], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, env=dict(os.environ, LIQMAP_CACHE_DIR=str(out / "cache")))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: http_ok(url + "/_stcore/health"), 60, "the app server")
            print(f"load average at the start: {load()}")
            start, end = play(url, seconds)
        finally:
            proc.terminate()
            proc.wait(10)
        print(f"load average at the end: {load()}")
        report(out, start, end)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_profiled(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
