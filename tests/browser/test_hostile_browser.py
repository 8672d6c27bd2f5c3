"""Hostile links in a real browser: refused with a notice, and nothing from them becomes an element."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser.conftest import OUTPUT, PICTURE, wait_idle

pytestmark = pytest.mark.browser

HOSTILE = {
    "src": "javascript:alert(4)",
    "ex": "<script>alert(1)</script>",
    "sym": "<img src=x onerror=alert(2)>",
    "tf": "[x](javascript:alert(3))",
    "lb": "![](//evil.example/p.png)",
    "side": ":red[owned]\u202e",
    "mix": "<svg onload=alert(6)>",
    "clip": "1e400",
    "zoom": "nan",
    "ls": "-inf",
    "evil": "<script>alert(5)</script>",
}
INJECTED = [
    "script:has-text('alert')",
    "img[src*='evil.example']",
    "img[src='x']",
    "svg[onload]",
    "[onerror]",
    "a[href^='javascript']",
    "a:has-text('x')[href]",
]


def test_hostile_link_shows_notices_and_injects_nothing(page, app_url):
    """A user opening a booby-trapped link sees the default view and plain notices; no script,
    image, link or dialog from the link appears."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url + "/?" + urlencode(HOSTILE))
    page.get_by_text("Ignored ex=").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_selector(PICTURE, timeout=60_000)  # the whole default view is drawn, heatmap picture included
    for selector in INJECTED:
        assert page.locator(selector).count() == 0, selector
    body = page.locator("[data-testid='stApp']").inner_text()
    for key in ("src", "ex", "sym", "tf", "lb", "side", "mix", "clip", "zoom", "ls"):
        assert f"Ignored {key}=" in body, key
    assert "?red?owned" in body and "Traceback" not in body  # the colour directive is shown neutralised
    assert page.locator("[data-testid='stException']").count() == 0
    assert dialogs == []
    page.screenshot(path=str(OUTPUT / "hostile_link.png"), full_page=True)


def test_overlong_and_repeated_keys_are_refused(page, app_url):
    """A 10,000-character value and a repeated key whose last value is bad: notices, no error."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url + "/?src=btc_2026-09&tf=1h&tf=%3Cscript%3Ealert(1)%3C/script%3E&ex=" + "A" * 10_000)
    page.get_by_text("Ignored tf=").first.wait_for(timeout=60_000)
    wait_idle(page)
    body = page.locator("[data-testid='stApp']").inner_text()
    assert "Ignored ex=" in body and "A" * 30 not in body
    assert page.locator("script:has-text('alert')").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert dialogs == []
