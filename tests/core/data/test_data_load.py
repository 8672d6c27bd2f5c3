"""``load_market`` sources, the aggregated view and order-book depth (no network)."""

from __future__ import annotations

import pandas as pd
import pytest
import requests
from fixtures.fake_exchanges import FakeClock, fakes_at, make_services, raising

from core.constants import EXCHANGES
from core.data.cache import SingleFlightCache
from core.data.errors import DataUnavailable
from core.data.live import ClientPool
from core.data.load import DataServices, fetch_order_book_depth, load_all_exchanges, load_market
from core.data.store import SnapshotStore

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
OFFLINE = requests.exceptions.ConnectionError("Failed to resolve host")


@pytest.fixture
def setup(tmp_path):
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    return fakes, clock, make_services(tmp_path, clock, fakes)


def no_clients(tmp_path) -> DataServices:
    """Services whose client factory fails the test if anything tries to go live."""

    def factory(exchange):
        raise AssertionError(f"bundled data must not build a {exchange} client")

    return DataServices(clients=ClientPool(factory), cache=SingleFlightCache(), store=SnapshotStore(tmp_path))


def test_bundled_never_touches_the_network(tmp_path):
    """The bundled sample loads with no client at all."""
    market = load_market(source="bundled", services=no_clients(tmp_path))
    assert market.source == "bundled" and len(market.candles) > 100
    assert market.provenance


def test_bundled_for_another_symbol_says_so(tmp_path):
    """Asking for ETH shows the BTC sample and tells the user."""
    market = load_market("okx", "ETH/USDT:USDT", "15m", "24h", source="bundled", dataset="btc_2026-09")
    assert market.symbol == "BTC/USDT:USDT"
    assert "The bundled sample is BTC/USDT:USDT on OKX, not ETH/USDT:USDT" in market.notes


def test_bundled_dataset_can_be_chosen():
    """``dataset`` picks another shipped sample."""
    market = load_market(source="bundled", dataset="btc_2026-02_crash", timeframe="1h", lookback="24h")
    assert market.exchange == "binanceusdm" and market.timeframe == "1h"


def test_live_success_is_saved_and_readable_as_snapshot(setup):
    """Every live fetch is saved; "snapshot" reads it back with its age."""
    fakes, clock, services = setup
    live = load_market("bybit", "BTC/USDT:USDT", "5m", "3d", source="live", services=services)
    assert live.source == "live" and services.store.load("bybit", "BTC/USDT:USDT", "5m") is not None
    clock.advance(hours=3)
    snap = load_market("bybit", "BTC/USDT:USDT", "5m", "12h", source="snapshot", services=services)
    assert snap.source == "snapshot" and snap.fetched_at == NOW
    assert snap.candles.index[0] >= live.candles.index[-1] - pd.Timedelta(hours=12)
    assert "3 h ago" in snap.notes[-1]


def test_snapshot_missing_is_data_unavailable(setup):
    """Nothing saved yet: a plain error."""
    _, _, services = setup
    with pytest.raises(DataUnavailable) as info:
        load_market("okx", "ETH/USDT:USDT", "5m", "12h", source="snapshot", services=services)
    assert info.value.reason == "no_snapshot" and "No saved data for OKX" in info.value.message


def test_auto_uses_live_and_says_so(setup):
    """When the exchange answers, "auto" is live, noted first."""
    _, _, services = setup
    market = load_market("binanceusdm", "BTC/USDT:USDT", "15m", "24h", source="auto", services=services)
    assert market.source == "live" and market.notes[0] == "Live data from Binance."


def test_auto_offline_without_snapshot_shows_bundled(setup):
    """Offline and nothing saved: the bundled sample, and the reason in plain words."""
    fakes, _, services = setup
    fakes["bybit"].fault = raising(OFFLINE)
    seen: list[float] = []
    market = load_market("bybit", "BTC/USDT:USDT", "5m", "3d", source="auto", progress=lambda f, m: seen.append(f), services=services)
    assert market.source == "bundled"
    assert market.notes[0] == "Could not reach Bybit (no network). Showing the bundled sample instead."
    assert any("comes from Binance, not Bybit" in n for n in market.notes)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_saving_failure_does_not_lose_live_data(tmp_path):
    """An unwritable store only loses the snapshot, not the chart."""
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    clock = FakeClock(NOW)
    services = make_services(blocker / "sub", clock, fakes_at(NOW))
    assert load_market("okx", "BTC/USDT:USDT", "1h", "24h", source="live", services=services).source == "live"


