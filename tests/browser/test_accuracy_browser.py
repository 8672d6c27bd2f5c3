"""The Import & accuracy page in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.browser.conftest import OUTPUT, PICTURE, REPO, wait_idle, wait_painted
from tests.charts.test_accuracy_charts import force_orders

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart']"
UPLOAD_INPUT = "[data-testid='stFileUploader'] input[type='file']"
FIXTURES = REPO / "data" / "examples" / "binance_public"
CRASH_ORDERS = REPO.parent / "shared" / "data" / "btc_2024-03-05_cascade" / "bybit_btcusdt_liquidation_orders.csv"
TALL = {"width": 1500, "height": 3200}  # the app scrolls inside its own container: a tall window shows it all


def _open_accuracy(page, app_url: str, query: str) -> None:
    """Open the app once (so app.py has run in this server), then the accuracy page."""
    page.goto(f"{app_url}/?{query}")
    page.wait_for_selector(PICTURE, timeout=60_000)
    page.goto(f"{app_url}/accuracy?{query}")
    page.get_by_role("heading", name="Import & accuracy").wait_for(timeout=60_000)
    wait_idle(page)


def _painted_colours(page, index: int) -> int:
    """Distinct colours sampled from the ``index``-th chart canvas (a blank chart has a handful)."""
    return page.evaluate(
        """([sel, i]) => { const c = document.querySelectorAll(sel)[i]; const ctx = c.getContext('2d');
            const d = ctx.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
            for (let k = 0; k < d.length; k += 4 * 97) seen.add(d[k] + ',' + d[k+1] + ',' + d[k+2]);
            return seen.size; }""",
        [f"{CHART} canvas", index],
    )


def _body(page) -> str:
    return page.locator("[data-testid='stApp']").inner_text()


def test_upload_a_klines_and_metrics_pair_then_see_its_heatmap(page, app_url):
    """A user drops two Binance files, reads what they hold, uses them, and the heatmap shows those hours."""
    _open_accuracy(page, app_url, "src=btc_2026-09")
    page.locator(UPLOAD_INPUT).first.set_input_files(
        [str(FIXTURES / "BTCUSDT-1m-2026-02-05.csv"), str(FIXTURES / "BTCUSDT-metrics-2026-02-05.csv")])
    use = page.get_by_role("button", name="Use these files")
    use.wait_for(timeout=30_000)
    body = _body(page)
    assert "180 × 1m" in body and "180 of 180 candles" in body and "05 Feb 2026 21:00" in body
    page.screenshot(path=str(OUTPUT / "accuracy_upload_summary.png"))
    use.click()
    page.get_by_text("in use on every page").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator("[data-testid='stSidebar']").get_by_text("Uploaded files").count() >= 1
    page.get_by_text("See the heatmap of this period").click()
    page.wait_for_selector(PICTURE, timeout=60_000)
    wait_idle(page)
    assert "05 Feb 21:00 – 05 Feb 23:59 UTC" in _body(page)
    wait_painted(page, ".lh-root canvas", 0, more_than=50)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(OUTPUT / "accuracy_uploaded_heatmap.png"))


def test_realized_liquidations_are_drawn_and_scored(page, app_url, tmp_path):
    """With a liquidation file for the shown days, the page paints the overlay and the score."""
    times = pd.date_range("2026-02-05 12:07", periods=12, freq="2h", tz="UTC")
    rows = [("BTCUSDT", "SELL" if i % 2 else "BUY", 0.3 + i / 10, 66_000.0 - 400 * i, t) for i, t in enumerate(times)]
    path: Path = tmp_path / "btc_force_orders.csv"
    path.write_bytes(force_orders(rows))
    page.set_viewport_size(TALL)  # charts below the fold are drawn only when scrolled into view
    _open_accuracy(page, app_url, "src=btc_2026-02_crash&tf=15m&lb=3d")
    page.locator(UPLOAD_INPUT).nth(1).set_input_files(str(path))
    page.get_by_text("Hit share", exact=True).first.wait_for(timeout=60_000)
    # overlay, per-candle bars, calibration (Streamlit draws small charts as SVG, big ones on a canvas)
    page.wait_for_function(f"() => document.querySelectorAll(\"{CHART} canvas, {CHART} svg.marks\").length >= 3",
                           timeout=30_000)
    wait_idle(page)
    assert _painted_colours(page, 0) > 50
    assert re.search(r"12 of 12", _body(page))
    page.screenshot(path=str(OUTPUT / "accuracy_realized_overlay.png"))


@pytest.mark.skipif(not CRASH_ORDERS.is_file(), reason="../shared/data/btc_2024-03-05_cascade is not present")
def test_score_the_5_march_2024_crash(page, app_url):
    """The real Bybit orders of the 2024-03-05 cascade (read in place by the test; the app never reads
    ../shared), uploaded over that day's sample, score the model."""
    _open_accuracy(page, app_url, "src=btc_2024-03-05_crash&tf=1m&lb=24h&model=v1")  # the figures are v1's
    page.locator(UPLOAD_INPUT).nth(1).set_input_files(str(CRASH_ORDERS))
    page.get_by_text("Hit share", exact=True).first.wait_for(timeout=60_000)
    wait_idle(page)
    body = _body(page)
    assert "14.9%" in body and "1.49×" in body and "1,411 of 1,411" in body
    page.set_viewport_size(TALL)
    wait_idle(page)  # re-laid out for the taller window and painted
    page.screenshot(path=str(OUTPUT / "accuracy_crash_2024_03_05.png"))
