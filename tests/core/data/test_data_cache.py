"""The single-flight TTL cache: one upstream call per key, bounded, with a circuit breaker."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from fixtures.fake_exchanges import FakeClock, fakes_at, make_services

from core.data.cache import SingleFlightCache, time_bucket
from core.data.errors import DataUnavailable
from core.data.load import load_market

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")


def _hammer(n: int, call) -> tuple[list, list]:
    """Run ``call`` from ``n`` threads released at once; return results and errors."""
    barrier = threading.Barrier(n)
    results, errors = [], []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        try:
            value = call()
            with lock:
                results.append(value)
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results, errors


def _compute_after_followers(cache: SingleFlightCache, key, followers: int, outcome):
    """A compute that waits until ``followers`` callers wait on it, then returns/raises ``outcome``
    (so the threads provably overlap, without sleeping)."""
    calls = []

    def compute():
        calls.append(1)
        assert cache.wait_for_followers(key, followers, timeout=10)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return compute, calls


def test_twenty_threads_one_upstream_call():
    """20 simultaneous requests for one market cause exactly one upstream call, same result."""
    cache = SingleFlightCache()
    compute, calls = _compute_after_followers(cache, "k", 19, object())
    results, errors = _hammer(20, lambda: cache.get("k", compute))
    assert len(calls) == 1 and not errors and len(results) == 20
    assert all(r is results[0] for r in results)


def test_twenty_threads_share_one_failure():
    """When the one upstream call fails, every waiting caller gets the same plain error."""
    cache = SingleFlightCache()
    error = DataUnavailable("Bybit took too long to answer", "timeout", "bybit")
    compute, calls = _compute_after_followers(cache, "k", 19, error)
    results, errors = _hammer(20, lambda: cache.get("k", compute, breaker="bybit"))
    assert len(calls) == 1 and not results and len(errors) == 20
    assert all(isinstance(e, DataUnavailable) and e.reason == "timeout" for e in errors)


class Rerun(BaseException):
    """Stands in for Streamlit's RerunException/StopException (BaseExceptions, not Exceptions)."""


def test_a_leaders_base_exception_never_reaches_followers():
    """Issue 14 item 3: a BaseException of the leader (its session's rerun) is re-raised in the
    leader only; the follower calls upstream itself and gets a value, never the Rerun."""
    cache = SingleFlightCache()
    calls = []
    leader_in = threading.Event()

    def leading():
        calls.append("leader")
        leader_in.set()
        assert cache.wait_for_followers("k", 1, timeout=10)
        raise Rerun()

    outcome = {}

    def follower():
        leader_in.wait(10)
        try:
            outcome["value"] = cache.get("k", lambda: calls.append("follower") or "fresh")
        except BaseException as error:  # noqa: BLE001 - recorded for the assertion
            outcome["error"] = error

    thread = threading.Thread(target=follower)
    thread.start()
    with pytest.raises(Rerun):
        cache.get("k", leading)
    thread.join(10)
    assert outcome == {"value": "fresh"}
    assert calls == ["leader", "follower"]
    assert cache.open_failure("k") is None


