"""The heatmap picture's own PNG export and its touch gestures, in a real browser (Debian's Chromium)."""

from __future__ import annotations

import io
import re
import struct

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import OUTPUT, wait_idle

pytestmark = pytest.mark.browser

ROOT = ".lh-root"
HEAT = f"{ROOT} canvas.lh-heat"
SAMPLE = "/?src=btc_2026-09"
# ui/components/heatmap.js: EXPORT (scale, width limits, margin, title and legend heights)
SCALE, MIN_W, MAX_W, MARGIN, TITLE_H = 2, 960, 1400, 16, 48


def _open(browser, width: int, height: int, touch: bool = False):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, accept_downloads=True)
    page = context.new_page()
    return context, page


def _load(page, url: str) -> None:
    page.goto(url)
    expect(page.locator(ROOT)).to_have_attribute("data-paint", re.compile(r"\d+"), timeout=60_000)
    wait_idle(page)


def _download(page) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator(f"{ROOT} button.lh-png").click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk (the first chunk of every PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_download_png_is_the_picture_as_seen_at_twice_the_size(browser, app_url, width, height):
    """'Download PNG' saves a titled picture at 2x with the heatmap, the map and the legend; Longs and
    Shorts give different pictures and file names."""
    context, page = _open(browser, width, height)
    try:
        _load(page, app_url + SAMPLE)
        root_w = page.evaluate(f"() => document.querySelector('{ROOT}').clientWidth")
        name, data = _download(page)
        assert re.fullmatch(r"BTCUSDT_[a-z0-9-]+_5m_\d{4}-\d{2}-\d{2}_liquidation-heatmap\.png", name), name
        w, h = _png_size(data)
        css_w = min(max(root_w, MIN_W), MAX_W) + 2 * MARGIN
        assert w == SCALE * css_w and h > SCALE * 400  # 2x the CSS size of the composed picture
        both = _pixels(data)
        assert both.shape == (h, w, 3)
        colours = len(np.unique(both[::7, ::7].reshape(-1, 3), axis=0))
        assert colours > 200, f"a blank-looking export ({colours} colours)"
        (OUTPUT / f"heatmap_export_{width}x{height}.png").write_bytes(data)
        if MIN_W <= root_w <= MAX_W:  # the export's layout is the screen's: its heatmap is the one on screen
            _zoom_and_compare(page, both)
        pictures = {}
        for side in ("long", "short"):
            paint = page.locator(ROOT).get_attribute("data-paint")
            page.locator(f"{ROOT} button[data-side={side}]").click()
            expect(page.locator(ROOT)).not_to_have_attribute("data-paint", paint)
            name, data = _download(page)
            assert name.endswith(f"_liquidation-heatmap_{side}s.png")
            assert _png_size(data) == (w, h)
            pictures[side] = _pixels(data)
        changed = np.mean(np.any(pictures["long"] != pictures["short"], axis=2))
        assert changed > 0.05, f"longs-only and shorts-only exports differ in only {changed:.1%} of pixels"
        assert np.mean(np.any(pictures["long"] != both, axis=2)) > 0.01
    finally:
        context.close()


def _heat_of(export: np.ndarray, heat_w: int, heat_h: int) -> np.ndarray:
    """The heatmap panel of an export, scaled back to CSS pixels (mean of each SCALE x SCALE block)."""
    top = SCALE * (MARGIN + TITLE_H)
    panel = export[top: top + SCALE * heat_h, SCALE * MARGIN: SCALE * (MARGIN + heat_w)].astype(float)
    return panel.reshape(heat_h, SCALE, heat_w, SCALE, 3).mean(axis=(1, 3))


def _zoom_and_compare(page, before: np.ndarray) -> None:
    """Zoomed in, the exported heatmap panel is the on-screen canvas (to antialiasing), not the old view."""
    box = page.locator(HEAT).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    for _ in range(2):
        paint = page.locator(ROOT).get_attribute("data-paint")
        page.mouse.wheel(0, -300)
        expect(page.locator(ROOT)).not_to_have_attribute("data-paint", paint)
    paint = page.locator(ROOT).get_attribute("data-paint")
    page.mouse.move(1, 1)  # no crosshair
    expect(page.locator(ROOT)).not_to_have_attribute("data-paint", paint)
    screen = np.asarray(Image.open(io.BytesIO(page.locator(HEAT).screenshot())).convert("RGB")).astype(float)
    _, data = _download(page)
    heat_h, heat_w = screen.shape[:2]
    exported = _heat_of(_pixels(data), heat_w, heat_h)
    assert np.abs(exported - screen).mean() < 8, "the exported heatmap is not the one on screen"
    assert np.abs(_heat_of(before, heat_w, heat_h) - screen).mean() > 15, "the zoom did not change the picture"
    page.locator(HEAT).dblclick()


def _view(page) -> dict[str, float]:
    c0, c1, p0, p1 = (float(x) for x in page.locator(ROOT).get_attribute("data-view").split(","))
    return {"c0": c0, "c1": c1, "p0": p0, "p1": p1}


def _touch(cdp, page, kind: str, points: list[tuple[float, float]]) -> None:
    """One touch event through the browser's input pipeline (as a finger would), then the repaint."""
    paint = page.locator(ROOT).get_attribute("data-paint")
    cdp.send("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})
    if kind == "touchMove":
        expect(page.locator(ROOT)).not_to_have_attribute("data-paint", paint)


def _main_scroll(page) -> float:
    """How far the app's main area has scrolled (Streamlit scrolls a container, not the document)."""
    return page.evaluate("""() => { const all = [document.scrollingElement, ...document.querySelectorAll('section, div')];
      return Math.max(...all.filter(e => e.scrollHeight > e.clientHeight + 1).map(e => e.scrollTop)); }""")


def test_pinch_zooms_both_axes_and_one_finger_pans_on_a_phone(browser, app_url):
    """At 390x844 two fingers spreading apart zoom in on time and price around them, one finger then
    pans, and neither scrolls the page; a swipe outside the picture still scrolls it."""
    context, page = _open(browser, 390, 844, touch=True)
    try:
        _load(page, app_url + SAMPLE)
        cdp = context.new_cdp_session(page)
        page.locator(HEAT).scroll_into_view_if_needed()
        box = page.locator(HEAT).bounding_box()
        cx, cy = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5
        before, scrolled = _view(page), _main_scroll(page)
        _touch(cdp, page, "touchStart", [(cx - 20, cy - 20), (cx + 20, cy + 20)])
        for step in range(1, 6):
            d = 20 + 16 * step
            _touch(cdp, page, "touchMove", [(cx - d, cy - d), (cx + d, cy + d)])
        _touch(cdp, page, "touchEnd", [])
        zoomed = _view(page)
        assert zoomed["c1"] - zoomed["c0"] < 0.6 * (before["c1"] - before["c0"])
        assert zoomed["p1"] - zoomed["p0"] < 0.6 * (before["p1"] - before["p0"])
        assert before["c0"] < zoomed["c0"] and zoomed["c1"] < before["c1"]  # around the fingers, not an edge
        assert page.locator(HEAT).bounding_box()["y"] == pytest.approx(box["y"]) and _main_scroll(page) == scrolled
        page.screenshot(path=str(OUTPUT / "heatmap_pinched_390x844.png"))

        _touch(cdp, page, "touchStart", [(cx, cy)])
        for step in range(1, 5):
            _touch(cdp, page, "touchMove", [(cx + 15 * step, cy + 10 * step)])
        _touch(cdp, page, "touchEnd", [])
        panned = _view(page)
        assert panned["c1"] - panned["c0"] == pytest.approx(zoomed["c1"] - zoomed["c0"])
        assert panned["p1"] - panned["p0"] == pytest.approx(zoomed["p1"] - zoomed["p0"])
        assert panned["c0"] < zoomed["c0"] and panned["p0"] > zoomed["p0"]  # finger right/down: earlier, higher
        assert _main_scroll(page) == scrolled

        # a swipe up that starts on the liquidation map (under the heatmap) scrolls the page as usual
        prof = page.locator(f"{ROOT} canvas.lh-prof").bounding_box()
        x, y = prof["x"] + 40, min(prof["y"] + 30, 844 - 10)
        assert y > box["y"] + box["height"], "the swipe must start outside the heatmap"
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 0}]})
        for step in range(1, 8):
            cdp.send("Input.dispatchTouchEvent",
                     {"type": "touchMove", "touchPoints": [{"x": x, "y": y - 40 * step, "id": 0}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_function(f"() => document.querySelector('{HEAT}').getBoundingClientRect().y < {box['y'] - 20}",
                               timeout=10_000)
    finally:
        context.close()
