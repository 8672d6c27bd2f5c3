"""The heatmap page in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    CHART,
    OUTPUT,
    canvas_colours,
    canvas_fingerprint,
    wait_idle,
    wait_painted,
    wait_repainted,
)

pytestmark = pytest.mark.browser
CANVAS = f"{CHART} canvas"


def _open(page, url: str) -> None:
    """Open ``url`` and wait until the script has run and the heatmap is painted."""
    page.goto(url)
    page.wait_for_selector(CANVAS, timeout=60_000)
    wait_idle(page)
    wait_painted(page, CANVAS, 0, more_than=50)


def test_heatmap_page_paints_and_hover_reads_a_cell(page, app_url):
    """A user sees the heatmap, hovers a cell and reads time, price band and USD amounts."""
    _open(page, app_url + "/?src=btc_2026-09")
    assert page.get_by_text("BTC liquidation heatmap").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    canvas = page.locator(CANVAS).first
    box = canvas.bounding_box()
    assert box["width"] > 600 and box["height"] > 300
    # The painted image is not blank: sample pixels from the canvas.
    assert canvas_colours(page, CANVAS, 0) > 50
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=10_000)
    text = tooltip.inner_text()
    assert "Price band" in text and "Longs (est.)" in text and "Shorts (est.)" in text
    assert re.search(r"\$\d", text)
    page.screenshot(path=str(OUTPUT / "heatmap_hover.png"), full_page=True)


def test_a_control_changes_the_chart_and_the_link(page, app_url):
    """Choosing 'Shorts only' redraws the chart and puts the choice in the address bar."""
    _open(page, app_url + "/?src=btc_2026-09")
    before, drawn = page.locator(CANVAS).first.screenshot(), canvas_fingerprint(page, CANVAS, 0)
    page.get_by_text("Shorts only").click()
    page.wait_for_url(re.compile(r"side=short"), timeout=20_000)
    wait_idle(page)
    wait_repainted(page, CANVAS, 0, drawn)
    after = page.locator(CANVAS).first.screenshot()
    assert before != after
    page.screenshot(path=str(OUTPUT / "heatmap_shorts.png"), full_page=True)


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
