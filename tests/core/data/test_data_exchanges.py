"""Issue 14: what the exchanges document, replayed through ccxt 4.5.90's own parsers.

Each test serves the documented raw response (tests/fixtures/fake_exchanges.py) to a real ccxt
client built by the app's ``make_client``; ccxt parses it, the app reads ccxt's result.
"""

from __future__ import annotations

import functools

import ccxt
import pandas as pd
import pytest
from fixtures.fake_exchanges import (
    DAY,
    FakeExchange,
    bybit_open_interest,
    fakes_at,
    html_reply,
    json_reply,
    oi_base,
    price_at,
    replying,
)

from core.data.clients import BoundedSession, ClientPool, HttpProbe, client_config, make_client, proxy_from_environment
from core.data.coins import OFFLINE_COINS, list_coins, margin_note, quote_volume_usd, rank_perpetuals, validate_symbol
from core.data.errors import DataUnavailable
from core.data.failures import describe_failure
from core.data.live import fetch_live
from core.data.open_interest import choose_oi_period
from core.data.venues import bybit_one_side

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")


def pool_for(fakes: dict[str, FakeExchange]) -> ClientPool:
    return ClientPool(lambda ex: fakes[ex].client())


def live(exchange: str, fakes, timeframe: str = "5m", lookback: str = "12h", now: pd.Timestamp | None = None):
    return fetch_live(exchange, "BTC/USDT:USDT", timeframe, lookback, pool=pool_for(fakes), now=now or fakes[exchange].now)


# ------------------------------------------------------------------------------------------------ 1 Bybit OI


