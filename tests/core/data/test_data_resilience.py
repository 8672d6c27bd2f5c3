"""Issue 14 items 5-8 and the incremental refresh: waits the exchange asks for, page retries,
per-request locks, the all-exchanges view fetched concurrently, and request counts."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from fixtures.fake_exchanges import FakeClock, FakeExchange, fakes_at, html_reply, json_reply, make_services

from core.data.cache import SingleFlightCache
from core.data.clients import ClientPool
from core.data.errors import DataUnavailable
from core.data.live import fetch_depth, fetch_live
from core.data.load import load_all_exchanges, load_market

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
KLINES = {"binanceusdm": "/fapi/v1/klines", "bybit": "/v5/market/kline", "okx": "/api/v5/market/history-candles"}


def pool_for(fakes: dict[str, FakeExchange], sleep=None) -> ClientPool:
    return ClientPool(lambda ex: fakes[ex].client(), sleep=sleep or (lambda s: None))


# ------------------------------------------------------------------------------------------------ 5 Retry-After


def test_429_retry_after_keeps_the_breaker_open_that_long(tmp_path):
    """Item 5. Binance "Rate limits": a Retry-After header comes with 429 and 418 and gives the seconds
    to wait. The breaker stays open for that long (not a fixed 30 s); no request goes out meanwhile."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    services = make_services(tmp_path, clock, fakes)
    fakes["binanceusdm"].fault = lambda path, params: json_reply(
        {"code": -1003, "msg": "Too many requests; current limit of IP is 2400 requests per minute."}, 429,
        {"Retry-After": "95"})
    with pytest.raises(DataUnavailable) as info:
        load_market("binanceusdm", "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    assert info.value.reason == "rate_limited" and info.value.retry_after == 95.0
    assert services.cache.breaker_seconds("binanceusdm") == pytest.approx(95.0)
    sent = len(fakes["binanceusdm"].calls)
    clock.advance(seconds=60)
    with pytest.raises(DataUnavailable):
        load_market("binanceusdm", "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    assert len(fakes["binanceusdm"].calls) == sent  # still waiting: nothing sent
    fakes["binanceusdm"].fault = None
    clock.advance(seconds=36)
    assert load_market("binanceusdm", "BTC/USDT:USDT", "5m", "12h", source="live", services=services).source == "live"


def test_418_ban_waits_for_its_end_and_repeat_limits_escalate():
    """Item 5. A 418 without Retry-After waits Binance's shortest ban (2 minutes) or the end named in
    its -1003 message; rate limits repeated right after the window double the wait."""
    now = [0.0]
    cache = SingleFlightCache(timer=lambda: now[0])

    def fail(wait):
        def compute():
            raise DataUnavailable("Binance is rate-limiting us (HTTP 429)", "rate_limited", "binanceusdm", retry_after=wait)
        return compute

    for expected in (30.0, 60.0, 120.0):
        with pytest.raises(DataUnavailable):
            cache.get(("k", now[0]), fail(None), breaker="binanceusdm")
        assert cache.breaker_seconds("binanceusdm") == pytest.approx(expected)
        now[0] += expected
    assert cache.get(("k", "ok"), lambda: "data", breaker="binanceusdm") == "data"  # success resets
    with pytest.raises(DataUnavailable):
        cache.get(("k", "again"), fail(None), breaker="binanceusdm")
    assert cache.breaker_seconds("binanceusdm") == pytest.approx(30.0)


def test_418_body_names_the_end_of_the_ban():
    from core.data.clients import HttpProbe
    from core.data.failures import FIRST_BAN, ban_seconds, describe_failure, retry_after_seconds
    import ccxt

    end = pd.Timestamp("2026-03-10 12:10:00", tz="UTC")
    body = f'{{"code":-1003,"msg":"Way too much request weight used; IP banned until {end.value // 1_000_000}."}}'
    assert ban_seconds(body, NOW) == pytest.approx((end - NOW).total_seconds())
    assert retry_after_seconds("Tue, 10 Mar 2026 12:05:20 GMT", NOW) == pytest.approx(120.0)
    assert retry_after_seconds("12") == 12.0 and retry_after_seconds("soon") is None
    probe = HttpProbe(status=418, body="<html>banned</html>", kind="html")
    assert describe_failure(ccxt.DDoSProtection("x"), "binanceusdm", probe).retry_after == FIRST_BAN


# ------------------------------------------------------------------------------------------------ 6 page retry


def _failing_page(path: str, page: int, times: int, reply):
    """A fault failing the ``page``-th request to ``path`` (0-based) ``times`` times."""
    seen = {"n": 0, "failed": 0}

    def fault(p, params):
        if p != path:
            return None
        index = seen["n"]
        seen["n"] += 1
        if index - seen["failed"] == page and seen["failed"] < times:
            seen["failed"] += 1
            return reply
        return None

    return fault


@pytest.mark.parametrize("exchange", ["binanceusdm", "bybit", "okx"])
def test_a_failed_page_is_retried_with_backoff(exchange):
    """Item 6. The 2nd candle page fails twice (HTTP 502): it is retried after 0.5 s and 1 s and the
    fetch completes with every candle a fetch without faults gets."""
    fakes = fakes_at(NOW)
    fakes[exchange].fault = _failing_page(KLINES[exchange], 1, 2, html_reply(502, "502 Bad Gateway"))
    pauses: list[float] = []
    market = fetch_live(exchange, "BTC/USDT:USDT", "1m", "24h", pool=pool_for(fakes, pauses.append), now=NOW)
    assert pauses == [0.5, 1.0]
    clean = fetch_live(exchange, "BTC/USDT:USDT", "1m", "24h", pool=pool_for(fakes_at(NOW)), now=NOW)
    pd.testing.assert_frame_equal(market.candles, clean.candles)


def test_a_page_failing_past_the_retries_fails_the_fetch_and_the_first_page_fails_fast():
    fakes = fakes_at(NOW)
    fakes["bybit"].fault = _failing_page(KLINES["bybit"], 1, 3, html_reply(503, "503"))
    pauses: list[float] = []
    with pytest.raises(DataUnavailable) as info:
        fetch_live("bybit", "BTC/USDT:USDT", "1m", "24h", pool=pool_for(fakes, pauses.append), now=NOW)
    assert info.value.reason == "exchange_down" and pauses == [0.5, 1.0]
    first = fakes_at(NOW)
    first["bybit"].fault = _failing_page(KLINES["bybit"], 0, 1, html_reply(503, "503"))
    pauses.clear()
    with pytest.raises(DataUnavailable):
        fetch_live("bybit", "BTC/USDT:USDT", "1m", "24h", pool=pool_for(first, pauses.append), now=NOW)
    assert pauses == []  # an exchange that never answered is not retried (fail fast)


def test_rate_limits_are_not_retried_page_by_page():
    fakes = fakes_at(NOW)
    fakes["bybit"].fault = _failing_page(KLINES["bybit"], 1, 1, json_reply({"retCode": 10006, "retMsg": "Too many visits!"}, 429))
    pauses: list[float] = []
    with pytest.raises(DataUnavailable) as info:
        fetch_live("bybit", "BTC/USDT:USDT", "1m", "24h", pool=pool_for(fakes, pauses.append), now=NOW)
    assert info.value.reason == "rate_limited" and pauses == []


# ------------------------------------------------------------------------------------------------ 7 locks


def test_the_exchange_lock_is_not_held_for_a_whole_fetch():
    """Item 7. While a 1m/24h OKX fetch (15 candle pages) is paused between pages, another market
    and the order book of the same exchange are served on the same client."""
    fakes = fakes_at(NOW)
    pool = pool_for(fakes)
    paused, resume = threading.Event(), threading.Event()

    def progress(fraction, message):
        if "candles 3/" in message and not paused.is_set():
            paused.set()
            assert resume.wait(10)

    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("m", fetch_live(
        "okx", "BTC/USDT:USDT", "1m", "24h", pool=pool, now=NOW, progress=progress)))
    worker.start()
    assert paused.wait(10)
    depth = fetch_depth("okx", "BTC/USDT:USDT", pool=pool)  # would deadlock if the fetch held the lock
    other = fetch_live("okx", "ETH/USDT:USDT", "1h", "12h", pool=pool, now=NOW)
    resume.set()
    worker.join(10)
    assert depth.usd > 0 and other.symbol == "ETH/USDT:USDT"
    assert outcome["m"].candles.index[-1] <= NOW


# ------------------------------------------------------------------------------------------------ 8 concurrency


def test_all_exchanges_are_fetched_at_the_same_time(tmp_path):
    """Item 8. The all-exchanges view does not add the exchanges' waits up: each exchange's first
    request waits at a 3-party barrier, which only opens when all three are in flight at once."""
    fakes = fakes_at(NOW)
    barrier = threading.Barrier(3, timeout=10)

    for fake in fakes.values():
        state = {"met": False}

        def fault(path, params, state=state):
            if not state["met"]:
                state["met"] = True
                barrier.wait()
            return None

        fake.fault = fault
    services = make_services(tmp_path, FakeClock(NOW), fakes)
    messages: list[str] = []
    markets, missing = load_all_exchanges("BTC/USDT:USDT", "5m", "12h", source="live",
                                          progress=lambda f, m: messages.append(m), services=services)
    assert not missing and {m.exchange for m in markets} == set(fakes)
    assert messages[-1] == "Done"


# ------------------------------------------------------------------------------------------------ incremental


def _counts(exchange: str, timeframe: str, lookback: str, tmp_path) -> tuple[int, int, int]:
    """Requests of a first load, of the next bucket's load, and of that load after a restart."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    services = make_services(tmp_path / "a", clock, fakes)
    full = load_market(exchange, "BTC/USDT:USDT", timeframe, lookback, source="live", services=services)
    first = len(fakes[exchange].calls)
    clock.advance(minutes=5)
    fakes[exchange].now = clock.now
    fakes[exchange].calls.clear()
    refreshed = load_market(exchange, "BTC/USDT:USDT", timeframe, lookback, source="live", services=services)
    second = len(fakes[exchange].calls)
    # the same refresh, fetched whole, for comparison
    reference = fetch_live(exchange, "BTC/USDT:USDT", timeframe, lookback, pool=pool_for(fakes_at(clock.now)), now=clock.now)
    pd.testing.assert_frame_equal(refreshed.candles, reference.candles)
    pd.testing.assert_series_equal(refreshed.open_interest, reference.open_interest, rtol=2e-3)
    assert full.candles.index[-1] < refreshed.candles.index[-1] or timeframe == "1h"
    # restart: new cache and clients, the same last-good store
    restarted = fakes_at(clock.now + pd.Timedelta(minutes=5))
    clock.advance(minutes=5)
    services2 = make_services(tmp_path / "a", clock, restarted)
    load_market(exchange, "BTC/USDT:USDT", timeframe, lookback, source="live", services=services2)
    return first, second, len(restarted[exchange].calls)


@pytest.mark.parametrize("exchange", ["binanceusdm", "bybit", "okx"])
@pytest.mark.parametrize(("timeframe", "lookback"), [("5m", "3d"), ("1h", "30d")])
def test_a_new_bucket_fetches_only_what_is_new(exchange, timeframe, lookback, tmp_path):
    """A new time bucket costs one candle page and one OI page (plus funding and the ratio), merged
    onto the last good data and equal to a full fetch; a restart reads the last good data from disk."""
    first, second, after_restart = _counts(exchange, timeframe, lookback, tmp_path)
    assert second <= 4 < first
    assert after_restart <= 4


def test_a_disagreeing_overlap_refetches_everything(tmp_path):
    """If the saved candles do not match the exchange's, the whole window is fetched again."""
    from dataclasses import replace

    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    services = make_services(tmp_path, clock, fakes)
    market = load_market("okx", "BTC/USDT:USDT", "5m", "3d", source="live", services=services)
    bad = market.candles.copy()
    bad.iloc[-2, bad.columns.get_loc("close")] *= 1.01
    bad.iloc[-2, bad.columns.get_loc("high")] = bad.iloc[-2][["open", "close", "high"]].max()
    services.store.save(replace(market, candles=bad, data_id="tampered"))
    clock.advance(minutes=5)
    fakes["okx"].now = clock.now
    fakes["okx"].calls.clear()
    load_market("okx", "BTC/USDT:USDT", "5m", "3d", source="live", services=services)
    assert len(fakes["okx"].calls) > 10


def test_saved_data_without_open_interest_is_fetched_whole(tmp_path):
    """When the last good data has no open interest (that fetch's OI failed), a refresh fetches the
    whole window again instead of keeping the gap."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    services = make_services(tmp_path, clock, fakes)
    fakes["bybit"].fault = lambda path, params: (
        json_reply({"retCode": 10001, "retMsg": "params error", "result": {}}) if path == "/v5/market/open-interest" else None)
    first = load_market("bybit", "BTC/USDT:USDT", "1m", "24h", source="live", services=services)
    assert first.open_interest.isna().all()
    fakes["bybit"].fault = None
    clock.advance(minutes=5)
    fakes["bybit"].now = clock.now
    refreshed = load_market("bybit", "BTC/USDT:USDT", "1m", "24h", source="live", services=services)
    assert refreshed.open_interest.notna().mean() > 0.9
    assert not any(n.startswith("refreshed") for n in refreshed.notes)
