"""Every page this suite owns at a laptop and a phone size, in a real browser: it fits the screen,
asks nothing of the internet, and the offline start is the recorded crash with a neutral badge.

Screenshots of each page at 1440x900 and 390x844 go to test-output/screenshots/.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHART, OUTPUT, PICTURE, wait_idle

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
# path -> what is on screen once the page has drawn (the heatmap page's layout has its own tests)
HEATMAP = ("/", PICTURE)
PAGES = {
    "replay": ("/replay", CHART),
    "sensitivity": ("/sensitivity", CHART),
    "accuracy": ("/accuracy", "[data-testid='stFileUploader']"),
    "how_it_works": ("/how_it_works", "h1"),
}
LOCAL = ("127.0.0.1", "localhost", "::1")


@pytest.fixture
def sized(browser, request):
    """A fresh page at ``request.param`` ("desktop"/"phone"), recording every host it asks for;
    requests leaving this machine are aborted (the browser's network is blocked too)."""
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    hosts: list[str] = []
    context.on("request", lambda req: hosts.append(urlsplit(req.url).hostname or req.url[:40]))
    context.route(lambda url: (urlsplit(url).hostname or "") not in LOCAL, lambda route: route.abort())
    page = context.new_page()
    page.hosts = hosts
    page.size_name = f"{width}x{height}"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    yield page
    context.close()


def _open(page, app_url: str, name: str) -> None:
    path, ready = PAGES.get(name, HEATMAP)
    page.goto(app_url + path)
    page.wait_for_selector(ready, timeout=90_000)
    wait_idle(page, timeout=90_000)


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    main = page.evaluate("() => { const m = document.querySelector('[data-testid=stMain]');"
                         " return m ? [m.scrollWidth, m.clientWidth] : [0, 0]; }")
    assert main[0] <= main[1] + 1, f"the main area scrolls sideways: {main}"


@pytest.mark.parametrize("sized", list(SIZES), indirect=True)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_the_screen_and_stays_on_this_machine(sized, app_url, name):
    """Each page draws without error at 1440x900 and 390x844, nothing scrolls sideways, no request
    leaves this machine (favicon included), and a screenshot is saved."""
    page = sized
    _open(page, app_url, name)
    assert page.locator("[data-testid='stException']").count() == 0
    _no_sideways_scroll(page)
    page.screenshot(path=str(OUTPUT / f"{name}_{page.size_name}.png"))
    outside = sorted({h for h in page.hosts if h not in LOCAL})
    assert not outside, f"requests left this machine: {outside}"


@pytest.mark.parametrize("sized", ["desktop"], indirect=True)
def test_replay_chart_and_play_are_seen_together(sized, app_url):
    """At 1440x900 the replay's Play button, its heatmap, the liquidation map and the model's
    liquidation bars under them are on screen together."""
    page = sized
    _open(page, app_url, "replay")
    play = page.get_by_role("button", name="Play", exact=True)
    expect(play).to_be_in_viewport()
    chart = page.locator(CHART).first
    box = chart.bounding_box()
    # The heatmap up to the replay time with the liquidation map beside it and the compact liquidation
    # bars under it (70% of the chart) are on screen; the volume's foot, the time axis and the legend may need a scroll.
    assert box is not None and box["y"] + 0.7 * box["height"] <= 900, box
    expect(chart).to_be_in_viewport(ratio=0.7)


@pytest.mark.parametrize("sized", ["desktop"], indirect=True)
def test_offline_start_is_the_recorded_crash_with_a_neutral_badge(sized, app_url):
    """Opened offline, the app shows the recorded Feb 2026 crash with a "Recorded data" badge, no warning."""
    page = sized
    _open(page, app_url, "heatmap")
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text("Binance BTCUSDT perpetual, 4-7 Feb 2026")).to_be_visible()
    expect(main.get_by_text("Recorded data").first).to_be_visible()
    assert main.locator("[data-testid='stAlertContentWarning']").count() == 0
    page.screenshot(path=str(OUTPUT / f"offline_start_{page.size_name}.png"))
    outside = sorted({h for h in page.hosts if h not in LOCAL})
    assert not outside, f"requests left this machine: {outside}"
