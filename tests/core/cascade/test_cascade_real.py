"""Cascade replay on the real bundled crashes, checked against real Bybit liquidation orders."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from core.cascade import depth_from_volume, detect_cascades, simulate_from_profile
from core.data.bundled import load_bundled
from core.grid import compute_heatmap
from core.model import ModelParams
from tests.conftest import shared_path

UTC = "UTC"


@lru_cache(maxsize=4)
def heatmap_of(key: str, timeframe: str):
    """The default-model heatmap of a bundled dataset (cached: each is built once per session)."""
    return compute_heatmap(load_bundled(key, timeframe), ModelParams())


def overlaps(row, start: str, end: str) -> bool:
    return row.start < pd.Timestamp(end, tz=UTC) and row.end > pd.Timestamp(start, tz=UTC)


@pytest.mark.parametrize("timeframe", ["5m", "1m"])
def test_feb_2026_largest_cascade_is_the_feb_5_slide(timeframe):
    """On the Feb 2026 crash the top cascade is the 5 Feb slide into the 59,800 low, and it is a fall.

    BTC fell from 69,400 at 15:00 on 5 Feb through 62,233 (20:00) to 59,800 at 00:19 on 6 Feb.
    """
    found = detect_cascades(heatmap_of("btc_2026-02_crash", timeframe), top=5)
    assert len(found) >= 3
    top = found.iloc[0]
    assert overlaps(top, "2026-02-05 14:30", "2026-02-06 00:30"), top.summary
    assert top.move_pct < -3.0 and top.long_usd > top.short_usd
    # the three legs of the slide (15:00, 20:00, midnight) are the three largest
    for _, row in found.head(3).iterrows():
        assert overlaps(row, "2026-02-05 14:30", "2026-02-06 01:30"), row.summary
        assert row.move_pct < -3.0


def test_march_2024_largest_cascade_is_in_the_crash():
    """On 5 Mar 2024 (volume proxy) the top cascade overlaps the 15:04-19:57 crash and falls hard."""
    found = detect_cascades(heatmap_of("btc_2024-03-05_crash", "1m"), top=5)
    top = found.iloc[0]
    assert overlaps(top, "2024-03-05 15:04", "2024-03-05 19:57"), top.summary
    assert top.move_pct < -5.0 and top.long_usd > top.short_usd


def test_real_bybit_liquidations_cluster_in_detected_cascades():
    """Real Bybit liquidation orders of 5 Mar 2024 fall in the detected windows far above their time share."""
    path = shared_path("btc_2024-03-05_cascade", "bybit_btcusdt_liquidations_per_minute.csv")
    real = pd.read_csv(path)
    minutes = pd.to_datetime(real["open_time_ms"], unit="ms", utc=True)
    usd = (real["long_liq_usd"] + real["short_liq_usd"]).to_numpy()
    count = (real["long_liq_count"] + real["short_liq_count"]).to_numpy()
    found = detect_cascades(heatmap_of("btc_2024-03-05_crash", "1m"), top=None)
    inside = np.zeros(len(real), dtype=bool)
    for start, end in zip(found["start"], found["end"]):
        inside |= ((minutes >= start) & (minutes < end)).to_numpy()
    time_share = inside.mean()
    usd_share = usd[inside].sum() / usd.sum()
    count_share = count[inside].sum() / count.sum()
    assert 0.05 < time_share < 0.35
    assert usd_share > 1.8 * time_share, (usd_share, time_share)
    assert count_share > 1.8 * time_share, (count_share, time_share)


def test_simulation_on_a_real_profile_is_consistent():
    """A what-if on the last liquidation map of the Feb 2026 crash (500 bands); its speed is timed
    by bench/bench_engine.py (c)."""
    heatmap = compute_heatmap(load_bundled("btc_2026-02_crash", "5m"), ModelParams(), price_bins=500)
    profile = heatmap.profile(-1)
    assert len(profile.long) == 500
    depth = depth_from_volume(heatmap)
    assert 2e7 < depth < 1e9  # order of $100M per 1% for Binance BTCUSDT
    result = simulate_from_profile(profile, -3.0, depth)
    assert result.total_move_pct <= -3.0
    assert result.liquidated_long_usd + result.remaining_long.sum() == pytest.approx(profile.long.sum())
