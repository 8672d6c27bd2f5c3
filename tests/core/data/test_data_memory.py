"""Model memory for loaded data (core/data/memory.py, load_market(memory=...)), no network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures.fake_exchanges import FakeClock, fakes_at, make_services

from core.constants import DEFAULT_MEMORY
from core.data.load import load_market
from core.data.memory import memory_request
from core.grid import compute_heatmap
from core.model import model_params

NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")


@pytest.fixture
def services(tmp_path):
    clock = FakeClock(NOW)
    return make_services(tmp_path, clock, fakes_at(NOW))


def test_memory_request_is_hourly_for_fine_windows():
    """Fine windows take their memory at 1h; the lookback covers memory + window (at most 30d)."""
    assert memory_request("5m", "12h", DEFAULT_MEMORY) == ("1h", "30d")
    assert memory_request("1m", "12h", pd.Timedelta(hours=12)) == ("1h", "24h")
    assert memory_request("4h", "3d", pd.Timedelta(days=2)) == ("4h", "7d")
    assert memory_request("5m", "12h", pd.Timedelta(0)) is None


def test_live_window_gets_hourly_memory_and_draws_only_the_window(services):
    """A live 5m 12h window comes with hourly history before it; the heatmap draws the window only
    and its first column is not empty."""
    bare = load_market("binanceusdm", "BTC/USDT:USDT", "5m", "12h", source="live", services=services)
    market = load_market("binanceusdm", "BTC/USDT:USDT", "5m", "12h", source="live", services=services,
                         memory=DEFAULT_MEMORY)
    assert market.window_start == bare.candles.index[0]
    before = market.candles.index[market.candles.index < market.window_start]
    assert len(before) > 24 and (np.diff(before.asi8) >= pd.Timedelta(hours=1).value).all()
    assert before[-1] + pd.Timedelta(hours=1) <= market.window_start
    assert any("model memory" in n and "at 1h" in n for n in market.notes)
    assert market.data_id != bare.data_id
    hm = compute_heatmap(market, model_params(), price_bins=100)
    assert hm.times.equals(bare.candles.index) and hm.memory > pd.Timedelta(days=1)
    assert hm.long[:, 0].sum() + hm.short[:, 0].sum() > 0


def test_snapshot_and_bundled_keep_what_they_hold(services):
    """Saved data keeps its earlier candles as memory; the bundled sample says how much it had."""
    load_market("bybit", "BTC/USDT:USDT", "5m", "3d", source="live", services=services)
    snap = load_market("bybit", "BTC/USDT:USDT", "5m", "12h", source="snapshot", services=services,
                       memory=DEFAULT_MEMORY)
    assert snap.window_start is not None and snap.memory > pd.Timedelta(days=2)
    bundled = load_market(source="bundled", dataset="btc_2026-02_crash", timeframe="5m", lookback="12h",
                          memory=DEFAULT_MEMORY)
    assert bundled.memory > pd.Timedelta(days=2)
    assert any("history before the window" in n for n in bundled.notes)


def test_all_exchanges_each_get_memory_and_the_sum_draws_only_the_window(services):
    """The aggregated view: every exchange's market carries its memory; the sum draws the windows."""
    from core.data.load import load_all_exchanges
    from core.grid import compute_aggregate

    markets, missing = load_all_exchanges("BTC/USDT:USDT", "15m", "24h", source="live", services=services,
                                          memory=pd.Timedelta(days=2))
    assert markets and not missing
    assert all(m.window_start is not None and m.memory > pd.Timedelta(days=1) for m in markets)
    agg = compute_aggregate(markets, model_params(), price_bins=80)
    assert agg.times[0] >= min(m.window_start for m in markets) and agg.memory > pd.Timedelta(days=1)
