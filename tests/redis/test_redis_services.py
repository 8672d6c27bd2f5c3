"""``load_market`` on the shared result cache and last-good store, as two app replicas would run it.

Each "replica" has its own fake exchanges (counting requests), its own local cache and its own
last-good directory; only the redis-server is common. The reference for "one upstream fetch" is a
replica without Redis fetching the same market alone.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import requests
from fixtures.fake_exchanges import FakeClock, FakeExchange, fakes_at, raising

from core.data import shared_services
from core.data.cache import SingleFlightCache
from core.data.live import ClientPool
from core.data.coins import list_coins
from core.data.load import DataServices, fetch_order_book_depth, load_market, order_book_depth
from core.data.shared_cache import SharedCache
from core.data.shared_services import SharedResultCache, SharedSnapshotStore, shared_name, usage_member
from core.data.store import SnapshotStore

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
MARKET = ("bybit", "BTC/USDT:USDT", "5m", "3d")
OFFLINE = requests.exceptions.ConnectionError("Failed to resolve host")


class Replica:
    """One app process: fake exchanges, a local cache and directory, the shared Redis."""

    def __init__(self, url: str | None, store_dir: Path, clock: FakeClock, records_usage: bool = True) -> None:
        self.fakes: dict[str, FakeExchange] = fakes_at(NOW)
        local_cache, local_store = SingleFlightCache(timer=clock.seconds), SnapshotStore(store_dir)
        self.shared = SharedCache.from_url(url) if url else None
        cache = SharedResultCache(self.shared, local_cache, records_usage=records_usage) if self.shared else local_cache
        store = SharedSnapshotStore(self.shared, local_store) if self.shared else local_store
        self.services = DataServices(
            clients=ClientPool(lambda ex: self.fakes[ex].client()), cache=cache, store=store, clock=clock
        )

    def requests(self) -> Counter[str]:
        """Upstream requests per path, all exchanges."""
        return Counter(path for fake in self.fakes.values() for path in fake.paths())

    def load(self, source: str = "live"):
        return load_market(*MARKET, source=source, services=self.services)


@pytest.fixture
def one_fetch(tmp_path) -> Counter[str]:
    """The requests one fetch of MARKET takes (a replica without Redis, alone)."""
    alone = Replica(None, tmp_path / "alone", FakeClock(NOW))
    alone.load()
    assert alone.requests()
    return alone.requests()


def test_two_replicas_many_threads_make_one_upstream_fetch(redis_server, tmp_path, one_fetch):
    """Two replicas x 8 concurrent requests for one market: the requests of exactly one fetch, in total."""
    clock = FakeClock(NOW)
    replicas = [Replica(redis_server.url, tmp_path / f"r{i}", clock) for i in range(2)]
    barrier = threading.Barrier(16)
    results, errors = [], []

    def ask(replica: Replica) -> None:
        barrier.wait(30)
        try:
            results.append(replica.load())
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(r,)) for r in replicas for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 16
    assert replicas[0].requests() + replicas[1].requests() == one_fetch
    assert all(m.source == "live" for m in results)
    for market in results[1:]:
        pd.testing.assert_frame_equal(market.candles, results[0].candles, check_freq=False)


def test_restarted_replicas_are_served_from_redis(redis_server, tmp_path):
    """After a restart (new processes, empty local caches) the same market needs no upstream call."""
    clock = FakeClock(NOW)
    first = Replica(redis_server.url, tmp_path / "a", clock)
    before = first.load()
    restarted = [Replica(redis_server.url, tmp_path / f"b{i}", clock) for i in range(2)]
    for replica in restarted:
        market = replica.load()
        assert replica.requests() == Counter()
        pd.testing.assert_frame_equal(market.candles, before.candles, check_freq=False)
        pd.testing.assert_series_equal(market.open_interest, before.open_interest, check_freq=False)
        assert market.notes == before.notes and market.fetched_at == before.fetched_at


def test_depth_is_shared_too(redis_server, tmp_path):
    """The order-book depth of one replica serves the other (no upstream call)."""
    clock = FakeClock(NOW)
    a, b = Replica(redis_server.url, tmp_path / "a", clock), Replica(redis_server.url, tmp_path / "b", clock)
    depth = fetch_order_book_depth("bybit", "BTC/USDT:USDT", services=a.services)
    assert fetch_order_book_depth("bybit", "BTC/USDT:USDT", services=b.services) == depth
    assert a.requests() and b.requests() == Counter()


def test_depth_keeps_its_reach_and_note_across_replicas(redis_server, tmp_path):
    """The whole ``Depth`` is shared (the note about a shallow book too), not only its USD."""
    clock = FakeClock(NOW)
    a, b = Replica(redis_server.url, tmp_path / "a", clock), Replica(redis_server.url, tmp_path / "b", clock)
    depth = order_book_depth("okx", "BTC/USDT:USDT", services=a.services)
    assert order_book_depth("okx", "BTC/USDT:USDT", services=b.services) == depth
    assert b.requests() == Counter()


def test_coin_lists_are_shared_too(redis_server, tmp_path):
    """One replica's coin list (markets and tickers) serves the other."""
    clock = FakeClock(NOW)
    a, b = Replica(redis_server.url, tmp_path / "a", clock), Replica(redis_server.url, tmp_path / "b", clock)
    coins = list_coins("bybit", services=a.services)
    assert coins[0] and not coins[1]
    assert list_coins("bybit", services=b.services) == coins
    assert a.requests() and b.requests() == Counter()


