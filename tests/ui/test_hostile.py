"""Hostile links: every bad URL parameter is refused with a plain notice, nothing from it is rendered
as Markdown/HTML, and it creates no cache entry (core single-flight cache, ``st.cache_*``, store).

The app runs in AppTest over the fake exchanges (``set_default_services``), with the default live
source, so a hostile value that slipped through would reach the live path and its caches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fixtures.fake_exchanges import FakeClock, fakes_at, make_services
from streamlit.testing.v1 import AppTest

from core.constants import SYMBOLS
from core.data.load import DataServices, load_all_exchanges, load_market, set_default_services
from core.sensitivity_state import LEGACY_RULES
from core.viewstate import CHOICES, LEGACY_VIEW_RULES, RANGES, View
from tests.load.introspect import core_cache_sizes, st_cache_sizes

APP = Path(__file__).resolve().parents[2] / "app.py"
NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
LONG = "A" * 10_000
XSS = "<script>alert(1)</script>"
# What an excerpt in a notice may look like: letters, digits, '.', '-' and '?' in quotes.
SAFE_EXCERPT = re.compile(r"^Ignored (\w+)='[A-Za-z0-9.?-]*…?' from the link")

# name -> query parameters (a list value is a repeated key)
HOSTILE: dict[str, dict[str, str | list[str]]] = {
    "overlong values": {"ex": LONG, "sym": LONG, "tf": LONG, "lb": LONG, "clip": LONG, "src": LONG},
    "script tags": {"ex": XSS, "sym": XSS, "side": XSS, "mix": XSS},
    "javascript: values": {"src": "javascript:alert(document.cookie)", "ex": "javascript:alert(1)"},
    "markdown link and image": {"ex": "[x](javascript:alert(1))", "sym": "![](//evil.example/p.png)", "tf": ":red[boom]"},
    "html entities and img": {"ex": "&lt;img src=x onerror=alert(1)&gt;", "sym": "<img src=x onerror=alert(1)>"},
    "repeated keys, last one bad": {"tf": ["1h", XSS], "ex": ["bybit", "mtgox"]},
    "huge numbers": {"clip": "1e308", "zoom": "9" * 400, "ls": "1e400"},
    "negative numbers": {"clip": "-99", "zoom": "-1", "ls": "-0.0001"},
    "nan and inf": {"clip": "nan", "zoom": "inf", "ls": "-Infinity"},
    "hex and fancy numbers": {"clip": "0x50", "zoom": "3_0", "ls": "½"},
    "unicode, rtl and nul": {"ex": "bybit\u202e", "sym": "BTC/USDT:USDT\x00", "tf": "５m", "lb": "3d\u200b"},
    "symbols outside the set": {"sym": "PEPE/USDT:USDT", "tf": "3m", "lb": "90d"},
    "path traversal": {"src": "../../../etc/passwd", "sym": "../../BTC", "ex": "..%2F..%2Fokx"},
    "exchanges outside the set": {"ex": "binance"},
    "case games": {"ex": "BYBIT", "sym": "btc/usdt:usdt", "side": "LONG"},
}
UNKNOWN_KEYS = {"evil": XSS, "__proto__": "1", "ttl": "0", "max_entries": "1e9", "x" * 500: "y"}


@pytest.fixture
def services(tmp_path) -> Iterator[DataServices]:
    """The fake exchanges as the app's default services (store in tmp_path)."""
    clock = FakeClock(NOW)
    svc = make_services(tmp_path, clock, fakes_at(NOW))
    previous = set_default_services(svc)
    try:
        yield svc
    finally:
        set_default_services(previous)


def run_link(params: dict[str, str | list[str]]) -> AppTest:
    """A fresh session opened on a link with ``params``."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def sizes(services: DataServices) -> tuple[dict, dict, int]:
    """Core cache sizes, st.cache_* sizes, and snapshot files on disk."""
    return core_cache_sizes(services), st_cache_sizes(), len(services.store.files())


def rendered_markdown(at: AppTest) -> str:
    """Every Markdown body on the page (markdown, captions, alerts, titles)."""
    parts = [*at.title, *at.markdown, *at.caption, *at.warning, *at.info, *at.error, *at.success]
    return "\n".join(str(p.value) for p in parts)


def url_notices(at: AppTest) -> list[str]:
    """The "Ignored …" notices shown about the link."""
    return [str(w.value) for w in at.warning if str(w.value).startswith("Ignored ")]


# Symbols a link may write in another case or form that still name a listed coin (ccxt's unified form).
READ_AS_LISTED = {"btc/usdt:usdt"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_link_is_refused_with_safe_notices_and_no_cache_entries(services, name):
    """A user opening a hostile link sees the default view, a plain notice per bad value, and no
    markup from the link; the caches and the snapshot store hold nothing new."""
    run_link({})  # the default view: what a refused link falls back to
    before = sizes(services)
    params = HOSTILE[name]
    at = run_link(params)
    view = at.session_state["_view"]
    for key in params:
        if key in CHOICES:
            assert getattr(view, key) in CHOICES[key]
        if key in RANGES:
            lo, hi = RANGES[key]
            assert lo <= getattr(view, key) <= hi
    notices = url_notices(at)
    if "sym" in params:  # offline, the coin list is the app's five coins
        assert view.sym in SYMBOLS
    bad_keys = {k for k in params if k in CHOICES or k in RANGES or k in LEGACY_RULES  # mix, ls: the model's
                or k in LEGACY_VIEW_RULES}  # clip: the old brightness percentile
    if "sym" in params and params["sym"] not in READ_AS_LISTED:
        bad_keys.add("sym")
    assert {SAFE_EXCERPT.match(n).group(1) for n in notices} == bad_keys, notices
    assert all(len(n) < 160 for n in notices)
    body = rendered_markdown(at)
    for needle in ("<script", "<img", "javascript:", "](", "![", ":red[", "\u202e", "\x00", "onerror=", LONG[:100]):
        assert needle not in body, needle
    assert sizes(services) == before


def test_unknown_keys_are_ignored_silently_and_never_reach_a_cache(services):
    """Keys the app does not know produce no notice, no markup and no cache entry."""
    run_link({})
    before = sizes(services)
    at = run_link(UNKNOWN_KEYS)
    assert url_notices(at) == []
    assert "<script" not in rendered_markdown(at)
    assert at.session_state["_view"] == View()
    assert sizes(services) == before


@pytest.mark.parametrize("exchange", ["<script>", "binance", "x" * 10_000, "../okx", "okx\x00"])
@pytest.mark.parametrize("symbol", ["BTC/USDT:USDT", "PEPE/USDT:USDT", "x" * 10_000, "../../etc/passwd"])
def test_core_refuses_hostile_markets_before_any_request_or_cache_entry(services, exchange, symbol):
    """Called directly (bypassing the URL checks), core validates before keying a cache or a file."""
    before = sizes(services)
    market = load_market(exchange, symbol, "5m", "12h", source="auto", services=services)
    assert market.source == "bundled"
    markets, _ = load_all_exchanges(symbol, "3m", "12h", services=services)
    assert [m.source for m in markets] == ["bundled"]
    assert sizes(services) == before
    assert core_cache_sizes(services)["upstream_calls"] == before[0]["upstream_calls"]
