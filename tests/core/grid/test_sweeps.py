"""Assumption sweeps and near-price metrics (core/sensitivity.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import load_bundled
from core.data.market import MarketData
from core.grid import (
    Heatmap,
    compute_heatmap,
    compute_profile,
    key_levels,
    make_profile,
    near_price_usd,
    nearest_clusters,
    summarize,
    summary_deltas,
    sweep,
    with_value,
)
from core.grid.engine import compute_tier_profiles
from core.grid.sweeps import ladder_shape
from core.model import CALIBRATED_V2, ModelParams, model_params


@pytest.fixture(scope="module")
def crash() -> MarketData:
    return load_bundled("btc_2026-02_crash", "5m")


def range_bound_week(seed: int = 0) -> MarketData:
    """Seven days of 5m candles whose price reverts to 60,000 (no trend) and open interest grows."""
    n = 7 * 288
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, 0.002, n)
    x = np.zeros(n)
    for i in range(1, n):  # building test data, not engine code
        x[i] = 0.97 * x[i - 1] + shocks[i]
    close = 60_000.0 * np.exp(x)
    open_ = np.concatenate(([60_000.0], close[:-1]))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.001, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.001, n)))
    idx = pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC")
    candles = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": 100.0}, index=idx)
    oi = pd.Series(5e9 * np.exp(np.cumsum(rng.normal(0.0001, 0.002, n))), index=idx)
    return MarketData("synthetic", "BTC/USDT:USDT", "5m", candles, oi, source="upload")


@pytest.mark.parametrize("seed", [0, 1])
def test_more_high_leverage_moves_clusters_toward_price(seed):
    """Putting the notional on higher leverage brings the major clusters closer to the price.

    On a range-bound market the levels that survive are the recent ones, so a tier's clusters sit
    about 1/L from the price: the USD-weighted distance of the major clusters falls tier by tier.
    """
    market = range_bound_week(seed)
    out = sweep(market, ModelParams(), "leverage_weights", [{5: 1}, {10: 1}, {25: 1}, {50: 1}, {100: 1}])
    assert np.all(np.diff(out["cluster_mean_distance_pct"].to_numpy()) < 0)
    assert out["cluster_above_pct"].iloc[-1] < out["cluster_above_pct"].iloc[0]
    assert out["cluster_below_pct"].iloc[-1] < out["cluster_below_pct"].iloc[0]
    share = sweep(market, ModelParams(), "weight_100x", [0.0, 0.9])
    assert share["cluster_mean_distance_pct"].iloc[1] < share["cluster_mean_distance_pct"].iloc[0]


def test_high_leverage_closer_on_real_crash(crash):
    """On the real February 2026 crash too, 25x and 100x clusters sit closer than 5x ones.

    (Not strictly tier by tier: after a trend, the 100x levels that survive are the far remnants
    of positions opened before it, so 100x can end up farther than 50x.)
    """
    out = sweep(crash, ModelParams(), "leverage_weights", [{5: 1}, {25: 1}, {100: 1}])
    spread = out["cluster_mean_distance_pct"].to_numpy()
    assert spread[1] < spread[0] and spread[2] < spread[0]


def test_long_share_one_leaves_no_short_levels(crash):
    """With every new position long there is nothing to liquidate above the price, and vice versa."""
    out = sweep(crash, ModelParams(), "long_share", [0.0, 0.5, 1.0])
    assert (out.loc[out.value == 1.0, ["short_usd_2pct", "short_usd_5pct", "short_usd_10pct"]] == 0).all(axis=None)
    assert (out.loc[out.value == 0.0, ["long_usd_2pct", "long_usd_5pct", "long_usd_10pct"]] == 0).all(axis=None)
    assert out.loc[out.value == 1.0, "imbalance_5pct"].item() == 1.0
    hm = compute_heatmap(crash, ModelParams(long_share=1.0), price_bins=100)
    assert hm.short.sum() == 0 and hm.liquidated_short.sum() == 0 and hm.long.sum() > 0


def test_long_share_shortcut_equals_full_computation(crash):
    """The rescaled long-share sweep gives what recomputing the map for each value gives."""
    values = [0.2, 0.65]
    fast = sweep(crash, ModelParams(), "long_share", values, price_bins=200)
    last = crash.last_price
    for i, v in enumerate(values):
        prof = compute_profile(crash, ModelParams(long_share=v), price_bins=200, price_range=(last * 0.7, last * 1.3))
        full = summarize(prof)
        for key, value in full.items():
            assert fast.iloc[i][key] == pytest.approx(value, rel=1e-9, nan_ok=True), key


def test_sweep_any_field_and_validation(crash):
    """Any ModelParams field can be swept; unknown fields and bad values are refused."""
    out = sweep(crash, ModelParams(), "mmr", [0.004, 0.01])
    assert list(out["value"]) == [0.004, 0.01] and "total_usd_10pct" in out
    decay = sweep(crash, ModelParams(), "decay_half_life", [None, pd.Timedelta(hours=1)])
    assert decay["total_usd_10pct"].iloc[1] < decay["total_usd_10pct"].iloc[0]
    with pytest.raises(ValueError):
        sweep(crash, ModelParams(), "leverage", [1])
    with pytest.raises(ValueError):
        sweep(crash, ModelParams(), "long_share", [1.5])


def test_with_value_tier_weight():
    """Setting one tier's weight keeps the other tiers' proportions."""
    p = with_value(ModelParams(), "weight_100x", 0.5)
    w = p.weights
    assert w[100] == pytest.approx(0.5)
    assert w[10] / w[5] == pytest.approx(3.0) and sum(w.values()) == pytest.approx(1.0)
    assert with_value(ModelParams(), "weight_75x", 0.2).weights[75] == pytest.approx(0.2)


def _one_column(long: list[float], short: list[float], price: float = 100.0) -> Heatmap:
    edges = np.linspace(90, 110, len(long) + 1)
    return Heatmap(
        times=pd.DatetimeIndex([pd.Timestamp("2024-01-01", tz="UTC")]), price_edges=edges,
        long=np.array(long, dtype=float)[:, None], short=np.array(short, dtype=float)[:, None],
        liquidated_long=np.zeros(1), liquidated_short=np.zeros(1), open=np.array([price]), high=np.array([price]),
        low=np.array([price]), close=np.array([price]), volume=np.zeros(1),
    )


def test_near_price_usd_counts_partial_bands():
    """Bands straddling a window edge count pro rata; longs only below, shorts only above."""
    # 10 bands of 2 over 90..110, price 100: longs 96..98 = 4 and 98..100 = 10; shorts 100..102 = 6
    hm = _one_column([0, 0, 0, 4, 10, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 6, 0, 0, 0, 0])
    near = near_price_usd(hm, (1, 2, 3))
    assert list(near.columns) == ["long_usd", "short_usd", "total_usd", "imbalance"]
    # 1 %: 99..100 is half of the 98..100 band; 100..101 half of 100..102
    assert (near.loc[1.0, "long_usd"], near.loc[1.0, "short_usd"]) == (pytest.approx(5.0), pytest.approx(3.0))
    assert (near.loc[2.0, "long_usd"], near.loc[2.0, "short_usd"]) == (pytest.approx(10.0), pytest.approx(6.0))
    # 3 %: 97..100 takes half of 96..98 too
    assert near.loc[3.0, "long_usd"] == pytest.approx(12.0)
    assert near.loc[3.0, "total_usd"] == pytest.approx(18.0)
    assert near.loc[3.0, "imbalance"] == pytest.approx((12 - 6) / 18)
    empty = near_price_usd(_one_column([0] * 10, [0] * 10), (5,))
    assert empty.loc[5.0, "imbalance"] == 0.0


def test_nearest_clusters_and_deltas():
    """Nearest clusters are reported as positive distances; identical maps have zero deltas."""
    # longs centred at 95 (5) and 99 (8); shorts centred at 105 (3) and 109 (9); price 100
    hm = _one_column([0, 0, 5, 0, 8, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 3, 0, 9])
    near = nearest_clusters(hm)
    assert near["cluster_below_pct"] == pytest.approx(1.0)
    assert near["cluster_above_pct"] == pytest.approx(5.0)
    assert near["cluster_above_usd"] == 3.0 and near["cluster_below_price"] == pytest.approx(99.0)
    same = summary_deltas(hm, hm)
    assert (same["delta"].fillna(0) == 0).all()
    assert {"a", "b", "delta", "delta_pct"} <= set(same.columns)
    more = _one_column([0, 0, 5, 0, 16, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 3, 0, 9])
    deltas = summary_deltas(hm, more)
    # within 5 % (95..100): 98..100 whole plus half of 94..96 -> 8 + 2.5 against 16 + 2.5
    assert deltas.loc["long_usd_5pct", "delta"] == pytest.approx(8.0)
    assert deltas.loc["long_usd_5pct", "delta_pct"] == pytest.approx(8.0 / 10.5 * 100)


def test_profile_input_equals_heatmap_input(crash):
    """The metrics read a Profile and a Heatmap alike."""
    hm = compute_heatmap(crash, ModelParams(), price_bins=120)
    prof = hm.profile()
    assert near_price_usd(prof).equals(near_price_usd(hm))
    rebuilt = make_profile(prof.time, prof.price, prof.price_edges, prof.long, prof.short)
    assert summarize(rebuilt) == pytest.approx(summarize(hm), nan_ok=True)


def test_weight_sweep_by_linearity_equals_recomputing_each_value():
    """The weight sweep combines one map per tier; it must equal a full recompute per value."""
    from core.data.bundled import load_bundled
    from core.model import ModelParams

    market = load_bundled("btc_2026-02_crash", "15m")
    params = ModelParams(brackets="exchange", decay_half_life=12.0)
    values = [0.0, 0.1, 0.35, 0.8, 1.0]
    fast = sweep(market, params, "weight_50x", values, price_bins=300)
    last = float(market.candles["close"].iloc[-1])
    axis = (last * 0.7, last * 1.3)
    for v, (_, row) in zip(values, fast.iterrows()):
        slow = summarize(compute_profile(market, with_value(params, "weight_50x", v), price_bins=300, price_range=axis))
        for key, expected in slow.items():
            got = row[key]
            assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, rel=1e-9, abs=1e-6), key


@pytest.mark.parametrize(("key", "params"), [
    ("btc_2026-02_crash", ModelParams(brackets="exchange", decay_half_life=12.0)),
    ("btc_2026-09", model_params(CALIBRATED_V2)),  # ladder, range entries, turnover, same-candle share
    ("btc_2024-03-05_crash", ModelParams(entry="close")),  # no open interest: the volume proxy
])
def test_tier_profiles_equal_one_profile_per_tier(key, params):
    """The sweep's one-pass maps per tier are what compute_profile gives with all weight on each tier."""
    market = load_bundled(key, "15m")
    last = float(market.candles["close"].iloc[-1])
    axis = (last * 0.7, last * 1.3)
    tiers = [float(t) for t, _ in params.leverage_weights] + [7.0]  # a tier the weights lack as well
    maps = compute_tier_profiles(market, params, tiers, 300, axis)
    assert sorted(maps) == sorted(set(tiers))
    for tier, got in maps.items():
        one = compute_profile(market, replace(params, leverage_weights={tier: 1.0}), price_bins=300, price_range=axis)
        assert got.time == one.time and got.price == one.price
        np.testing.assert_array_equal(got.price_edges, one.price_edges)
        np.testing.assert_allclose(got.long, one.long, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(got.short, one.short, rtol=1e-12, atol=1e-6)
    assert sum(m.long.sum() + m.short.sum() > 0 for m in maps.values()) >= 3  # not a comparison of empty maps


@pytest.mark.parametrize("key", ["btc_2026-09", "btc_2026-02_crash", "btc_2024-03-05_crash"])
def test_nearest_clusters_agree_with_key_levels(key):
    """The sweep's fast cluster metrics are exactly what key_levels' table says."""

    prof = compute_heatmap(load_bundled(key, "5m")).profile()
    levels = key_levels(prof, n=10)
    got = nearest_clusters(prof, n=10)
    for name, pick in (("above", levels["distance_pct"] > 0), ("below", levels["distance_pct"] < 0)):
        side = levels.loc[pick]
        row = side.loc[side["distance_pct"].abs().idxmin()]
        assert got[f"cluster_{name}_price"] == pytest.approx(row["price"], rel=1e-12)
        assert got[f"cluster_{name}_usd"] == pytest.approx(row["usd"], rel=1e-12)


def test_ladder_shape_reads_back_the_calibrated_ladder_exactly():
    """The v2 ladder's median and spread come back from its weights; v1's five tiers are no ladder."""
    v2 = model_params(CALIBRATED_V2)
    assert ladder_shape(v2) == (10.0, 1.0, 2.0, 125.0, 24)
    assert with_value(v2, "ladder_median", 10.0) == v2 and with_value(v2, "ladder_sigma", 1.0) == v2
    wide = with_value(v2, "ladder_sigma", 1.7)
    assert ladder_shape(with_value(wide, "ladder_median", 31.0))[:2] == pytest.approx((31.0, 1.7), rel=1e-9)
    assert ladder_shape(ModelParams()) is None
    with pytest.raises(ValueError):
        with_value(ModelParams(), "ladder_median", 20.0)


@pytest.mark.parametrize("field, values", [("ladder_median", [3.0, 10.0, 40.0]), ("ladder_sigma", [0.4, 2.0]),
                                           ("turnover_per_hour", [0.0, 0.3]), ("same_candle_share", [0.0, 1.0])])
def test_v2_sweeps_match_one_map_per_value(crash, field, values):
    """The ladder sweeps use one map per rung and a weighted sum: the same figures as one full map per value."""
    params = model_params(CALIBRATED_V2)
    out = sweep(crash, params, field, values, price_bins=150)
    for row, value in zip(out.to_dict("records"), values):
        last = float(crash.candles["close"].iloc[-1])
        direct = summarize(compute_profile(crash, with_value(params, field, value), price_bins=150,
                                           price_range=(last * 0.7, last * 1.3)))
        for key, expected in direct.items():
            assert row[key] == pytest.approx(expected, rel=1e-9, abs=1e-3) or (np.isnan(expected) and np.isnan(row[key]))
