"""Every data-layer fault ends in a plain ``DataUnavailable`` ("live") or a fallback ("auto").

Faults are injected below ccxt (in the HTTP session), so ccxt's own status handling
(``handle_errors``, ``handle_http_status_code``, ``httpExceptions``) decides the exception class.
"""

from __future__ import annotations

import re

import ccxt
import pandas as pd
import pytest
import requests
from fixtures.fake_exchanges import FakeClock, Reply, fakes_at, html_reply, json_reply, make_services, raising, replying

from core.data.errors import DataUnavailable
from core.data.live import ClientPool, fetch_live
from core.data.load import load_market

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
EXCHANGE_IDS = ("binanceusdm", "bybit", "okx")
RATE_LIMIT_BODY = {
    "binanceusdm": {"code": -1003, "msg": "Too many requests; current limit of IP is 2400 requests per minute."},
    "bybit": {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": 0},
    "okx": {"code": "50011", "msg": "Too Many Requests", "data": []},
}

# name -> (fault builder(exchange), reasons accepted, words the message must contain)
FAULTS = {
    "timeout": (lambda ex: raising(requests.exceptions.ReadTimeout("Read timed out.")), {"timeout"}, "took too long"),
    "dns failure": (
        lambda ex: raising(requests.exceptions.ConnectionError("Failed to resolve host (Temporary failure in name resolution)")),
        {"no_network"},
        "Could not reach",
    ),
    "429": (lambda ex: replying(json_reply(RATE_LIMIT_BODY[ex], 429)), {"rate_limited"}, "rate-limiting us (HTTP 429)"),
    "418": (
        lambda ex: replying(json_reply({"code": -1003, "msg": "Way too many requests; IP banned until 1773146000000."}, 418)),
        {"rate_limited"},
        "banned",
    ),
    "451": (
        lambda ex: replying(json_reply({"code": 0, "msg": "Service unavailable from a restricted location."}, 451)),
        {"geo_blocked"},
        "region (HTTP 451)",
    ),
    "403 cdn": (lambda ex: replying(html_reply(403, "403 ERROR The request could not be satisfied")), {"geo_blocked"}, "HTTP 403"),
    "502 html": (lambda ex: replying(html_reply(502, "502 Bad Gateway")), {"exchange_down"}, "HTTP 502"),
    "503 json": (
        lambda ex: replying(json_reply({"code": -1001, "msg": "Internal error; unable to process your request."}, 503)),
        {"exchange_down"},
        "HTTP 503",
    ),
    "html with 200": (lambda ex: replying(html_reply(200, "Welcome to our portal")), {"bad_response"}, "a web page"),
    "{}": (lambda ex: replying(json_reply({})), {"bad_response", "no_data"}, "candles"),
    "[]": (lambda ex: replying(json_reply([])), {"bad_response", "no_data"}, "candles"),
    "malformed json": (lambda ex: replying(Reply(200, '{"retCode": 0, "result": {"list": [[')), {"bad_response"}, "garbled"),
}


def assert_plain(message: str) -> None:
    """No URLs, JSON, class names or tracebacks in what the user reads."""
    assert message and not re.search(r"https?://|[{}\[\]]|Error|ccxt|Traceback|None", message), message


@pytest.fixture
def setup(tmp_path):
    """Fakes, a clock and services with an empty store in tmp_path."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    return fakes, clock, make_services(tmp_path, clock, fakes)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_fault_is_plain_data_unavailable_live(exchange, fault, setup):
    """source="live": the fault reaches the user as one plain sentence, never as another exception."""
    fakes, clock, services = setup
    build, reasons, words = FAULTS[fault]
    fakes[exchange].fault = build(exchange)
    with pytest.raises(DataUnavailable) as info:
        load_market(exchange, "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    assert info.value.reason in reasons
    assert words in info.value.message
    assert_plain(info.value.message)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_fault_falls_back_to_snapshot_then_bundled(exchange, fault, setup):
    """source="auto": a saved snapshot is shown if there is one, else the bundled sample, and the
    first note says why."""
    fakes, clock, services = setup
    build, _, _ = FAULTS[fault]
    fakes[exchange].fault = build(exchange)
    bundled = load_market(exchange, "BTC/USDT:USDT", "5m", "12h", source="auto", services=services)
    assert bundled.source == "bundled" and bundled.notes[0].endswith("Showing the bundled sample instead.")
    assert_plain(bundled.notes[0].removesuffix(" Showing the bundled sample instead."))

    fakes[exchange].fault = None
    clock.advance(seconds=31)  # past the breaker window
    assert load_market(exchange, "BTC/USDT:USDT", "5m", "12h", source="auto", services=services).source == "live"
    fakes[exchange].fault = build(exchange)
    clock.advance(minutes=14)
    snap = load_market(exchange, "BTC/USDT:USDT", "5m", "12h", source="auto", services=services)
    assert snap.source == "snapshot"
    assert "showing the last good data from 14 min ago" in snap.notes[0]


@pytest.mark.parametrize(
    ("exchange", "reply", "ccxt_error"),
    [
        ("binanceusdm", json_reply(RATE_LIMIT_BODY["binanceusdm"], 429), ccxt.DDoSProtection),
        ("binanceusdm", json_reply({"code": -1003, "msg": "banned"}, 418), ccxt.DDoSProtection),
        ("binanceusdm", json_reply({"code": 0, "msg": "restricted location"}, 451), ccxt.ExchangeNotAvailable),
        ("okx", html_reply(451), ccxt.ExchangeNotAvailable),
        ("okx", html_reply(429), ccxt.ExchangeNotAvailable),  # okx overrides httpExceptions: 429 -> not available
        ("okx", json_reply(RATE_LIMIT_BODY["okx"], 429), ccxt.RateLimitExceeded),
        ("bybit", html_reply(451), ccxt.ExchangeNotAvailable),
        ("bybit", html_reply(403), ccxt.RateLimitExceeded),  # bybit overrides httpExceptions: 403 -> rate limit
        ("bybit", json_reply({"code": 0, "msg": "restricted location"}, 451), ccxt.ExchangeError),  # JSON body wins
    ],
)
def test_status_codes_go_through_ccxts_own_mapping(exchange, reply, ccxt_error):
    """The exception class comes from ccxt's status handling; the message from its HTTP status."""
    fakes = fakes_at(NOW)
    fakes[exchange].fault = replying(reply)
    with pytest.raises(DataUnavailable) as info:
        fetch_live(exchange, "BTC/USDT:USDT", "5m", "12h", pool=ClientPool(lambda ex: fakes[ex].client()), now=NOW)
    assert type(info.value.__cause__) is ccxt_error
    assert f"HTTP {reply.status}" in info.value.message


def test_unknown_symbol_live_and_auto(setup):
    """A market the exchange does not list: plain error live; bundled sample (saying so) in auto."""
    fakes, clock, services = setup
    with pytest.raises(DataUnavailable) as info:
        load_market("okx", "SOL/USDT:USDT", "5m", "12h", source="live", services=services)
    assert info.value.reason == "bad_symbol" and "OKX does not list SOL/USDT:USDT" in info.value.message
    market = load_market("okx", "SOL/USDT:USDT", "5m", "12h", source="auto", services=services)
    assert market.source == "bundled"
    assert any("not SOL/USDT:USDT" in n for n in market.notes)


def test_unsupported_timeframe_live_and_auto(setup):
    """A timeframe the app does not offer: plain error live; bundled 5m sample in auto."""
    fakes, clock, services = setup
    with pytest.raises(DataUnavailable) as info:
        load_market("bybit", "BTC/USDT:USDT", "3m", "12h", source="live", services=services)
    assert info.value.reason == "bad_timeframe"
    assert_plain(info.value.message)
    market = load_market("bybit", "BTC/USDT:USDT", "3m", "12h", source="auto", services=services)
    assert market.source == "bundled" and market.timeframe == "5m"
    assert not fakes["bybit"].calls


def test_open_interest_older_than_served_is_not_requested(setup):
    """Binance serves 30 days of OI: a 30-day chart loads, with the oldest candles' OI unknown."""
    fakes, clock, services = setup
    market = load_market("binanceusdm", "BTC/USDT:USDT", "4h", "30d", source="live", services=services)
    assert market.source == "live" and market.open_interest.isna().iloc[0] and market.open_interest.notna().iloc[-1]
    assert any("last 30 days only" in n for n in market.notes)


def test_exchange_that_recovers_is_live_again(setup):
    """Down: fallback, and reruns within 30 s do not hammer it; after the window: live again."""
    fakes, clock, services = setup
    fakes["okx"].fault = raising(requests.exceptions.ConnectionError("Failed to resolve 'www.okx.com'"))
    first = load_market("okx", "BTC/USDT:USDT", "1h", "24h", source="auto", services=services)
    assert first.source == "bundled"
    assert first.notes[0] == "Could not reach OKX (no network). Showing the bundled sample instead."
    asked = len(fakes["okx"].calls)
    fakes["okx"].fault = None  # back up, but the breaker is still open
    clock.advance(seconds=20)
    assert load_market("okx", "BTC/USDT:USDT", "1h", "24h", source="auto", services=services).source == "bundled"
    assert len(fakes["okx"].calls) == asked
    clock.advance(seconds=11)
    again = load_market("okx", "BTC/USDT:USDT", "1h", "24h", source="auto", services=services)
    assert again.source == "live" and again.notes[0] == "Live data from OKX."
    assert len(fakes["okx"].calls) > asked


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ({"code": -1121, "msg": "Invalid symbol."}, "bad_symbol", "Binance does not know this market"),
        ({"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}, "exchange_error", "rejected the request for candles"),
    ],
)
def test_exchange_errors_are_plain(body, reason, words):
    """ccxt's BadSymbol and other ExchangeErrors (HTTP 400 with an error code) read plainly."""
    fakes = fakes_at(NOW)
    fakes["binanceusdm"].fault = replying(json_reply(body, 400))
    with pytest.raises(DataUnavailable) as info:
        fetch_live("binanceusdm", "BTC/USDT:USDT", "5m", "12h", pool=ClientPool(lambda ex: fakes[ex].client()), now=NOW)
    assert info.value.reason == reason and words in info.value.message
    assert isinstance(info.value.__cause__, ccxt.ExchangeError)
