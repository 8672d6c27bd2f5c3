"""The heatmap page in a real browser (Debian's Chromium via Playwright): the canvas picture."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from core.data.load import load_market
from core.format import format_usd
from core.grid import band_levels, compute_heatmap, display_grid
from core.sensitivity_state import SensitivityState
from core.viewstate import View
from tests.browser.conftest import OUTPUT, wait_idle
from ui.cache import memory_span

pytestmark = pytest.mark.browser

ROOT = ".lh-root"
HEAT = f"{ROOT} canvas.lh-heat"
PROFILE = f"{ROOT} canvas.lh-prof"
SAMPLE = "/?src=btc_2026-09"
# Plot geometry of the picture (ui/components/heatmap.js PAD): price axis at the right, titles on top.
PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 18, 22


@pytest.fixture(scope="module")
def grid():
    """The display grid the page shows for the sample under the default assumptions."""
    market = load_market(symbol="BTC/USDT:USDT", timeframe="5m", lookback="3d", source="bundled", dataset="btc_2026-09",
                         memory=memory_span(View().mem))  # as the page loads it (with the model's memory)
    return display_grid(compute_heatmap(market, SensitivityState().to_model(), price_bins=500))


def _open(page, url: str) -> None:
    page.goto(url)
    expect(page.locator(ROOT)).to_have_attribute("data-paint", re.compile(r"\d+"), timeout=60_000)
    wait_idle(page)


def _paint(page) -> str:
    return page.locator(ROOT).get_attribute("data-paint")


def _pixels(page, selector: str = HEAT) -> bytes:
    return page.locator(selector).screenshot()


def _point(page, col: float, price: float) -> tuple[float, float]:
    """Page coordinates of (column, price) under the picture's current view."""
    box = page.locator(HEAT).bounding_box()
    view = page.evaluate(f"() => document.querySelector('{ROOT}').picture.view")
    w, h = box["width"] - PAD_RIGHT, box["height"] - PAD_TOP - PAD_BOTTOM
    x = box["x"] + (col - view["c0"]) / (view["c1"] - view["c0"]) * w
    y = box["y"] + PAD_TOP + (view["p1"] - price) / (view["p1"] - view["p0"]) * h
    return x, y


def _count_frames(page) -> list:
    """Websocket frames the browser sends to the server (a rerun request is one)."""
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def test_crosshair_reads_time_price_longs_and_shorts_in_the_page_unit(page, app_url, grid):
    """Hovering the last candle's brightest long band reads the same USD as its key level and profile bar."""
    _open(page, app_url + SAMPLE)
    row = int(np.argmax(grid.long[:, -1]))
    band_mid = (grid.price_edges[row] + grid.price_edges[row + 1]) / 2
    x, y = _point(page, grid.long.shape[1] - 0.5, band_mid)
    page.mouse.move(x, y)
    tip = page.locator(f"{ROOT} .lh-tip")
    expect(tip).to_be_visible()
    expected = format_usd(grid.long[row, -1])
    band = f"${grid.band_width:,.0f}"  # the display band the grid chose (the page states it)
    expect(tip.locator("[data-field=longs]")).to_have_text(f"{expected} per {band} band")
    expect(tip.locator("[data-field=shorts]")).to_have_text(re.compile(rf"^\$[\d.]+[KMB]? per {re.escape(band)} band$"))
    expect(tip.locator("[data-field=time]")).to_have_text(re.compile(r"24 Sep 02:55 – 03:00 UTC"))
    expect(tip.locator("[data-field=price]")).to_contain_text(f"{grid.price_edges[row]:,.0f} – {grid.price_edges[row + 1]:,.0f}")
    # the same band is the strongest long key level: its tag says the same amount
    top_long = band_levels(grid, 8).query("side == 'long'").iloc[0]
    assert top_long["usd"] == grid.long[row, -1] and format_usd(top_long["usd"]) == expected
    page.screenshot(path=str(OUTPUT / "heatmap_crosshair.png"))