def test_unknown_source_is_a_programming_error(setup):
    """A typo in ``source`` is a ValueError, not a silent fallback."""
    with pytest.raises(ValueError, match="source must be one of"):
        load_market(source="cloud", services=setup[2])


def test_live_cache_serves_reruns_without_requests(setup):
    """A rerun within the same candle is served from the cache."""
    fakes, clock, services = setup
    load_market("okx", "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    asked = len(fakes["okx"].calls)
    clock.advance(seconds=30)
    load_market("okx", "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    assert len(fakes["okx"].calls) == asked


# ------------------------------------------------------------------------------------------------
# All exchanges


def test_all_exchanges_load(setup):
    """The aggregated view gets one live market per exchange, progress rising to 1.0."""
    _, _, services = setup
    seen: list[float] = []
    markets, missing = load_all_exchanges("BTC/USDT:USDT", "1h", "24h", progress=lambda f, m: seen.append(f), services=services)
    assert [m.exchange for m in markets] == list(EXCHANGES) and missing == []
    assert all(m.source == "live" for m in markets)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_all_exchanges_one_down_is_left_out_or_snapshot(setup):
    """A down exchange is left out with a plain message, or shown from its snapshot."""
    fakes, clock, services = setup
    fakes["okx"].fault = raising(OFFLINE)
    markets, missing = load_all_exchanges("BTC/USDT:USDT", "1h", "24h", services=services)
    assert [m.exchange for m in markets] == ["binanceusdm", "bybit"]
    assert missing == ["OKX left out: Could not reach OKX (no network)."]

    fakes["okx"].fault = None
    clock.advance(seconds=31)
    load_market("okx", "BTC/USDT:USDT", "1h", "24h", source="live", services=services)
    fakes["okx"].fault = raising(OFFLINE)
    clock.advance(minutes=61)
    services.cache.clear()
    markets, missing = load_all_exchanges("BTC/USDT:USDT", "1h", "24h", services=services)
    assert [m.source for m in markets] == ["live", "live", "snapshot"] and missing == []


def test_all_exchanges_all_down_shows_bundled_once(setup):
    """Nothing reachable and nothing saved: the bundled sample once, not three times."""
    fakes, _, services = setup
    for fake in fakes.values():
        fake.fault = raising(OFFLINE)
    markets, missing = load_all_exchanges("BTC/USDT:USDT", "5m", "24h", services=services)
    assert len(markets) == 1 and markets[0].source == "bundled"
    assert missing[-1] == "No exchange could be reached: showing the bundled sample instead."


def test_all_exchanges_bundled_source(tmp_path):
    """source="bundled" gives the one sample without any client."""
    markets, missing = load_all_exchanges("BTC/USDT:USDT", "5m", "24h", source="bundled", services=no_clients(tmp_path))
    assert len(markets) == 1 and missing == ["The bundled sample comes from Binance only."]


# ------------------------------------------------------------------------------------------------
# Order-book depth


def test_depth_is_cached_and_positive(setup):
    """Depth comes from one order-book call and is cached for reruns."""
    fakes, _, services = setup
    first = fetch_order_book_depth("bybit", "BTC/USDT:USDT", services=services)
    asked = len(fakes["bybit"].calls)
    assert first > 0 and fetch_order_book_depth("bybit", "BTC/USDT:USDT", services=services) == first
    assert len(fakes["bybit"].calls) == asked


def test_depth_offline_is_data_unavailable(setup):
    """Offline, the cascade simulator gets a plain error it can show."""
    fakes, _, services = setup
    fakes["binanceusdm"].fault = raising(OFFLINE)
    with pytest.raises(DataUnavailable) as info:
        fetch_order_book_depth("binanceusdm", "BTC/USDT:USDT", services=services)
    assert info.value.message == "Could not reach Binance (no network)"
