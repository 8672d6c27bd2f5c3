"""Heatmap and sensitivity page responsiveness in Chromium, as a user feels it (issue 15, item 4).

Run: .venv/bin/python bench/bench_ux.py [--runs 5] [--size 390x844] [--page sensitivity]

Serves the app offline (tests/browser/serve_offline.py) on the bundled 3-day BTC sample and measures,
median of ``--runs`` after one discarded warm-up:

* a control change -> final paint: side, highlight (brightness), zoom, timeframe (from the pick of
  the option, once the list is open);
* a fresh link -> painted heatmap (a new tab, i.e. a new session, in the same browser, on a warm
  server; the very first open, with the browser's cache empty, is printed apart).

``--page sensitivity``: the leverage-sensitivity page instead; its controls are the Highlight slider
(every picture is redrawn) and the "Assumption to sweep" pick (alternating between the two ladder
sweeps: once both are cached, only the sweep panels change), and "final paint" is the last pixel
change of any of its Vega charts (canvas pixels, or the DOM for the SVG ones).

"Final paint" is the last change of the heatmap's pixels (the first Vega chart, or the canvas
component): a script in the page compares a thumbnail of its canvases every frame and records when
it last changed. A run ends once the app is idle: no script running, no running indicator, no DOM change in the main
area and no pixel change for ``QUIET_MS`` (a condition waited on, not part of the figure).

Works on both versions of the page: the Altair page (Streamlit widgets) and the canvas component
(its own buttons, range input and mouse wheel), so before/after come from the same script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from serving import wait_healthy  # bench/serving.py (this script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
        "--disable-dev-shm-usage"]
QUERIES = {"heatmap": "/?src=btc_2026-09", "sensitivity": "/sensitivity?src=btc_2026-09"}
QUIET_MS = 1000
TARGETS = {"control": 1.0, "fresh link": 2.5}

# Runs in every document before the app's scripts: remember when the main area last changed
# (DOM changes) and when the heatmap's pixels last changed (a Vega chart updates its canvas in
# place, without any DOM change, so each frame a 48 x 32 thumbnail of the picture is compared).
OBSERVER = """
window.__lastMut = 0; window.__lastPaint = 0; window.__runsDone = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.attributeName === 'data-test-script-state' && r.target.getAttribute(r.attributeName) === 'notRunning')
      window.__runsDone += 1;  // Streamlit finished a script run
    const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    if (el && el.closest('[data-testid="stMain"]')) window.__lastMut = performance.now();
  }
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
const thumb = document.createElement('canvas'); thumb.width = 48; thumb.height = 32;
const tctx = thumb.getContext('2d', {willReadFrequently: true});
let last = '';
(function watch() {
  requestAnimationFrame(watch);  // first: an error below must not stop the watch
  const heat = document.querySelector(window.__allCharts ? '[data-testid="stMain"]' : '.lh-root, [data-testid="stVegaLiteChart"]');
  let sig = '';
  for (const c of heat ? heat.querySelectorAll('canvas') : []) {
    if (!c.width || !c.height) continue;
    tctx.clearRect(0, 0, 48, 32); tctx.drawImage(c, 0, 0, 48, 32);
    const px = tctx.getImageData(0, 0, 48, 32).data; let h = 0;
    for (let i = 0; i < px.length; i += 1) h = (h * 31 + px[i]) | 0;
    sig += c.width + 'x' + c.height + ':' + h + ';';
  }
  if (sig !== last) { last = sig; window.__lastPaint = performance.now(); }
})();
"""
LAST = "Math.max(window.__lastMut, window.__lastPaint)"
IDLE = f"""() => !document.querySelector('[data-testid="stStatusWidget"]')
  && document.querySelector('[data-testid="stApp"]').dataset.testScriptState !== 'running'
  && performance.now() - Math.max({LAST}, window.__t0 || 0) > {QUIET_MS}"""
COMPONENT = ".lh-root"
# The clock of one input: its start, and what was there before it (restarted by an input that
# needs a preparatory step, e.g. opening a list, right before the input itself).
START = """window.__t0 = performance.now(); window.__lastMut = 0; window.__lastPaint = 0;
  window.__runs0 = window.__runsDone; const c = document.querySelector('.lh-root');
  window.__paint0 = c ? c.dataset.paint : null;"""


def serve() -> tuple[subprocess.Popen, str]:
    """The app on a free loopback port with the network cut (as the browser tests run it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LIQMAP_CACHE_DIR=tempfile.mkdtemp(prefix="bench_ux_"))
    proc = subprocess.Popen([sys.executable, "tests/browser/serve_offline.py", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_healthy(proc, f"http://127.0.0.1:{port}", seconds=60)


def heatmap_ready(page) -> None:
    """Wait until a heatmap picture (component canvas or Vega chart) is painted and the app is idle."""
    page.wait_for_selector(f"{COMPONENT}[data-paint], [data-testid='stVegaLiteChart'] canvas", timeout=120_000)
    page.wait_for_function(IDLE, timeout=120_000)


def open_page(context, url: str, page_name: str):
    """A new tab on ``page_name``'s link, its paint watch installed; waits until it is painted and idle."""
    page = context.new_page()
    if page_name != "heatmap":
        page.add_init_script("window.__allCharts = true;")
    page.add_init_script(OBSERVER)
    page.goto(url + QUERIES[page_name])
    heatmap_ready(page)
    return page


def fresh_link(context, url: str, page_name: str) -> float:
    """Seconds from opening the link in a new tab to the last paint of the heatmap.

    A new tab is a new Streamlit session (nothing of the page's state is reused); the browser's
    HTTP cache is the context's, as for a user clicking a link in the browser they already use
    (the very first open, with an empty cache, is reported apart)."""
    page = open_page(context, url, page_name)
    seconds = page.evaluate("() => window.__lastPaint") / 1000
    page.close()
    return seconds


def timed(page, action, expect: str) -> float:
    """Seconds from ``action`` (a user input) to the heatmap's last pixel change.

    ``expect`` is what the input causes first: "rerun" (a Streamlit script run finishes), "timeframe"
    (the link shows the chosen timeframe) or "paint" (the canvas component repaints by itself);
    after that, the app must go idle.
    """
    page.evaluate(f"() => {{ {START} }}")
    action()
    if expect == "rerun":
        page.wait_for_function("() => window.__runsDone > window.__runs0", timeout=120_000)
    elif expect == "timeframe":  # the link follows the sidebar at the start of the run
        page.wait_for_function("() => (new URLSearchParams(location.search).get('tf') || '5m') === window.__tf",
                               timeout=120_000)
    else:
        page.wait_for_function("() => document.querySelector('.lh-root').dataset.paint !== window.__paint0",
                               timeout=120_000)
    page.wait_for_function(IDLE, timeout=120_000)
    # The sensitivity page's small charts are SVG (no canvas to watch): their last DOM change counts too.
    return page.evaluate("() => Math.max((window.__allCharts ? Math.max(window.__lastPaint, window.__lastMut)"
                         " : window.__lastPaint) - window.__t0, 0)") / 1000


def controls(page) -> dict:
    """One input per control, alternating between two values on each call."""
    new = page.locator(COMPONENT).count() > 0
    flip = {"n": 0}

    def toggle(a, b):
        flip["n"] += 1
        return a if flip["n"] % 2 else b

    def side():
        if new:
            page.locator(f"{COMPONENT} button[data-side='{toggle('long', 'both')}']").click()
        else:
            page.get_by_text(toggle("Longs only", "Longs + shorts"), exact=True).click()

    def slider(label):
        thumb = page.locator("[data-testid='stSlider']").filter(has_text=label).locator("input[type='range']")
        thumb.focus()
        thumb.press(toggle("ArrowLeft", "ArrowRight"))

    def highlight():
        if new:
            rng = page.locator(f"{COMPONENT} input[type='range']")
            rng.focus()
            rng.press(toggle("ArrowRight", "ArrowLeft"))
        else:
            slider("Brightness")

    def zoom():
        if new:
            box = page.locator(f"{COMPONENT} canvas.lh-heat").bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
            page.mouse.wheel(0, toggle(-240, 240))
        else:
            slider("Price range shown")

    def timeframe():
        box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Timeframe")
        box.click()
        tf = toggle("15m", "5m")
        option = page.get_by_role("option", name=tf, exact=True)
        option.click(trial=True)  # waits until the option is visible, stable and can take the click
        where = option.bounding_box()
        # The change is the pick, not the opening of the list: the clock starts when the option is
        # there to click (opening the list is Streamlit's own menu, 0.3-0.6 s under load, and was
        # counted before), and the pick is a plain mouse click, as a user's (a locator click would
        # add Playwright's own checks to the figure).
        page.evaluate(f"(tf) => {{ window.__tf = tf; {START} }}", tf)
        page.mouse.click(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)

    first = "paint" if new else "rerun"
    return {"side": (side, first), "highlight": (highlight, first), "zoom": (zoom, first),
            "timeframe": (timeframe, "timeframe")}


def sensitivity_controls(page) -> dict:
    """The sensitivity page's inputs, each alternating between two values (the first differs from the
    page's default)."""
    calls = {"highlight": 0, "sweep": 0}

    def highlight():
        calls["highlight"] += 1
        thumb = page.get_by_role("slider", name="Highlight (subtle → strong)")
        thumb.focus()
        thumb.press("ArrowRight" if calls["highlight"] % 2 else "ArrowLeft")

    def sweep():
        calls["sweep"] += 1
        name = "Leverage spread (v2 ladder)" if calls["sweep"] % 2 else "Median leverage (v2 ladder)"
        page.locator("[data-testid='stSelectbox']").filter(has_text="Assumption to sweep").click()
        page.keyboard.type(name.split()[0])  # the list is long and scrolled: filter it, as a user would
        option = page.get_by_role("option", name=name, exact=True)
        option.click(trial=True)  # the clock starts at the pick, as for the heatmap's timeframe
        where = option.bounding_box()
        page.evaluate(f"() => {{ {START} }}")
        page.mouse.click(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)

    return {"highlight": (highlight, "rerun"), "sweep": (sweep, "rerun")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1440x900", help="viewport WIDTHxHEIGHT, e.g. 390x844 (a phone)")
    parser.add_argument("--page", choices=tuple(QUERIES), default="heatmap")
    args = parser.parse_args()
    runs, (width, height) = args.runs, map(int, args.size.split("x"))
    from playwright.sync_api import sync_playwright

    proc, url = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            context = browser.new_context(viewport={"width": width, "height": height})
            cold = fresh_link(context, url, args.page)  # first open: caches fill; reported, not in the median
            fresh = [fresh_link(context, url, args.page) for _ in range(runs)]
            page = open_page(context, url, args.page)
            kind = "canvas component" if page.locator(COMPONENT).count() else "Altair charts"
            inputs = controls(page) if args.page == "heatmap" else sensitivity_controls(page)
            results = {}
            phone = width < 640  # the sidebar (timeframe) is behind the menu button there: not a one-step control
            for name, (act, expect) in inputs.items():
                if phone and name == "timeframe":
                    continue
                timed(page, act, expect)  # warm-up (the first 15m view computes its heatmap)
                results[name] = [timed(page, act, expect) for _ in range(runs)]
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"{args.page.title()} page ({kind}), bundled 3-day BTC 5m sample, Chromium {width}x{height}, median of {runs}")
    for name, times in results.items():
        med = statistics.median(times)
        verdict = "ok" if med <= TARGETS["control"] else "OVER"
        print(f"  {name:<11} control -> final paint  {med:5.2f} s  (runs {' '.join(f'{t:.2f}' for t in times)}; "
              f"target <= {TARGETS['control']:.1f} s: {verdict})")
    med = statistics.median(fresh)
    verdict = "ok" if med <= TARGETS["fresh link"] else "OVER"
    print(f"  fresh link -> painted heatmap  {med:5.2f} s  (min {min(fresh):.2f}, max {max(fresh):.2f}; first open "
          f"{cold:.2f} s; target <= {TARGETS['fresh link']:.1f} s: {verdict})")


if __name__ == "__main__":
    main()
