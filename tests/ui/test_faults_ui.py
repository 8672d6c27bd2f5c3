"""Exchange faults end to end in the UI (AppTest): a plain message and a fallback, never a traceback.

The fake exchanges (``fixtures.fake_exchanges``) are installed as the app's process-wide data
services with ``core.data.load.set_default_services``, so the real sidebar, ``ui.data`` and
``load_market`` run against ccxt's own HTTP handling. Faults are injected below ccxt.

AppTest re-executes only the page on a rerun (not app.py), so every "later run" is a fresh
session opened on the same link, as a user reloading the page would do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import requests
from fixtures.fake_exchanges import (
    ROUTES,
    FakeClock,
    FakeExchange,
    Reply,
    fakes_at,
    html_reply,
    json_reply,
    make_services,
    raising,
    replying,
)
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.data.load import DataServices, set_default_services
from core.viewstate import View

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 60
SNAPSHOT_AGE_MIN = 14
BREAKER_SECONDS = 30  # SingleFlightCache's default failure_ttl
RATE_LIMIT_BODY = {
    "binanceusdm": {"code": -1003, "msg": "Too many requests; current limit of IP is 2400 requests per minute."},
    "bybit": {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": 0},
    "okx": {"code": "50011", "msg": "Too Many Requests", "data": []},
}
# Words a user must never read: markup, addresses, exception names, raw bodies.
TECHNICAL = re.compile(
    r"Traceback|File \"|<html|<script|https?://|ccxt\.|Exception|Error:|retCode|\{\"|DDoSProtection|NetworkError|Timeout\("
)


@dataclass
class World:
    """Fake exchanges behind the app's default services, on a settable clock."""

    fakes: dict[str, FakeExchange]
    clock: FakeClock
    services: DataServices

    def advance(self, **delta: float) -> None:
        """Move the app's clock and every exchange's clock together."""
        self.clock.advance(**delta)
        for fake in self.fakes.values():
            fake.now = self.clock.now

    def calls(self, exchange: str) -> int:
        """Requests ``exchange`` has received so far."""
        return len(self.fakes[exchange].calls)


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    """Fake exchanges installed as the app's services; the clock starts 14 min before the wall
    clock, so after advancing it the UI's wall-clock ages and the services' ages agree."""
    start = pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=SNAPSHOT_AGE_MIN)
    clock = FakeClock(start)
    fakes = fakes_at(start)
    services = make_services(tmp_path, clock, fakes)
    previous = set_default_services(services)
    # Each test is its own fake world: live data of the same market and 5-minute bucket has the same
    # data_id in every world (in production one bucket is one fetch), so the app's caches start empty.
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield World(fakes, clock, services)
    finally:
        set_default_services(previous)
        st.cache_data.clear()  # e.g. the fakes' coin lists must not reach the next test
        st.cache_resource.clear()


# ------------------------------------------------------------------------------------------------
# Reading the page


def open_app(**params: str) -> AppTest:
    """A fresh session opened on a link with ``params`` (lookback 12h unless given)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in {"lb": "12h", **params}.items():
        at.query_params[key] = value
    at.run()
    return at


def page_text(at: AppTest) -> str:
    """Everything a user can read on the page (sidebar included)."""
    parts = [*at.title, *at.markdown, *at.caption, *at.warning, *at.info, *at.error, *at.success]
    return "\n".join(str(p.value) for p in parts)


def warnings(at: AppTest) -> list[str]:
    """The warnings shown (main area and sidebar)."""
    return [str(w.value) for w in at.warning]


def notices(at: AppTest) -> list[str]:
    """What the page says about the data it could not have: the recorded-data line, infos, warnings."""
    recorded = [str(m.value) for m in at.main.markdown if "Recorded data]" in str(m.value)]
    return recorded + [str(i.value) for i in at.info] + warnings(at)


def badge(at: AppTest) -> str:
    """The label of the source badge in the sidebar ("Live", "Last good data", "Recorded data")."""
    for m in at.sidebar.markdown:
        found = re.match(r":\w+-badge\[([^\]]+)\]", str(m.value))
        if found:
            return found.group(1)
    raise AssertionError("no source badge in the sidebar")


def assert_page_intact(at: AppTest, exchange: str) -> None:
    """No exception, no traceback, no error box; the heatmap, metrics and the selection are kept."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = page_text(at)
    assert not TECHNICAL.search(text), TECHNICAL.search(text)
    assert len(at.get("bidi_component")) == 1 and len(at.metric) == 6  # the heatmap picture and the figures
    assert at.selectbox(key="sidebar_ex").value == exchange
    link = {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}
    assert link.get("ex", View().ex) == exchange  # the default exchange is left out of the link


# ------------------------------------------------------------------------------------------------
# Transport and HTTP faults


