"""Live fetching through ccxt's real code path, served by fake exchanges (no network).

Covers: replay of ccxt's recorded responses, pagination (since/limit/until, row limits, Binance's
30-day OI limit), progress, OI in USD, cleaning, validation before any request, markets limited
to linear swaps, and the mapping of ccxt errors to plain ``DataUnavailable`` messages.
"""

from __future__ import annotations

import copy

import ccxt
import numpy as np
import pandas as pd
import pytest
from fixtures.fake_exchanges import (
    DAY,
    FakeExchange,
    Reply,
    fakes_at,
    html_reply,
    json_reply,
    oi_base,
    price_at,
    recorded,
    replying,
)

from core.data.depth import MAX_DEPTH_SCALE
from core.data.errors import DataUnavailable
from core.data.live import (
    LIMITS,
    ClientPool,
    choose_oi_period,
    client_config,
    fetch_depth,
    fetch_depth_usd,
    fetch_live,
    make_client,
    plan_windows,
)

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
NOW_MS = int(NOW.value // 1_000_000)
EXCHANGE_IDS = ("binanceusdm", "bybit", "okx")
KLINES = {"binanceusdm": "/fapi/v1/klines", "bybit": "/v5/market/kline", "okx": "/api/v5/market/history-candles"}
OI_PATHS = {
    "binanceusdm": "/futures/data/openInterestHist",
    "bybit": "/v5/market/open-interest",
    "okx": "/api/v5/rubik/stat/contracts/open-interest-history",
}


def pool_for(fakes: dict[str, FakeExchange]) -> ClientPool:
    return ClientPool(lambda ex: fakes[ex].client())


def live(exchange: str, fakes: dict[str, FakeExchange], timeframe: str = "5m", lookback: str = "3d", **kw):
    return fetch_live(exchange, "BTC/USDT:USDT", timeframe, lookback, pool=pool_for(fakes), now=fakes[exchange].now, **kw)


def kline_calls(fake: FakeExchange) -> list[dict]:
    return [p for path, p in fake.calls if path.endswith(("klines", "kline", "candles"))]


# ------------------------------------------------------------------------------------------------
# Replaying ccxt's own recordings


def _window_filter(rows: list, lo: int, hi: int) -> list:
    return [r for r in rows if lo <= int(r[0]) <= hi]


def _recorded_kline_route(exchange: str):
    """Serve the recorded klines of ``exchange`` that fall into the request's window."""
    if exchange == "binanceusdm":
        entry = recorded("binance", "fetchOHLCV", "swap ohlcv")

        def handler(params: dict, now: int) -> Reply:
            rows = _window_filter(entry["httpResponse"], int(params["startTime"]), int(params.get("endTime", now)))
            return json_reply(rows)

    elif exchange == "bybit":
        entry = recorded("bybit", "fetchOHLCV", "swap ohlcv with since and limit")

        def handler(params: dict, now: int) -> Reply:
            body = copy.deepcopy(entry["httpResponse"])
            body["result"]["list"] = _window_filter(body["result"]["list"], int(params["start"]), int(params["end"]))
            return json_reply(body)

    else:
        entry = recorded("okx", "fetchOHLCV", "spot ohlcv with limit and since")

        def handler(params: dict, now: int) -> Reply:
            body = copy.deepcopy(entry["httpResponse"])
            body["data"] = _window_filter(body["data"], int(params["before"]) + 1, int(params["after"]) - 1)
            return json_reply(body)

    return entry, handler


@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_recorded_candles_replay_through_ccxt(exchange):
    """The candles a user sees are exactly what the exchange sent (ccxt's recorded responses)."""
    entry, handler = _recorded_kline_route(exchange)
    timeframe = entry["input"][1]
    parsed = entry["parsedResponse"]
    now = pd.Timestamp(parsed[-1][0] + 90_000, unit="ms", tz="UTC")
    fake = FakeExchange(exchange, now, routes={"/fapi/v1/klines": handler, "/v5/market/kline": handler,
                                               "/api/v5/market/candles": handler,
                                               "/api/v5/market/history-candles": handler})
    market = fetch_live(exchange, "BTC/USDT:USDT", timeframe, "12h", pool=pool_for({exchange: fake}), now=now)
    assert [int(t.value // 1_000_000) for t in market.candles.index] == [row[0] for row in parsed]
    ohlc = market.candles[["open", "high", "low", "close"]].to_numpy()
    assert ohlc == pytest.approx(np.array([row[1:5] for row in parsed], dtype=float), rel=1e-9)
    if exchange != "okx":  # okx's recording is spot; for swaps ccxt reads volume from column 6
        assert market.candles["volume"].to_numpy() == pytest.approx([row[5] for row in parsed])
    assert market.source == "live" and market.exchange == exchange
    assert market.last_candle_forming is (timeframe == "1h")


def test_recorded_market_files_give_linear_swaps():
    """ccxt's recorded markets load without a request and BTC/USDT:USDT is a linear swap."""
    for exchange in EXCHANGE_IDS:
        client = FakeExchange(exchange, NOW).client()
        market = client.market("BTC/USDT:USDT")
        assert market["swap"] and market["linear"]
    assert FakeExchange("okx", NOW).client().market("BTC/USDT:USDT")["contractSize"] == 0.01


# ------------------------------------------------------------------------------------------------
# Pagination and progress


def test_plan_windows_cover_without_overlap():
    """Windows are contiguous, inclusive and hold at most one page."""
    windows = plan_windows(0, 10_000, 100, 7)
    assert windows[0][0] == 0 and windows[-1][1] == 10_000
    assert all(b[0] == a[1] + 1 for a, b in zip(windows, windows[1:]))
    assert all((hi - lo + 1) <= 700 for lo, hi in windows)


@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_paginates_candles_and_open_interest_within_limits(exchange):
    """Three days of 5m candles arrive complete, each request within the exchange's row limit."""
    fakes = fakes_at(NOW)
    seen: list[float] = []
    market = live(exchange, fakes, progress=lambda f, m: seen.append(f))
    limits = LIMITS[exchange]
    idx = market.candles.index
    assert len(idx) == 3 * 288 + 1
    assert (np.diff(idx.asi8) == 5 * 60 * 10**9).all()
    assert idx[0] == (NOW - pd.Timedelta(days=3)).floor("5min") and idx[-1] == NOW.floor("5min")
    calls = kline_calls(fakes[exchange])
    assert len(calls) == -(-len(idx) // limits.ohlcv_page)
    assert all(int(p["limit"]) <= limits.ohlcv_page for p in calls)
    oi_calls = [p for path, p in fakes[exchange].calls if path == OI_PATHS[exchange]]
    assert oi_calls and all(int(p["limit"]) <= limits.oi_page for p in oi_calls)
    assert market.open_interest.notna().all()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3


def test_okx_open_interest_uses_only_its_periods():
    """OKX serves open interest at 5m, 1H and 1D only: a 15m chart asks for 5m, a 4h chart for 1H."""
    assert choose_oi_period("okx", "15m", "3d") == "5m"
    assert choose_oi_period("okx", "4h", "7d") == "1h"
    assert choose_oi_period("binanceusdm", "4h", "7d") == "4h"
    assert choose_oi_period("bybit", "1m", "12h") == "5m"
    fakes = fakes_at(NOW)
    live("okx", fakes, timeframe="4h", lookback="7d")
    periods = {p["period"] for path, p in fakes["okx"].calls if path == OI_PATHS["okx"]}
    assert periods == {"1H"}


def test_binance_open_interest_is_limited_to_30_days():
    """On a 30-day chart Binance's OI starts 30 days back; older candles say so instead of failing."""
    fakes = fakes_at(NOW)
    market = live("binanceusdm", fakes, timeframe="1h", lookback="30d")
    starts = [int(p["startTime"]) for path, p in fakes["binanceusdm"].calls if path == OI_PATHS["binanceusdm"]]
    assert min(starts) >= NOW_MS - 30 * DAY
    assert market.open_interest.iloc[0] != market.open_interest.iloc[0]  # NaN: older than Binance serves
    assert market.open_interest.iloc[1:].notna().all()
    assert any("last 30 days only" in n for n in market.notes)


@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_open_interest_is_usd_notional(exchange):
    """OI is in USD (value, or amount x contract size x price), as of each candle's close."""
    market = live(exchange, fakes_at(NOW), timeframe="5m", lookback="12h")
    close = market.candles.index[-2] + pd.Timedelta("5min")
    ts = int(close.value // 1_000_000)
    assert market.open_interest.iloc[-2] == pytest.approx(oi_base(ts) * price_at(ts), rel=2e-3)


def test_last_candle_forming_is_marked():
    """A chart fetched mid-candle marks its last candle as still forming."""
    assert live("bybit", fakes_at(NOW), lookback="12h").last_candle_forming
    on_boundary = pd.Timestamp("2026-03-10 12:04:59.999", tz="UTC")
    market = live("bybit", fakes_at(on_boundary), lookback="12h")
    assert market.candles.index[-1] == pd.Timestamp("2026-03-10 12:00", tz="UTC") and market.last_candle_forming


def test_funding_and_long_short_ratio_are_fetched():
    """Funding every 8 h and the long/short ratio come along when the exchange has them."""
    market = live("binanceusdm", fakes_at(NOW), lookback="3d")
    assert market.funding is not None and len(market.funding) == 9
    assert market.long_short_ratio is not None and market.long_short_ratio.iloc[-1] == pytest.approx(1.8571)


def test_too_many_requests_is_refused_before_fetching():
    """1m candles over 30 days would take hundreds of OKX calls: the user is told to zoom out."""
    fakes = fakes_at(NOW)
    with pytest.raises(DataUnavailable) as info:
        live("okx", fakes, timeframe="1m", lookback="30d")
    assert info.value.reason == "too_large" and "coarser timeframe" in info.value.message
    assert not kline_calls(fakes["okx"])


# ------------------------------------------------------------------------------------------------
# Cleaning what the exchange sends


def test_nan_duplicate_and_unsorted_rows_are_cleaned_and_counted():
    """Bad rows are dropped and counted in the notes; the good ones are kept in order."""
    step = 300_000
    t0 = (NOW_MS - 12 * 3_600_000) // step * step + step

    def row(ts, price="60000.0"):
        return [ts, price, "60100.0", "59900.0", "60050.0", "1.5", ts + step - 1, "0", 1, "0", "0", "0"]

    rows = [row(t0 + 2 * step), row(t0), row(t0 + step, "NaN"), row(t0), row(t0 + 3 * step), ["garbage"]]
    fake = FakeExchange("binanceusdm", NOW, routes={"/fapi/v1/klines": lambda p, n: json_reply(rows if int(p["startTime"]) <= t0 else [])})
    market = live("binanceusdm", {"binanceusdm": fake}, lookback="12h")
    assert list(market.candles.index.asi8 // 10**6) == [t0, t0 + 2 * step, t0 + 3 * step]
    notes = " ".join(market.notes)
    assert "duplicate" in notes and "missing or non-positive" in notes


def test_all_rows_unusable_is_no_data():
    """Only NaN prices: the user is told the exchange returned no usable candles."""
    bad = [[NOW_MS - 600_000, "NaN", "NaN", "NaN", "NaN", "0", 0, "0", 0, "0", "0", "0"]]
    fake = FakeExchange("binanceusdm", NOW, routes={"/fapi/v1/klines": lambda p, n: json_reply(bad)})
    with pytest.raises(DataUnavailable) as info:
        live("binanceusdm", {"binanceusdm": fake}, lookback="12h")
    assert info.value.reason == "no_data" and "no usable candles" in info.value.message


def test_rejected_open_interest_only_adds_a_note():
    """When the exchange rejects the OI request the candles still load, with the volume proxy noted."""
    fakes = fakes_at(NOW)
    fakes["binanceusdm"].fault = replying(
        json_reply({"code": -1130, "msg": "Data sent for parameter 'startTime' is not valid."}, 400), (OI_PATHS["binanceusdm"],)
    )
    market = live("binanceusdm", fakes, lookback="12h")
    assert market.open_interest.isna().all() and len(market.candles) > 100
    assert any("volume proxy" in n for n in market.notes)


def test_rate_limited_open_interest_fails_the_fetch():
    """A rate limit on the OI endpoint means the exchange is unusable now (the snapshot has OI)."""
    fakes = fakes_at(NOW)
    fakes["bybit"].fault = replying(html_reply(403, "403 ERROR"), (OI_PATHS["bybit"],))
    with pytest.raises(DataUnavailable) as info:
        live("bybit", fakes, lookback="12h")
    assert info.value.reason == "geo_blocked"


def test_failing_funding_and_ratio_only_add_notes():
    """Funding and long/short ratio are optional: their failure is a note, not an error."""
    fakes = fakes_at(NOW)
    fakes["okx"].fault = replying(
        html_reply(502, "Bad Gateway"),
        ("/api/v5/public/funding-rate-history", "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract"),
    )
    market = live("okx", fakes, lookback="12h")
    assert market.funding is None and market.long_short_ratio is None
    assert sum("no funding history" in n or "no long/short ratio" in n for n in market.notes) == 2


# ------------------------------------------------------------------------------------------------
# Validation and client setup


@pytest.mark.parametrize(
    ("symbol", "timeframe", "reason"),
    [
        ("SOL/USDT:USDT", "5m", "bad_symbol"),   # offered by the app, not in the exchange's markets
        ("FOO/USDT:USDT", "5m", "bad_symbol"),   # not offered by the app
        ("BTC/USDT", "5m", "bad_symbol"),        # spot, not a perpetual
        ("BTC/USDT:USDT", "3m", "bad_timeframe"),
    ],
)
@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_bad_symbol_or_timeframe_fails_before_any_request(exchange, symbol, timeframe, reason):
    """Unknown markets and timeframes are refused with a plain message and no request."""
    fakes = fakes_at(NOW)
    with pytest.raises(DataUnavailable) as info:
        fetch_live(exchange, symbol, timeframe, "12h", pool=pool_for(fakes), now=NOW)
    assert info.value.reason == reason and symbol.split("/")[0] in info.value.message + symbol
    assert fakes[exchange].calls == []


@pytest.mark.parametrize(
    ("exchange", "path", "query"),
    [
        ("binanceusdm", "/fapi/v1/exchangeInfo", {}),
        ("bybit", "/v5/market/instruments-info", {"category": "linear"}),
        ("okx", "/api/v5/public/instruments", {"instType": "SWAP"}),
    ],
)
def test_markets_are_loaded_for_linear_swaps_only(exchange, path, query):
    """load_markets asks only for the linear-swap instrument list (1 request, not 5 or 11)."""
    fake = FakeExchange(exchange, NOW, fault=replying(json_reply({"code": "0", "retCode": 0, "result": {"list": []}, "data": []})))
    client = make_client(exchange)
    client.session.request = fake.request
    try:
        client.load_markets()
    except ccxt.BaseError:
        pass
    assert fake.paths() and set(fake.paths()) == {path}
    assert all(query.items() <= params.items() for _, params in fake.calls)
    assert client.enableRateLimit and client.apiKey in (None, "")
    assert client_config(exchange)["options"]["defaultType"] == "swap"


def test_one_client_per_exchange_is_reused():
    """The pool builds each exchange's client once."""
    built: list[str] = []
    fakes = fakes_at(NOW)

    def factory(ex):
        built.append(ex)
        return fakes[ex].client()

    pool = ClientPool(factory)
    for _ in range(3):
        fetch_live("okx", "BTC/USDT:USDT", "1h", "12h", pool=pool, now=NOW)
    assert built == ["okx"]


@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_order_book_depth_from_recorded_books(exchange):
    """Depth is the average of bid and ask USD within 1% of the mid (OKX sizes are contracts)."""
    name = {"binanceusdm": "binance", "bybit": "bybit", "okx": "okx"}[exchange]
    desc = {"binanceusdm": "swap orderbook", "bybit": "swap orderbook", "okx": "Swap orderbook"}[exchange]
    body = recorded(name, "fetchOrderBook", desc)["httpResponse"]
    book = body.get("result") or (body.get("data") or [body])[0]
    bids = np.array([[float(x) for x in lvl[:2]] for lvl in book.get("bids", book.get("b"))])
    asks = np.array([[float(x) for x in lvl[:2]] for lvl in book.get("asks", book.get("a"))])
    mid = (bids[:, 0].max() + asks[:, 0].min()) / 2
    size = 0.01 if exchange == "okx" else 1.0
    expected = (
        (bids[bids[:, 0] >= mid * 0.99].prod(axis=1).sum() + asks[asks[:, 0] <= mid * 1.01].prod(axis=1).sum()) / 2 * size
    )
    depth = fetch_depth(exchange, "BTC/USDT:USDT", pool=pool_for(fakes_at(NOW)))
    assert depth.seen_usd == pytest.approx(expected, rel=1e-9)
    # issue 14 item 4: the recorded books do not reach 1% from the mid, so what was seen is a lower
    # bound; each side is extrapolated by band / reach and the page is told
    bid_reach = min(1.0, (mid - bids[:, 0].min()) / (0.01 * mid))
    ask_reach = min(1.0, (asks[:, 0].max() - mid) / (0.01 * mid))
    bid_usd = bids[bids[:, 0] >= mid * 0.99].prod(axis=1).sum() * size
    ask_usd = asks[asks[:, 0] <= mid * 1.01].prod(axis=1).sum() * size
    # ... by at most MAX_DEPTH_SCALE: OKX's two recorded levels (0.03% of the band) would otherwise
    # be scaled about 2,900x
    floor = 1.0 / MAX_DEPTH_SCALE
    assert depth.reach == pytest.approx(min(bid_reach, ask_reach))
    assert depth.usd == pytest.approx((bid_usd / max(bid_reach, floor) + ask_usd / max(ask_reach, floor)) / 2, rel=1e-9)
    assert depth.usd <= depth.seen_usd * MAX_DEPTH_SCALE * (1 + 1e-12)
    assert fetch_depth_usd(exchange, "BTC/USDT:USDT", pool=pool_for(fakes_at(NOW))) == pytest.approx(depth.usd)
    if depth.reach < 1.0:
        assert depth.usd > depth.seen_usd and "extrapolate" in depth.note
    if depth.reach < floor:
        assert "at most 20x" in depth.note and "may be larger" in depth.note