def test_side_and_highlight_repaint_in_the_browser_without_a_rerun(page, app_url):
    """'Longs' and 'Highlight' repaint the picture with no message to the server; the link keeps them later."""
    sent = _count_frames(page)
    _open(page, app_url + SAMPLE)
    for action in (lambda: page.locator(f"{ROOT} button[data-side=long]").click(),
                   lambda: page.locator(f"{ROOT} input[type=range]").fill("80")):
        before, paint = _pixels(page), _paint(page)
        sent.clear()
        action()
        expect(page.locator(ROOT)).not_to_have_attribute("data-paint", paint)
        assert not sent, "a restyle must not ask the server for anything"
        assert _pixels(page) != before
    expect(page.locator(f"{ROOT} button[data-side=long]")).to_have_attribute("aria-pressed", "true")
    # the settled choice comes back (debounced) to the link, through a fragment rerun that repaints nothing
    paint = _paint(page)
    expect(page).to_have_url(re.compile(r"side=long.*hl=80|hl=80.*side=long"), timeout=20_000)
    wait_idle(page)
    assert sent, "the report reached the server (so the frame counter above does count frames)"
    assert _paint(page) == paint
    expect(page.locator(f"{ROOT} .lh-legend-text")).to_contain_text("USD of longs")


def test_wheel_zooms_the_visible_range_and_shows_candles(page, app_url):
    """Scrolling zooms in around the cursor (time and price); far enough in, the price is drawn as candles."""
    _open(page, app_url + SAMPLE)
    root = page.locator(ROOT)
    expect(root).to_have_attribute("data-price-style", "line")
    view = page.evaluate(f"() => ({{...document.querySelector('{ROOT}').picture.view}})")
    box = page.locator(HEAT).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5)
    for _ in range(6):
        paint = _paint(page)
        page.mouse.wheel(0, -300)
        expect(root).not_to_have_attribute("data-paint", paint)
    zoomed = page.evaluate(f"() => ({{...document.querySelector('{ROOT}').picture.view}})")
    assert zoomed["c1"] - zoomed["c0"] < (view["c1"] - view["c0"]) / 5
    assert zoomed["p1"] - zoomed["p0"] < (view["p1"] - view["p0"]) / 5
    expect(root).to_have_attribute("data-price-style", "candles")
    page.screenshot(path=str(OUTPUT / "heatmap_zoomed_candles.png"))
    page.locator(HEAT).dblclick()
    expect(root).to_have_attribute("data-price-style", "line")


def test_phone_width_stacks_the_pictures_without_sideways_scroll(browser, app_url):
    """At 390x844 nothing scrolls sideways and the liquidation map sits under the heatmap."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        _open(page, app_url + SAMPLE)
        assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
        heat, prof = page.locator(HEAT).bounding_box(), page.locator(PROFILE).bounding_box()
        assert heat["x"] >= 0 and heat["x"] + heat["width"] <= 390
        assert prof["y"] >= heat["y"] + heat["height"] and prof["x"] + prof["width"] <= 390
        page.screenshot(path=str(OUTPUT / "heatmap_390x844.png"))
    finally:
        context.close()


def test_laptop_screen_shows_the_whole_heatmap_without_scrolling(browser, app_url):
    """At 1440x900 the heatmap, its map and its legend are on screen before any scroll."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _open(page, app_url + SAMPLE)
        heat = page.locator(HEAT).bounding_box()
        legend = page.locator(f"{ROOT} .lh-legend").bounding_box()
        prof = page.locator(PROFILE).bounding_box()
        assert heat["y"] + heat["height"] <= 900 and legend["y"] + legend["height"] <= 900
        assert abs(prof["y"] - heat["y"]) < 1 and prof["x"] > heat["x"] + heat["width"] - 1  # side by side
        page.screenshot(path=str(OUTPUT / "heatmap_1440x900.png"))
    finally:
        context.close()


def test_default_view_offline_shows_the_bundled_sample(page, app_url):
    """With no network, the first view is the bundled sample, labelled as such, with no error."""
    _open(page, app_url + "/")
    body = page.locator("[data-testid='stApp']").inner_text()
    assert "Bundled sample" in body
    assert "Traceback" not in body and page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(OUTPUT / "heatmap_default_offline.png"), full_page=True)


def test_how_it_works_page_loads(page, app_url):
    page.goto(app_url + "/how_it_works")
    page.wait_for_selector(".katex", state="attached", timeout=60_000)
    wait_idle(page)
    assert page.locator(".katex").count() >= 3
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(OUTPUT / "how_it_works.png"), full_page=True)