# name -> (exchange it is tried on, fault, words the notice must contain)
FAULTS = {
    "429 rate limit": ("binanceusdm", replying(json_reply(RATE_LIMIT_BODY["binanceusdm"], 429)), "rate-limiting us (HTTP 429)"),
    "429 rate limit okx": ("okx", replying(json_reply(RATE_LIMIT_BODY["okx"], 429)), "rate-limiting us (HTTP 429)"),
    "418 ban": (
        "binanceusdm",
        replying(json_reply({"code": -1003, "msg": "Way too many requests; IP banned until 1773146000000."}, 418)),
        "banned this address for too many requests (HTTP 418)",
    ),
    "451 geo block": (
        "bybit",
        replying(json_reply({"code": 0, "msg": "Service unavailable from a restricted location."}, 451)),
        "refuses requests from this region (HTTP 451)",
    ),
    "502 html": ("okx", replying(html_reply(502, "502 Bad Gateway")), "not answering properly (HTTP 502)"),
    "503 json": (
        "binanceusdm",
        replying(json_reply({"code": -1001, "msg": "Internal error; unable to process your request."}, 503)),
        "not answering properly (HTTP 503)",
    ),
    "timeout": ("bybit", raising(requests.exceptions.ReadTimeout("Read timed out.")), "took too long to answer"),
    "dns failure": (
        "okx",
        raising(requests.exceptions.ConnectionError("Failed to resolve 'www.okx.com' (Temporary failure in name resolution)")),
        "Could not reach OKX (no network)",
    ),
    "html with status 200": ("binanceusdm", replying(html_reply(200, "Welcome to our portal")), "sent a web page instead of"),
    "empty object {}": ("bybit", replying(json_reply({})), "Bybit"),
    "empty list []": ("okx", replying(json_reply([])), "OKX"),
    "empty body": ("binanceusdm", replying(Reply(200, "")), "Binance"),
    "malformed json": ("bybit", replying(Reply(200, '{"retCode": 0, "result": {"list": [[')), "sent a garbled answer"),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_without_saved_data_shows_the_bundled_sample(world, name):
    """The exchange fails and nothing was saved: a plain notice, the bundled sample, no traceback."""
    exchange, fault, words = FAULTS[name]
    world.fakes[exchange].fault = fault
    at = open_app(ex=exchange)
    assert_page_intact(at, exchange)
    notice = notices(at)[0]
    assert words in notice and "Recorded data" in notice and "no live data" in notice, notice
    assert badge(at) == "Recorded data" and not warnings(at)


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_after_a_good_load_shows_the_snapshot_with_its_age(world, name):
    """The exchange worked 14 min ago and fails now: the saved data, its age, a plain notice."""
    exchange, fault, words = FAULTS[name]
    assert badge(open_app(ex=exchange)) == "Live"
    world.advance(minutes=SNAPSHOT_AGE_MIN)
    world.fakes[exchange].fault = fault
    at = open_app(ex=exchange)
    assert_page_intact(at, exchange)
    assert not warnings(at)  # a neutral notice, not a warning
    notice = notices(at)[0]
    assert words in notice, notice
    assert f"showing the last good data from {SNAPSHOT_AGE_MIN} min ago" in notice, notice
    assert notice.count("min ago") == 1, notice  # the age is said once
    assert badge(at) == "Last good data"


# ------------------------------------------------------------------------------------------------
# Bad data that still loads


def _messy_klines(params: dict, now: int) -> Reply:
    """Binance klines with a NaN close, a duplicate row and two rows swapped."""
    import json

    rows = json.loads(ROUTES["binanceusdm"]["/fapi/v1/klines"](params, now).body)
    if len(rows) > 6:
        rows[2][4] = "NaN"
        rows.insert(5, list(rows[4]))
        rows[7], rows[8] = rows[8], rows[7]
    return json_reply(rows)


def test_nan_duplicate_and_unsorted_rows_are_cleaned_and_said(world):
    """Bad candle rows are dropped or sorted, the page is live, and the data notes say so."""
    world.fakes["binanceusdm"].routes["/fapi/v1/klines"] = _messy_klines
    at = open_app(ex="binanceusdm")
    assert_page_intact(at, "binanceusdm")
    assert badge(at) == "Live" and not warnings(at)
    notes = page_text(at)
    assert "duplicate candle(s) dropped" in notes
    assert "candle(s) with missing or non-positive prices dropped" in notes


def test_open_interest_older_than_served_is_said(world):
    """30 days of 4h candles on Binance (30 days of OI history): live, with a note on the gap."""
    at = open_app(ex="binanceusdm", tf="4h", lb="30d")
    assert_page_intact(at, "binanceusdm")
    assert badge(at) == "Live"
    assert "Binance serves open interest for the last 30 days only" in page_text(at)
    paths = world.fakes["binanceusdm"].paths()
    assert paths.count("/futures/data/openInterestHist") >= 1


def test_unsupported_open_interest_period_falls_back_to_the_volume_proxy(world):
    """Bybit rejects the open-interest period: the candles are live, the model says it uses its proxy."""
    bad_period = json_reply({"retCode": 10001, "retMsg": "params error: intervalTime invalid", "result": {}})
    world.fakes["bybit"].fault = replying(bad_period, paths=("/v5/market/open-interest",))
    at = open_app(ex="bybit")
    assert_page_intact(at, "bybit")
    assert badge(at) == "Live"
    text = page_text(at)
    assert "no open interest: Bybit rejected the request for open interest" in text
    assert "open interest known for 0% of them" in text and "No open-interest history" in text


def test_unsupported_timeframe_in_the_link_is_refused_with_a_notice(world):
    """A timeframe the app does not offer is ignored (notice), the default one is loaded live."""
    at = open_app(ex="okx", tf="3m")
    assert_page_intact(at, "okx")
    assert any("Ignored tf='3m'" in w for w in warnings(at))
    assert at.selectbox(key="sidebar_tf").value == "5m" and badge(at) == "Live"


# ------------------------------------------------------------------------------------------------
# Recovery and the aggregated view


def test_exchange_that_recovers_clears_the_stale_badge(world):
    """Down: fallback and notice; within the breaker window no new request; after it: live again."""
    world.fakes["okx"].fault = raising(requests.exceptions.ConnectionError("Failed to resolve 'www.okx.com'"))
    down = open_app(ex="okx")
    assert badge(down) == "Recorded data" and "Could not reach OKX" in notices(down)[0]
    asked = world.calls("okx")
    world.fakes["okx"].fault = None
    world.advance(seconds=BREAKER_SECONDS - 10)
    still = open_app(ex="okx")
    assert badge(still) == "Recorded data" and world.calls("okx") == asked
    world.advance(seconds=11)
    back = open_app(ex="okx")
    assert_page_intact(back, "okx")
    assert badge(back) == "Live" and not notices(back)
    assert world.calls("okx") > asked


def test_all_exchanges_view_shows_the_others_and_names_the_missing_one(world):
    """OKX is down: the aggregate is drawn from Binance and Bybit and says OKX was left out."""
    world.fakes["okx"].fault = replying(html_reply(503, "503 Service Unavailable"))
    at = open_app(ex="all")
    assert_page_intact(at, "all")
    assert badge(at) == "Live"
    assert notices(at) == ["Left out of this view: OKX is not answering properly (HTTP 503)."], notices(at)
    help_text = next(str(m.proto.help) for m in at.sidebar.markdown if "-badge[" in str(m.value))
    assert "Binance USD-M" in help_text and "Bybit" in help_text and "OKX" not in help_text
    assert world.calls("binanceusdm") and world.calls("bybit")


def test_all_exchanges_down_shows_the_bundled_sample_once(world):
    """Every exchange is down: one recorded sample, and one notice naming every exchange."""
    for fake in world.fakes.values():
        fake.fault = raising(requests.exceptions.ConnectTimeout("timed out"))
    at = open_app(ex="all")
    assert_page_intact(at, "all")
    assert badge(at) == "Recorded data"
    said = notices(at)
    assert len(said) == 1 and not warnings(at), said
    for name in ("Binance", "Bybit", "OKX"):
        assert name in said[0]


# ------------------------------------------------------------------------------------------------
# Coins


def test_coin_box_offers_the_exchanges_coins_busiest_first_and_checks_the_link(world):
    """Live: the Coin box lists Bybit's USDT perpetuals by 24h traded value (ETH before BTC); a link
    naming a coin Bybit does not list falls back to BTC with a plain notice."""
    at = open_app(ex="bybit")
    assert_page_intact(at, "bybit")
    assert list(at.selectbox(key="sidebar_sym").options) == ["ETH perpetual (USDT)", "BTC perpetual (USDT)"]
    at = open_app(ex="bybit", sym="ethusdt")
    assert at.selectbox(key="sidebar_sym").value == "ETH/USDT:USDT" and badge(at) == "Live"
    at = open_app(ex="bybit", sym="SOL/USDT:USDT")
    assert at.selectbox(key="sidebar_sym").value == "BTC/USDT:USDT"
    assert any("Ignored sym='SOL?USDT?USDT'" in w and "not a coin this exchange lists" in w for w in warnings(at))


def test_a_sample_shows_its_own_market_not_the_exchange_and_coin_boxes(world):
    """A recorded sample hides the Exchange and Coin boxes and says what it is in plain words."""
    at = open_app(src="btc_2026-09")
    labels = [s.label for s in at.sidebar.selectbox]
    assert "Exchange" not in labels and "Coin" not in labels
    assert any("Recorded data: BTC price from bitFlyer (in USD) with OKX open interest" in c.value
               for c in at.sidebar.caption)