def test_a_replica_that_never_fetched_shows_the_last_good_data_of_another(redis_server, tmp_path):
    """Replica A fetched; later the exchange fails for B (empty disk): B shows A's data as last good."""
    a = Replica(redis_server.url, tmp_path / "a", FakeClock(NOW))
    live = a.load()
    later = FakeClock(NOW + pd.Timedelta(minutes=40))
    b = Replica(redis_server.url, tmp_path / "b", later)
    for fake in b.fakes.values():
        fake.fault = raising(OFFLINE)
    shown = b.load(source="auto")
    assert shown.source == "snapshot" and shown.fetched_at == live.fetched_at
    assert "showing the last good data from 40 min ago" in shown.notes[0]
    assert any("saved data from 40 min ago" in n for n in shown.notes)
    assert b.services.store.files() == []  # nothing on B's own disk: it came from Redis


def test_redis_killed_the_replica_still_loads_live_and_snapshot(redis_server, tmp_path, caplog):
    """Redis dies: live data is fetched locally (the incremental refresh reading the local disk,
    request for request what a replica without Redis makes) and the last-good store reads the
    local disk; nothing raises."""
    clock, alone_clock = FakeClock(NOW), FakeClock(NOW)
    a, alone = Replica(redis_server.url, tmp_path / "a", clock), Replica(None, tmp_path / "alone", alone_clock)
    a.load()
    alone.load()
    redis_server.kill()
    clock.advance(minutes=10)  # a new time bucket: not in the local cache
    alone_clock.advance(minutes=10)
    before, alone_before = a.requests(), alone.requests()
    market, reference = a.load(), alone.load()
    assert market.source == "live" and market.fetched_at == NOW + pd.Timedelta(minutes=10)
    assert a.requests() - before == alone.requests() - alone_before  # the same fetch as without Redis
    assert a.requests() - before  # and there was one
    assert market.notes == reference.notes and any(n.startswith("refreshed:") for n in market.notes)
    pd.testing.assert_frame_equal(market.candles, reference.candles, check_freq=False)
    for fake in a.fakes.values():
        fake.fault = raising(OFFLINE)
    clock.advance(minutes=10)
    shown = a.load(source="auto")
    assert shown.source == "snapshot" and shown.fetched_at == NOW + pd.Timedelta(minutes=10)
    assert any("unavailable" in r.getMessage() for r in caplog.records if r.name == "core.data.shared_cache")


def test_uses_are_counted_for_the_warmer_but_not_the_warmers_own(redis_server, tmp_path):
    """An app replica's loads count in Redis; a replica with records_usage=False does not."""
    clock = FakeClock(NOW)
    app = Replica(redis_server.url, tmp_path / "a", clock)
    app.load()
    app.load()
    warmer = Replica(redis_server.url, tmp_path / "w", clock, records_usage=False)
    load_market("okx", "ETH/USDT:USDT", "15m", "24h", source="live", services=warmer.services)
    assert app.shared.most_used(5) == ["bybit|BTC/USDT:USDT|5m|3d"]
    score = redis_server.client().zscore(app.shared._usage_key(), "bybit|BTC/USDT:USDT|5m|3d")  # noqa: SLF001
    assert score == 2


@pytest.mark.parametrize(
    ("key", "name"),
    [
        (("market", "bybit", "BTC/USDT:USDT", "5m", "3d", 1773144000), "market|bybit|BTC/USDT:USDT|5m|3d|1773144000"),
        (("depth", "okx", "ETH/USDT:USDT", 60), "depth|okx|ETH/USDT:USDT|60"),
        (("market", "a|b"), None),
        (("market", "has space"), None),
        (("market", True), None),
        (("market", 1.5), None),
        ("market", None),
        ((), None),
    ],
)
def test_only_plain_tuple_keys_are_shared(key, name):
    """Names are unambiguous: a part that could fake a separator keeps the key local."""
    assert shared_name(key) == name


def test_usage_member_names_the_market_only_for_market_keys():
    """The use count is per market and window, not per time bucket."""
    assert usage_member(("market", "bybit", "BTC/USDT:USDT", "5m", "3d", 1)) == "bybit|BTC/USDT:USDT|5m|3d"
    assert usage_member(("depth", "bybit", "BTC/USDT:USDT", 1)) is None


def test_unshared_keys_stay_in_the_local_cache(redis_server):
    """A key kind without a codec never reaches Redis."""
    cache = SharedResultCache(SharedCache.from_url(redis_server.url))
    assert cache.get(("other", "x"), lambda: 41) == 41
    assert cache.get(("other", "x"), lambda: 42) == 41
    assert redis_server.client().dbsize() == 0


def test_defaults_follow_the_environment(monkeypatch, redis_server):
    """Without LIQMAP_REDIS_URL the defaults are the plain local cache and store; with it, the shared ones."""
    monkeypatch.setattr(shared_services, "_PROCESS_SHARED", [])
    monkeypatch.delenv("LIQMAP_REDIS_URL", raising=False)
    assert type(shared_services.default_cache()) is SingleFlightCache
    assert type(shared_services.default_store()) is SnapshotStore
    assert type(DataServices().cache) is SingleFlightCache
    monkeypatch.setattr(shared_services, "_PROCESS_SHARED", [])
    monkeypatch.setenv("LIQMAP_REDIS_URL", redis_server.url)
    cache, store = shared_services.default_cache(), shared_services.default_store()
    assert isinstance(cache, SharedResultCache) and isinstance(store, SharedSnapshotStore)
    assert cache.shared is store.shared and cache.shared.ping()
    services = DataServices()  # what the app builds
    assert isinstance(services.cache, SharedResultCache) and services.cache.shared is cache.shared
    assert isinstance(services.store, SharedSnapshotStore)
