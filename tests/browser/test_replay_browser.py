"""The Cascade replay page in a real browser (Debian's Chromium via Playwright).

How many frames a second reach the screen is measured by bench/bench_replay.py, not asserted here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHART, OUTPUT, wait_idle

pytestmark = pytest.mark.browser

THUMB = ".st-key-replay_time [data-testid='stSliderThumbValue']"  # the replay's time slider (not Highlight's, not the sidebar's)
LINK = "?src=btc_2026-02_crash&tf=5m&lb=3d&model=v1"  # the cascades below are those of reference v1
CANDLE = timedelta(minutes=5)
PLAYED_FRAMES = 4  # distinct frames the replay must show while playing
# Collects the distinct replay moments shown (the caption's first part, "Sat 07 Feb 00:30 UTC candle"), the
# one on screen now included, in window.__moments.
WATCH_MOMENTS = """() => { const seen = window.__moments = new Set();
  const look = () => { const c = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
      .map(e => e.innerText).find(t => t.includes('UTC candle · close'));
    if (c) seen.add(c.split(' · ')[0]); };
  look(); new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""


def _open(page, app_url: str) -> None:
    page.goto(app_url + "/replay" + LINK)  # a deep link works even as a server's first request
    page.wait_for_selector(THUMB, timeout=60_000)
    page.wait_for_selector(f"{CHART} >> nth=1", timeout=60_000)
    wait_idle(page)


def _slider_label(when: datetime) -> str:
    """The replay slider's thumb text for ``when`` (format "ddd D MMM, HH:mm")."""
    return f"{when:%a} {when.day} {when:%b, %H:%M}"


def _one_candle_after(label: str) -> str:
    """The thumb text one 5-minute candle after ``label`` (the link's window is in 2026)."""
    return _slider_label(datetime.strptime(f"{label} 2026", "%a %d %b, %H:%M %Y") + CANDLE)


def test_play_moves_the_replay_and_the_chart(page, app_url):
    """A user presses Play: the replay runs from the start of the window through distinct frames and
    the chart changes; Pause stops it where it is (one step forward then moves exactly one candle)."""
    _open(page, app_url)
    assert page.get_by_text("BTC cascade replay").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    thumb = page.locator(THUMB).first
    assert thumb.inner_text() == "Sat 7 Feb, 00:30"  # the last candle
    chart = page.locator(CHART).first
    before = chart.screenshot()
    page.evaluate(WATCH_MOMENTS)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible(timeout=30_000)
    expect(thumb).to_have_text(re.compile(r"^Wed 4 Feb"), timeout=30_000)  # restarted from the window's start
    # A condition with a generous deadline, not a speed check: a busy 2-core machine shows well under one
    # frame a second (bench/bench_replay.py measures the rate).
    page.wait_for_function("n => window.__moments.size > n", arg=PLAYED_FRAMES, timeout=240_000)
    assert chart.screenshot() != before
    page.screenshot(path=str(OUTPUT / "replay_playing.png"))
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible(timeout=30_000)
    wait_idle(page)
    paused = thumb.inner_text()
    # Stopped: the step button is enabled again (it is disabled while playing), and a step forward,
    # a full round trip to the server, lands exactly one candle on (a running replay would move on).
    step_forward = page.get_by_role("button", name="1 candle").nth(1)
    expect(step_forward).to_be_enabled()
    step_forward.click()
    expect(thumb).to_have_text(_one_candle_after(paused), timeout=30_000)
    wait_idle(page)
    assert thumb.inner_text() == _one_candle_after(paused)


def test_play_it_plays_a_cascade_from_before_it_starts(page, app_url):
    """A user presses "Play it" on cascade #3 (5 Feb 15:00 -> 15:25): the replay plays from a few candles
    before it; paused, the slider and the caption name the same candle and the what-if starts there."""
    _open(page, app_url)
    page.get_by_role("button", name="Play it").nth(2).click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible(timeout=30_000)
    thumb = page.locator(THUMB).first
    expect(thumb).to_have_text(re.compile(r"^Thu 5 Feb, 1[345]:"), timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible(timeout=30_000)
    wait_idle(page)
    shown = datetime.strptime(f"{thumb.inner_text()} 2026", "%a %d %b, %H:%M %Y")
    expect(page.get_by_text(f"{shown:%a %d %b %H:%M} UTC candle · close", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Cascade stops at", exact=True)).to_be_visible()
    page.set_viewport_size({"width": 1500, "height": 3300})
    wait_idle(page)
    page.screenshot(path=str(OUTPUT / "replay_jump.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