def test_bybit_open_interest_is_one_side():
    """Item 1. Bybit v5 GET /v5/market/open-interest (https://bybit-exchange.github.io/docs/v5/market/open-interest;
    live sample in ccxt issue 30014): ``openInterest`` is both sides summed, ``singleOpenInterest`` one side.
    The app uses one side, like Binance's sumOpenInterest and OKX's oi."""
    market = live("bybit", fakes_at(NOW))
    close = market.candles.index[-2] + pd.Timedelta("5min")
    ts = int(close.value // 1_000_000)
    assert market.open_interest.iloc[-2] == pytest.approx(oi_base(ts) * price_at(ts), rel=2e-3)
    assert any("singleOpenInterest" in n for n in market.notes)


def test_bybit_open_interest_without_single_side_is_halved_and_said():
    """Item 1, the other shape: only ``openInterest`` (documented as both sides): halved, with a note."""
    fakes = fakes_at(NOW)
    fakes["bybit"].routes["/v5/market/open-interest"] = functools.partial(bybit_open_interest, single=False)
    market = live("bybit", fakes)
    close = market.candles.index[-2] + pd.Timedelta("5min")
    ts = int(close.value // 1_000_000)
    assert market.open_interest.iloc[-2] == pytest.approx(oi_base(ts) * price_at(ts), rel=2e-3)
    assert any("halved" in n for n in market.notes)


def test_bybit_one_side_reads_cc_xt_records():
    """ccxt 4.5.90 bybit.parse_open_interest: openInterest -> openInterestAmount; raw row in info."""
    assert bybit_one_side({"openInterestAmount": 10.0, "info": {"openInterest": "10", "singleOpenInterest": "5"}}) == (5.0, "single")
    assert bybit_one_side({"openInterestAmount": 10.0, "info": {"openInterest": "10"}}) == (5.0, "halved")
    amount, how = bybit_one_side({"info": {}})
    assert how == "missing" and amount != amount


# ------------------------------------------------------------------------------------------------ 2 OKX 1,440


def test_okx_period_covers_the_window_within_the_latest_1440_entries():
    """Item 2. OKX GET /api/v5/rubik/stat/contracts/open-interest-history keeps only the latest 1,440
    entries of a period (https://www.okx.com/docs-v5/en/ "Trading Statistics > Get contract open
    interest history"): 5m reaches 120 hours back, so 7 days use 1h; 3 days keep 5m."""
    assert choose_oi_period("okx", "5m", "3d") == "5m"
    assert choose_oi_period("okx", "5m", "7d") == "1h"
    assert choose_oi_period("okx", "1m", "30d") == "1h"


def test_okx_seven_days_of_5m_candles_have_open_interest_throughout():
    """Item 2 end to end: the fake keeps the latest 1,440 entries like OKX; no candle lacks OI."""
    market = live("okx", fakes_at(NOW), timeframe="5m", lookback="7d")
    assert market.open_interest.notna().all()
    assert any("every 1h" in n for n in market.notes)


# ------------------------------------------------------------------------------------------------ 4 depth


def test_a_book_reaching_the_band_is_summed_as_is():
    """Item 4: when both sides reach 1% from the mid, nothing is extrapolated and no note is given."""
    from core.data.depth import book_depth

    mid = 100.0
    bids = [[mid - 0.05 - 0.1 * i, 2.0] for i in range(20)]
    asks = [[mid + 0.05 + 0.1 * i, 1.0] for i in range(20)]
    session = pool_for(fakes_at(NOW)).get("binanceusdm")
    depth = book_depth({"bids": bids, "asks": asks}, 1.0, 0.01, session)
    in_bids = sum(p * q for p, q in bids if p >= mid * 0.99)
    in_asks = sum(p * q for p, q in asks if p <= mid * 1.01)
    assert depth.reach == 1.0 and depth.note == ""
    assert depth.usd == depth.seen_usd == pytest.approx((in_bids + in_asks) / 2)


def test_a_thin_book_is_extrapolated_at_most_max_depth_scale():
    """Item 4: a side that reaches a sliver of the band is scaled up by band / reach, but never more
    than MAX_DEPTH_SCALE; the note then says the depth is a lower bound."""
    from core.data.depth import MAX_DEPTH_SCALE, book_depth

    session = pool_for(fakes_at(NOW)).get("okx")
    thin = {"bids": [[99.99, 1.0], [99.98, 1.0]], "asks": [[100.01, 1.0], [100.55, 1.0]]}  # mid 100: 2% / 55%
    depth = book_depth(thin, 1.0, 0.01, session)
    bid, ask = 99.99 + 99.98, 100.01 + 100.55
    assert depth.usd == pytest.approx((bid * MAX_DEPTH_SCALE + ask / ((100.55 - 100.0) / 1.0)) / 2)
    assert "at most 20x" in depth.note and depth.seen_usd == pytest.approx((bid + ask) / 2)


# ------------------------------------------------------------------------------------------------ 9 smaller


def test_okx_funding_sends_no_undocumented_until():
    """Item 9. OKX "Public Data > Get funding rate history" takes instId, before, after, limit only."""
    fakes = fakes_at(NOW)
    live("okx", fakes)
    funding = [p for path, p in fakes["okx"].calls if path == "/api/v5/public/funding-rate-history"]
    assert funding and all("until" not in p for p in funding)
    binance = fakes_at(NOW)
    live("binanceusdm", binance)  # Binance documents endTime: ccxt maps until to it
    assert any("endTime" in p for path, p in binance["binanceusdm"].calls if path == "/fapi/v1/fundingRate")


def test_long_short_ratio_covering_less_than_the_window_says_so():
    """Item 9. OKX serves 100 hourly long/short points (about 4 days): a 7-day window gets a note."""
    market = live("okx", fakes_at(NOW), timeframe="1h", lookback="7d")
    assert market.long_short_ratio is not None
    assert any("long/short ratio" in n and "covers only" in n for n in market.notes)
    short = live("okx", fakes_at(NOW), timeframe="5m", lookback="24h")
    assert not any("covers only" in n for n in short.notes)


def test_binance_30_day_clip_uses_the_exchanges_clock():
    """Item 9. Binance "Open Interest Statistics": only the latest 30 days; the clip is computed on
    Binance's clock (GET /fapi/v1/time), so a local clock 2 hours behind gets no 400 error."""
    fakes = fakes_at(NOW)
    behind = NOW - pd.Timedelta(hours=2)
    market = live("binanceusdm", fakes, timeframe="1h", lookback="30d", now=behind)
    assert "/fapi/v1/time" in fakes["binanceusdm"].paths()
    assert market.open_interest.notna().sum() > 24 * 25
    assert any("last 30 days" in n for n in market.notes)
    oi_starts = [int(p["startTime"]) for path, p in fakes["binanceusdm"].calls if path.endswith("openInterestHist")]
    assert min(oi_starts) >= fakes["binanceusdm"].now_ms - 30 * DAY


def test_proxy_variables_reach_ccxt():
    """Item 9. ccxt's requests session ignores proxy variables (trust_env False): HTTPS_PROXY,
    else HTTP_PROXY, goes into ccxt's httpsProxy (every endpoint is https)."""
    assert proxy_from_environment({"HTTPS_PROXY": "http://p:3128", "HTTP_PROXY": "http://q:1"}) == "http://p:3128"
    assert proxy_from_environment({"http_proxy": "http://q:1"}) == "http://q:1"
    assert proxy_from_environment({}) is None
    config = client_config("bybit", {"HTTPS_PROXY": "http://p:3128"})
    assert config["httpsProxy"] == "http://p:3128"
    assert "httpsProxy" not in client_config("bybit", {})
    client = ccxt.bybit(config)
    assert client.check_proxy_settings("https://api.bybit.com/v5/market/time", "GET", {}, None)[1] == "http://p:3128"


def test_no_http_status_is_guessed_from_error_text():
    """Item 9. A ccxt error whose text holds "451 " is not a region block when the response said nothing."""
    error = ccxt.ExchangeError("binanceusdm GET https://fapi.binance.com/x 451 something")
    mapped = describe_failure(error, "binanceusdm", HttpProbe(), "candles")
    assert mapped.reason == "exchange_error" and "451" not in mapped.message


def test_connect_timeout_is_short_and_read_timeout_kept(monkeypatch):
    """Item 8. ccxt passes one timeout number; the app's session connects within CONNECT_TIMEOUT."""
    seen = {}

    def fake_request(self, method, url, **kwargs):
        seen.update(kwargs)
        raise ccxt.NetworkError("stop")

    monkeypatch.setattr("requests.Session.request", fake_request)
    client = make_client("okx")
    assert isinstance(client.session, BoundedSession)
    with pytest.raises(ccxt.NetworkError):
        client.session.request("GET", "https://www.okx.com/api/v5/public/time", timeout=10.0)
    assert seen["timeout"] == (3.0, 10.0)


# ------------------------------------------------------------------------------------------------ region blocks


@pytest.mark.parametrize(
    ("exchange", "reply", "words"),
    [
        ("binanceusdm", json_reply({"code": 0, "msg": "Service unavailable from a restricted location"}, 451),
         ("HTTP 451", "USA", "bundled samples")),
        ("bybit", html_reply(403, "403 ERROR The request could not be satisfied. Generated by cloudfront (CloudFront)"),
         ("CloudFront", "USA", "other exchanges")),
    ],
)
def test_region_blocks_name_the_cause_and_what_still_works(exchange, reply, words):
    """Binance answers 451 to restricted regions ("HTTP Return Codes"); Bybit's CloudFront answers 403
    to US addresses (what US hosting looks like)."""
    fakes = fakes_at(NOW)
    fakes[exchange].fault = replying(reply)
    with pytest.raises(DataUnavailable) as info:
        live(exchange, fakes)
    assert info.value.reason == "geo_blocked"
    assert all(w in info.value.message for w in words)


# ------------------------------------------------------------------------------------------------ coins


def test_coins_are_linear_usdt_perpetuals_by_quote_volume(tmp_path):
    """Binance quoteVolume, Bybit turnover24h, OKX volCcy24h x last (ccxt leaves OKX swaps' quoteVolume
    empty): ETH (12 bn) before BTC (9 bn) on every exchange; one ticker call, cached."""
    from fixtures.fake_exchanges import FakeClock, make_services

    fakes = fakes_at(NOW)
    services = make_services(tmp_path, FakeClock(NOW), fakes)
    for exchange, fake in fakes.items():
        coins, note = list_coins(exchange, services=services)
        assert coins == ("ETH/USDT:USDT", "BTC/USDT:USDT") and note == ""
        again, _ = list_coins(exchange, services=services)
        assert again == coins and len(fake.calls) == 1


def test_coins_offline_fall_back_to_the_five(tmp_path):
    from fixtures.fake_exchanges import FakeClock, make_services

    fakes = fakes_at(NOW)
    fakes["bybit"].fault = replying(html_reply(502, "Bad Gateway"))
    coins, note = list_coins("bybit", services=make_services(tmp_path, FakeClock(NOW), fakes))
    assert coins == OFFLINE_COINS and "usual five coins" in note


def test_rank_perpetuals_filters_and_orders():
    markets = {
        "A/USDT:USDT": {"swap": True, "linear": True, "quote": "USDT", "settle": "USDT"},
        "B/USDT:USDT": {"swap": True, "linear": True, "quote": "USDT", "settle": "USDT", "contractSize": 0.1},
        "C/USDC:USDC": {"swap": True, "linear": True, "quote": "USDC", "settle": "USDC"},
        "D/USD:D": {"swap": True, "inverse": True, "quote": "USD", "settle": "D"},
        "E/USDT": {"spot": True, "quote": "USDT"},
        "F/USDT:USDT": {"swap": True, "linear": True, "quote": "USDT", "settle": "USDT", "active": False},
        "G/USDT:USDT": {"swap": True, "linear": True, "quote": "USDT", "settle": "USDT"},
    }
    tickers = {"A/USDT:USDT": {"quoteVolume": 5.0}, "B/USDT:USDT": {"baseVolume": 1000.0, "last": 2.0}}
    assert rank_perpetuals(markets, tickers) == ("B/USDT:USDT", "A/USDT:USDT", "G/USDT:USDT")
    assert quote_volume_usd({"last": 10.0, "info": {"volCcy24h": "3"}}, {}) == 30.0


def test_url_symbols_validate_against_the_list_or_the_five():
    coins = ("ETH/USDT:USDT", "PEPE/USDT:USDT")
    assert validate_symbol("PEPE/USDT:USDT", coins) == "PEPE/USDT:USDT"
    assert validate_symbol("pepeusdt", coins) == "PEPE/USDT:USDT"
    assert validate_symbol("pepe", coins) == "PEPE/USDT:USDT"
    assert validate_symbol("BTC/USDT:USDT", coins) is None
    assert validate_symbol("BTC/USDT:USDT", None) == "BTC/USDT:USDT"
    assert validate_symbol("PEPE/USDT:USDT", None) is None
    assert validate_symbol("<script>", coins) is None and validate_symbol(3, coins) is None


def test_margin_note_names_the_table_or_the_flat_rate():
    assert "brackets" in margin_note("binanceusdm", "BTC/USDT:USDT")
    assert "used for Bybit" in margin_note("bybit", "ETH/USDT:USDT")
    assert "flat maintenance rate" in margin_note("okx", "PEPE/USDT:USDT")


def test_new_coins_pass_validation_before_the_markets_are_asked():
    """Any unified USDT perpetual passes check_choices; the exchange's markets decide."""
    fakes = fakes_at(NOW)
    with pytest.raises(DataUnavailable, match="does not list SOL"):
        fetch_live("bybit", "SOL/USDT:USDT", "5m", "12h", pool=pool_for(fakes), now=NOW)
    with pytest.raises(DataUnavailable) as info:
        fetch_live("bybit", "BTC/USD", "5m", "12h", pool=pool_for(fakes), now=NOW)
    assert info.value.reason == "bad_symbol" and not fakes["bybit"].calls


def test_bybit_liquidation_price_matches_its_documented_examples():
    """Bybit help centre "Liquidation Price (USDT Contract)", isolated margin, Example 1: a long of 1 BTC
    at 20,000 USDT with 50x and MMR 0.5%: IM 400, MM 100, LP = 20,000 - (400 - 100) = 19,700."""
    from core.data.venues import bybit_liquidation_price

    assert bybit_liquidation_price(20_000.0, 50, 0.005, 1) == pytest.approx(19_700.0)
    assert bybit_liquidation_price(20_000.0, 50, 0.005, -1) == pytest.approx(20_300.0)
    # Binance's formula, entry x (1 - 1/lev) / (1 - mmr), differs by about 0.01% of the price here
    binance = 20_000.0 * (1 - 1 / 50) / (1 - 0.005)
    assert abs(binance - 19_700.0) / 20_000.0 < 2e-4