def test_a_rerun_from_the_leaders_progress_keeps_the_fetch(tmp_path):
    """Issue 14 item 3 end to end: the leader's progress callback raises (its user clicked);
    the fetch still completes and is cached, a waiting session gets the data and its own
    progress only, and the leader's session gets its Rerun after the fetch."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    services = make_services(tmp_path, clock, fakes)
    key_bucket = time_bucket(NOW, "5m")
    key = ("market", "bybit", "BTC/USDT:USDT", "5m", "12h", key_bucket)
    seen_by_follower: list[str] = []
    raised = []

    def leader_progress(fraction: float, message: str) -> None:
        if fraction > 0 and not raised:
            assert services.cache.wait_for_followers(key, 1, timeout=10)
            raised.append(message)
            raise Rerun()

    outcome = {}

    def follower():
        try:
            outcome["market"] = load_market("bybit", "BTC/USDT:USDT", "5m", "12h", source="live", services=services,
                                            progress=lambda f, m: seen_by_follower.append(m))
        except BaseException as error:  # noqa: BLE001 - recorded for the assertion
            outcome["error"] = error

    started = threading.Event()
    original = services.clients.get

    def get_and_signal(exchange):
        started.set()
        return original(exchange)

    services.clients.get = get_and_signal
    thread = threading.Thread(target=lambda: (started.wait(10), follower()))
    thread.start()
    with pytest.raises(Rerun):
        load_market("bybit", "BTC/USDT:USDT", "5m", "12h", source="live", services=services, progress=leader_progress)
    thread.join(10)
    assert "error" not in outcome and outcome["market"].source == "live"
    assert services.cache.upstream_calls == 1  # the fetch was not thrown away
    assert seen_by_follower == ["Done"]  # the leader's messages never reached the follower
    assert services.cache.get(key, lambda: pytest.fail("refetched")) is outcome["market"]


def test_cache_stays_bounded():
    """Distinct keys beyond maxsize evict older entries instead of growing."""
    cache = SingleFlightCache(maxsize=8)
    for i in range(100):
        assert cache.get(("m", i), lambda i=i: i) == i
    assert len(cache) <= 8 and cache.maxsize == 8
    assert cache.get(("m", 99), lambda: "recomputed") == 99  # the newest is still there


def test_entries_expire_after_ttl():
    """After ``ttl`` seconds the value is fetched again."""
    clock = FakeClock(NOW)
    cache = SingleFlightCache(ttl=60, timer=clock.seconds)
    assert cache.get("k", lambda: 1) == 1
    clock.advance(seconds=59)
    assert cache.get("k", lambda: 2) == 1
    clock.advance(seconds=2)
    assert cache.get("k", lambda: 3) == 3


def test_breaker_remembers_transient_failures_then_retries():
    """A down exchange fails fast for ``failure_ttl`` seconds, then is asked again."""
    clock = FakeClock(NOW)
    cache = SingleFlightCache(failure_ttl=30, timer=clock.seconds)
    calls = []

    def down():
        calls.append(1)
        raise DataUnavailable("Could not reach OKX (no network)", "no_network", "okx")

    with pytest.raises(DataUnavailable):
        cache.get(("okx", "BTC"), down, breaker="okx")
    with pytest.raises(DataUnavailable) as info:
        cache.get(("okx", "ETH"), down, breaker="okx")  # another market of the same exchange
    assert len(calls) == 1 and info.value.reason == "no_network"
    assert cache.get(("bybit", "BTC"), lambda: "up", breaker="bybit") == "up"
    clock.advance(seconds=31)
    assert cache.open_failure("okx") is None
    assert cache.get(("okx", "BTC"), lambda: "back", breaker="okx") == "back"


def test_input_errors_do_not_open_the_breaker():
    """An unknown symbol is not an outage: the exchange stays usable."""
    cache = SingleFlightCache()

    def bad():
        raise DataUnavailable("OKX does not list FOO", "bad_symbol", "okx")

    with pytest.raises(DataUnavailable):
        cache.get("foo", bad, breaker="okx")
    assert cache.get("btc", lambda: 1, breaker="okx") == 1


def test_time_bucket_floors_to_candle_or_minute():
    """Keys change with each new candle, and at least once a minute."""
    t = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
    assert time_bucket(t, "5m") == int(pd.Timestamp("2026-03-10 12:00", tz="UTC").timestamp())
    assert time_bucket(t, "1m") == int(pd.Timestamp("2026-03-10 12:03", tz="UTC").timestamp())
    assert time_bucket(t) == time_bucket(t, "1m")
    assert time_bucket(t, "bogus") == time_bucket(t)


def test_twenty_threads_loading_one_market_fetch_it_once(tmp_path):
    """20 sessions opening the same chart cause one set of exchange requests."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    services = make_services(tmp_path, clock, fakes)
    load_market("bybit", "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    single = len(fakes["bybit"].calls)
    fakes["bybit"].calls.clear()
    services.cache.clear()
    results, errors = _hammer(20, lambda: load_market("bybit", "BTC/USDT:USDT", "5m", "12h", source="live", services=services))
    assert not errors and len(results) == 20
    assert len(fakes["bybit"].calls) == single
    assert services.cache.upstream_calls == 2


def test_one_upstream_call_per_market_for_the_whole_time_bucket():
    """Entries outlive their bucket: a 5m market asked for at 00:00:10 and 00:04:50 is fetched once."""
    import pandas as pd

    from core.data.cache import MAX_BUCKET, SingleFlightCache, time_bucket

    clock = [0.0]
    cache = SingleFlightCache(timer=lambda: clock[0])
    calls = []
    t0 = pd.Timestamp("2026-01-01 00:00:10", tz="UTC")
    for offset in (0, 100, 280):
        clock[0] = float(offset)
        key = ("market", "bybit", "BTC/USDT:USDT", "5m", "3d", time_bucket(t0 + pd.Timedelta(seconds=offset), "5m"))
        cache.get(key, lambda: calls.append(1) or "data")
    assert len(calls) == 1
    assert time_bucket(pd.Timestamp("2026-01-01 00:59:00", tz="UTC"), "1h") != time_bucket(
        pd.Timestamp("2026-01-01 00:01:00", tz="UTC"), "1h"
    )  # an hourly market is never more than MAX_BUCKET behind
    assert MAX_BUCKET == pd.Timedelta(minutes=5)
