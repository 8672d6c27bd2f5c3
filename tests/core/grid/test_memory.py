"""Model memory (issue 13, item 2): the window's state comes from history before it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.constants import DEFAULT_MEMORY
from core.data.bundled import load_bundled
from core.grid import compute_aggregate, compute_heatmap, compute_profile
from core.model import CALIBRATED_V2, REFERENCE_V1, ModelParams, model_params
from tests.conftest import shared_path
from tests.core.grid.test_grid import make_market


def _map_gap(a, b) -> float:
    """Sum of absolute band differences of two maps, as a share of the first map's total USD."""
    total = a.long.sum() + a.short.sum()
    return float((np.abs(a.long - b.long).sum() + np.abs(a.short - b.short).sum()) / total)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 120), cut=st.floats(0.0, 1.0),
       params=st.sampled_from([ModelParams(), model_params(CALIBRATED_V2)]))
def test_window_is_the_full_run_sliced(seed, n, cut, params):
    """With memory the drawn grid is exactly the full run's columns from the window start on."""
    market = make_market(seed, n, 0.01, 0.1, minutes=60)
    k = min(int(cut * n), n - 1)
    start = market.candles.index[k]
    axis = (80.0, 120.0)
    full = compute_heatmap(market, params, price_bins=23, price_range=axis)
    windowed = compute_heatmap(replace(market, window_start=start), params, price_bins=23, price_range=axis)
    assert windowed.times.equals(full.times[k:]) and windowed.memory == start - market.candles.index[0]
    np.testing.assert_array_equal(windowed.long, full.long[:, k:])
    np.testing.assert_array_equal(windowed.short, full.short[:, k:])
    np.testing.assert_array_equal(windowed.liquidated_long, full.liquidated_long[k:])
    prof = compute_profile(replace(market, window_start=start), params, price_bins=23, price_range=axis, at=0)
    np.testing.assert_allclose(prof.long, full.long[:, k], rtol=1e-9, atol=1e-9)
    agg = compute_aggregate([replace(market, window_start=start)], params, price_bins=23, price_range=axis)
    np.testing.assert_allclose(agg.long, full.long[:, k:], rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("name", [REFERENCE_V1, CALIBRATED_V2])
@pytest.mark.parametrize("key", ["btc_2026-02_crash", "btc_2026-09"])
def test_bundled_12h_and_3d_agree_on_the_last_map(key, name):
    """Same memory: the last candle's map of a 12h and a 3d window agree within 2% of its USD; the
    12h window's left edge is no longer (nearly) empty."""
    params = model_params(name)
    short = load_bundled(key, "5m", "12h", memory=DEFAULT_MEMORY)
    long = load_bundled(key, "5m", "3d", memory=DEFAULT_MEMORY)
    assert short.window_start is not None and short.memory > pd.Timedelta(days=2)
    a = compute_heatmap(short, params, price_bins=200)
    b = compute_heatmap(long, params, price_bins=200, price_range=(a.price_edges[0], a.price_edges[-1]))
    assert a.memory == short.memory
    assert _map_gap(a.profile(), b.profile()) <= 0.02
    assert any("memory" in note.lower() for note in a.notes)
    bare = compute_heatmap(load_bundled(key, "5m", "12h"), params, price_bins=200)
    first = a.long[:, 0].sum() + a.short[:, 0].sum()
    assert first > 10 * (bare.long[:, 0].sum() + bare.short[:, 0].sum())
    assert bare.memory == pd.Timedelta(0) and bare.times.equals(a.times)


def test_bundled_memory_says_when_the_sample_is_short():
    """Asking more memory than the sample holds keeps what there is and says so."""
    market = load_bundled("btc_2026-09", "5m", "24h", memory=DEFAULT_MEMORY)
    assert market.memory < DEFAULT_MEMORY
    assert any("history before the window" in note for note in market.notes)


def test_three_months_12h_and_3d_windows_agree_with_seven_days_of_memory():
    """Real hourly data, calibrated model, 7 days of memory before each window (so different
    starts): the last map of a 12h and a 3d window agree within 2% of its USD."""
    shared_path("btc_2025-12_2026-02_hourly", "binance_BTCUSDT_oi_5m.csv")
    from bench.scorecard import hourly_market

    market, _ = hourly_market("binance")
    end = market.candles.index[-1]
    params = model_params(CALIBRATED_V2)
    maps = []
    for span in (pd.Timedelta(hours=12), pd.Timedelta(days=3)):
        start = end - span + pd.Timedelta(hours=1)
        view = replace(market.window(start=start - DEFAULT_MEMORY), window_start=start)
        maps.append(compute_profile(view, params, price_bins=300, price_range=(40_000.0, 140_000.0)))
    assert _map_gap(*maps) <= 0.02
