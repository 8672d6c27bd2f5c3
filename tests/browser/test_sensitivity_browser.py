"""The Leverage sensitivity page in a real browser (Debian's Chromium via Playwright)."""

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
LINK = "/sensitivity?src=btc_2026-09&model=v1"  # the five tier sliders are reference v1's
STEP = 61  # pixel sample step for counting colours (blank: 1 or 2 colours)


def _open(page, app_url: str, path: str = LINK) -> None:
    """Open the page straight from its link; wait until the default and your picture are painted."""
    page.set_viewport_size({"width": 1500, "height": 2600})
    page.goto(app_url + path)  # its three pictures are canvases: default, yours, difference
    page.get_by_text("What this page shows").wait_for(timeout=60_000)
    page.wait_for_selector(CANVAS, timeout=60_000)
    wait_idle(page)
    page.wait_for_function("sel => document.querySelectorAll(sel).length >= 3", arg=CANVAS, timeout=30_000)
    for index in (0, 1):
        wait_painted(page, CANVAS, index, more_than=50, step=STEP)


def _colours(page, index: int) -> int:
    """How many distinct colours a sample of chart ``index``'s canvas holds (blank: 1 or 2)."""
    return canvas_colours(page, CANVAS, index, step=STEP)


def test_sensitivity_page_paints_both_pictures_and_the_difference(page, app_url):
    """A user sees the lead, the default and their own heatmap painted, and the difference."""
    _open(page, app_url)
    assert page.get_by_role("heading", name="Leverage sensitivity").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(CANVAS).count() == 3 and page.locator(CHART).count() >= 7
    assert _colours(page, 0) > 50 and _colours(page, 1) > 50  # default and yours
    assert page.locator("[data-testid='stMetric']").count() == 9
    # The two sweep panels (the last charts) keep their plot height: title, axes and legend do not squeeze
    # the plot to a few pixels (Streamlit's default "fit" did, with the y axis showing one label).
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].slice(-2).every(c => "
                           "c.getBoundingClientRect().height > 300)", arg=CHART, timeout=30_000)
    page.screenshot(path=str(OUTPUT / "sensitivity_default.png"), full_page=True)


def push_to_the_end(page, slider: str, written: str, canvas: int) -> None:
    """Press End on ``slider``: the link carries ``written``, picture ``canvas`` repaints and differs,
    and no exception is shown."""
    picture = page.locator(CANVAS).nth(canvas)
    before, drawn = picture.screenshot(), canvas_fingerprint(page, CANVAS, canvas)
    thumb = page.get_by_role("slider", name=slider)
    thumb.focus()
    thumb.press("End")
    page.wait_for_url(re.compile(written), timeout=20_000)
    wait_idle(page)
    wait_repainted(page, CANVAS, canvas, drawn)
    assert page.locator("[data-testid='stException']").count() == 0
    assert picture.screenshot() != before


def test_moving_a_slider_changes_the_picture_and_the_link(page, app_url):
    """Pushing the 100x weight to the top redraws 'Your assumptions' and writes w100 into the link."""
    _open(page, app_url)
    push_to_the_end(page, "100x leverage (weight)", r"w100=100", canvas=1)
    assert page.get_by_role("combobox", name="Start from a preset").input_value() == "Custom (your own settings)"
    page.screenshot(path=str(OUTPUT / "sensitivity_100x.png"), full_page=True)


def test_a_preset_link_opens_with_its_sliders(page, app_url):
    """A shared link with preset=degen opens with the Degen sliders and a difference to the default."""
    _open(page, app_url, LINK + "&preset=degen")
    assert page.get_by_role("slider", name="50x leverage (weight)").input_value() == "35"
    assert page.get_by_role("combobox", name="Start from a preset").input_value() == "Degen (high leverage)"
    wait_painted(page, CANVAS, 2, more_than=20, step=STEP)  # the difference view is not empty
    page.screenshot(path=str(OUTPUT / "sensitivity_degen.png"), full_page=True)


def test_highlight_to_strong_brightens_both_pictures_and_writes_the_link(page, app_url):
    """The "Highlight (subtle → strong)" slider goes the heatmap page's way: to the right, both
    compared pictures repaint brighter, and the shared hl goes into the link."""
    _open(page, app_url)
    push_to_the_end(page, "Highlight (subtle → strong)", r"hl=100", canvas=0)
    page.screenshot(path=str(OUTPUT / "sensitivity_highlight_strong.png"), full_page=True)
