"""The liquidation engine (core/grid.py) against a plain per-level reference, invariants, real data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.bundled import BUNDLED, load_bundled
from core.data.market import MarketData
from core.grid import (
    CrossingIndex,
    Heatmap,
    compute_aggregate,
    compute_heatmap,
    compute_liquidated,
    compute_profile,
    key_levels,
)
from core.model import ModelParams, build_levels, entry_prices, lognormal_leverage_weights

# --------------------------------------------------------------------------------------------
# The reference: MODEL.md followed literally, one level at a time
# --------------------------------------------------------------------------------------------


def reference_heatmap(market: MarketData, params: ModelParams, edges: np.ndarray):
    """Brute force: follow every level forward candle by candle (MODEL.md, reference model v1).

    Supports the flat maintenance rate, every entry rule (also "range": S entries over the candle's
    range), decay, the volume proxy, turnover and the same-candle share (model v2 options).
    Returns (long grid, short grid, liquidated long, liquidated short).
    """
    c = market.candles
    n = len(c)
    high, low = c["high"].to_numpy(), c["low"].to_numpy()
    close, volume = c["close"].to_numpy(), c["volume"].to_numpy()
    if params.entry == "range":
        res = params.level_resolution

        def count(t):  # entries of candle t: fewer on a narrow candle when a resolution is set
            if res == 0:
                return params.entry_points
            return min(params.entry_points, max(1, math.ceil((high[t] - low[t]) / low[t] / res)))

        entries = [[(low[t] + (j + 0.5) / count(t) * (high[t] - low[t]), 1.0 / count(t)) for j in range(count(t))]
                   for t in range(n)]
    else:
        entries = [[(e, 1.0)] for e in entry_prices(c, params.entry)]
    oi = market.open_interest.to_numpy(dtype="float64", na_value=np.nan)
    times = c.index.as_unit("ns").asi8 / 1e9  # seconds (whatever unit the index holds)
    proxy = params.oi_proxy == "always" or (params.oi_proxy == "auto" and not market.has_open_interest)
    half_life = params.decay_half_life
    if half_life is None and proxy:
        half_life = params.proxy_half_life
    bands = len(edges) - 1
    grids = {1: np.zeros((bands, n)), -1: np.zeros((bands, n))}
    liquidated = {1: np.zeros(n), -1: np.zeros(n)}

    r = 0.0 if proxy else params.turnover_per_hour
    q = params.same_candle_share

    def turned_over(u):  # share of open interest closed and reopened in candle u (u >= 1)
        return 1.0 - (1.0 - r) ** ((times[u] - times[u - 1]) / 3600.0)

    def opened(t):
        if proxy:
            return params.proxy_share * volume[t] * close[t]
        if t == 0 or math.isnan(oi[t - 1]):
            return 0.0
        churn = turned_over(t) * oi[t - 1]
        if math.isnan(oi[t]):
            return churn
        return max(oi[t] - oi[t - 1], 0.0) + churn

    def shrink(u):
        keep = 1.0 - turned_over(u)
        if proxy or math.isnan(oi[u]) or math.isnan(oi[u - 1]) or oi[u] >= oi[u - 1]:
            return keep
        return keep * oi[u] / oi[u - 1]

    def decay(t, u):
        if half_life is None:
            return 1.0
        return 0.5 ** ((times[u] - times[t]) / half_life.total_seconds())

    for t in range(n):
        new = opened(t)
        if new <= 0:
            continue
        for (side, share), (lev, weight), (entry, part) in itertools.product(
            ((1, params.long_share), (-1, 1 - params.long_share)), params.leverage_weights, entries[t]
        ):
            price = entry * (1 - side / lev) / (1 - side * params.mmr)
            value = new * share * weight * part
            if value <= 0:
                continue
            if q > 0 and (low[t] <= price if side == 1 else high[t] >= price):
                liquidated[side][t] += q * value
                value *= 1 - q
            inside = edges[0] <= price <= edges[-1]
            band = min(int(np.searchsorted(edges, price, side="right")) - 1, bands - 1)
            for u in range(t, n):
                if u > t:
                    value *= shrink(u)
                    crossed = low[u] <= price if side == 1 else high[u] >= price
                    if crossed:
                        liquidated[side][u] += value * decay(t, u)
                        break
                if inside:
                    grids[side][band, u] += value * decay(t, u)
    return grids[1], grids[-1], liquidated[1], liquidated[-1]


def make_market(
    seed: int,
    n: int,
    vol: float = 0.02,
    nan_share: float = 0.0,
    zero_oi: bool = False,
    with_oi: bool = True,
    minutes: int = 1,
) -> MarketData:
    """A random market: price random walk with wicks, open interest random walk (USD)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, vol / 2, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, vol / 2, n)))
    idx = pd.date_range("2024-01-01", periods=n, freq=f"{minutes}min", tz="UTC")
    candles = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": rng.uniform(1, 10, n)}, index=idx
    )
    if with_oi:
        oi = 1e6 * np.exp(np.cumsum(rng.normal(0, 0.05, n)))
        oi[rng.random(n) < nan_share] = np.nan
        if zero_oi and n > 4:
            oi[rng.integers(1, n)] = 0.0
    else:
        oi = np.full(n, np.nan)
    return MarketData(
        exchange="test", symbol="BTC/USDT:USDT", timeframe="1m", candles=candles,
        open_interest=pd.Series(oi, index=idx, name="open_interest"), source="upload",
    )


def assert_grid_equal(got: np.ndarray, want: np.ndarray, rel: float = 1e-9) -> None:
    """Equal to ``rel`` relative, cell by cell, with cancellation noise bounded by rel * the largest cell."""
    scale = max(float(np.abs(want).max(initial=0.0)), 1.0)
    np.testing.assert_allclose(got, want, rtol=rel, atol=rel * scale)


PARAM_CHOICES = [
    ModelParams(),
    ModelParams(leverage_weights={2: 0.2, 20: 0.3, 50: 0.2, 100: 0.3}, long_share=0.7, entry="close"),
    ModelParams(decay_half_life=pd.Timedelta(minutes=7), entry="ohlc4", long_share=0.3),
    ModelParams(leverage_weights={3: 1, 125: 1}, mmr=0.004, entry="open", decay_half_life=0.05),
    ModelParams(long_share=1.0),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    vol=st.sampled_from([0.002, 0.01, 0.04]),
    nan_share=st.sampled_from([0.0, 0.0, 0.2]),
    zero_oi=st.booleans(),
    params=st.sampled_from(PARAM_CHOICES),
    bins=st.integers(1, 40),
    ranged=st.booleans(),
)
def test_engine_equals_reference(seed, n, vol, nan_share, zero_oi, params, bins, ranged):
    """On random markets the vectorised engine equals the per-level reference to 1e-9."""
    market = make_market(seed, n, vol, nan_share, zero_oi)
    price_range = (90.0, 110.0) if ranged else None
    hm = compute_heatmap(market, params, price_bins=bins, price_range=price_range)
    long, short, liq_long, liq_short = reference_heatmap(market, params, hm.price_edges)
    assert hm.long.shape == (bins, n)
    assert_grid_equal(hm.long, long)
    assert_grid_equal(hm.short, short)
    assert_grid_equal(hm.liquidated_long, liq_long)
    assert_grid_equal(hm.liquidated_short, liq_short)


V2_CHOICES = [
    ModelParams(entry="range", entry_points=9, leverage_weights=lognormal_leverage_weights(),
                turnover_per_hour=0.1, same_candle_share=0.25),
    ModelParams(entry="range", entry_points=2),
    ModelParams(entry="range", entry_points=1, long_share=0.8, same_candle_share=1.0),
    ModelParams(turnover_per_hour=0.5, decay_half_life=pd.Timedelta(hours=3)),
    ModelParams(turnover_per_hour=0.999, leverage_weights=lognormal_leverage_weights(5, 0.5, count=4)),
    ModelParams(same_candle_share=0.4, leverage_weights={2: 1, 125: 1}, entry="close"),
    ModelParams(entry="range", entry_points=3, turnover_per_hour=0.02, same_candle_share=0.1, long_share=0.3),
    ModelParams(entry="range", entry_points=9, level_resolution=0.01, turnover_per_hour=0.1, same_candle_share=0.25),
]


def irregular(market: MarketData, seed: int) -> MarketData:
    """The same market on a non-uniform time axis (gaps of 1 minute to 3 hours)."""
    rng = np.random.default_rng(seed)
    n = len(market.candles)
    steps = rng.choice([60, 300, 3600, 10800], size=n)
    idx = pd.DatetimeIndex(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.cumsum(steps), unit="s"))
    candles = market.candles.set_axis(idx)
    return MarketData(exchange=market.exchange, symbol=market.symbol, timeframe=market.timeframe, candles=candles,
                      open_interest=market.open_interest.set_axis(idx), source=market.source)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    vol=st.sampled_from([0.002, 0.01, 0.04]),
    nan_share=st.sampled_from([0.0, 0.0, 0.2]),
    zero_oi=st.booleans(),
    params=st.sampled_from(V2_CHOICES),
    bins=st.integers(1, 40),
    ranged=st.booleans(),
    spacing=st.sampled_from(["1min", "1h", "irregular"]),
)
def test_v2_options_equal_reference(seed, n, vol, nan_share, zero_oi, params, bins, ranged, spacing):
    """Range entries, lognormal ladder, turnover and same-candle share: engine == per-level reference."""
    market = make_market(seed, n, vol, nan_share, zero_oi, minutes=60 if spacing == "1h" else 1)
    if spacing == "irregular":
        market = irregular(market, seed)
    price_range = (90.0, 110.0) if ranged else None
    hm = compute_heatmap(market, params, price_bins=bins, price_range=price_range)
    long, short, liq_long, liq_short = reference_heatmap(market, params, hm.price_edges)
    assert_grid_equal(hm.long, long)
    assert_grid_equal(hm.short, short)
    assert_grid_equal(hm.liquidated_long, liq_long)
    assert_grid_equal(hm.liquidated_short, liq_short)
    col = n - 1
    prof = compute_profile(market, params, price_bins=bins, price_range=hm.price_edges[[0, -1]].tolist(), at=col)
    assert_grid_equal(prof.long, long[:, col])
    assert_grid_equal(prof.short, short[:, col])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80), params=st.sampled_from(PARAM_CHOICES + V2_CHOICES))
def test_compute_liquidated_equals_heatmap_totals(seed, n, params):
    """The grid-free per-candle totals (for scoring and calibration) are the heatmap's, exactly."""
    market = make_market(seed, n, 0.01, 0.1, minutes=60)
    hm = compute_heatmap(market, params, price_bins=7, price_range=(95.0, 105.0))
    long, short = compute_liquidated(market, params)
    np.testing.assert_array_equal(long, hm.liquidated_long)
    np.testing.assert_array_equal(short, hm.liquidated_short)


def test_v2_options_across_many_blocks():
    """A longer hourly market (11 scan blocks of 11 rows, carries between them) with every v2 option on
    still matches the reference (the reference follows ~50,000 levels one by one, so 121 candles)."""
    market = make_market(11, 121, vol=0.01, nan_share=0.05, zero_oi=True, minutes=60)
    hm = compute_heatmap(market, V2_CHOICES[0], price_bins=25)
    long, short, liq_long, liq_short = reference_heatmap(market, V2_CHOICES[0], hm.price_edges)
    assert_grid_equal(hm.long, long)
    assert_grid_equal(hm.short, short)
    assert_grid_equal(hm.liquidated_long, liq_long)
    assert_grid_equal(hm.liquidated_short, liq_short)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50), decay=st.booleans())
def test_proxy_equals_reference(seed, n, decay):
    """Without open interest the volume proxy path equals the reference too."""
    market = make_market(seed, n, with_oi=False)
    params = ModelParams(decay_half_life=pd.Timedelta(minutes=5) if decay else None)
    hm = compute_heatmap(market, params, price_bins=17)
    long, short, liq_long, liq_short = reference_heatmap(market, params, hm.price_edges)
    assert hm.oi_proxy
    assert_grid_equal(hm.long, long)
    assert_grid_equal(hm.short, short)
    assert_grid_equal(hm.liquidated_long, liq_long)
    assert_grid_equal(hm.liquidated_short, liq_short)


def test_engine_equals_reference_across_many_blocks():
    """A longer market (many scan blocks, carries between them, strong decay) still matches."""
    market = make_market(7, 700, vol=0.01, nan_share=0.05, zero_oi=True)
    for params in (ModelParams(), ModelParams(decay_half_life=pd.Timedelta(minutes=3))):
        hm = compute_heatmap(market, params, price_bins=30)
        long, short, liq_long, liq_short = reference_heatmap(market, params, hm.price_edges)
        assert_grid_equal(hm.long, long)
        assert_grid_equal(hm.short, short)
        assert_grid_equal(hm.liquidated_long, liq_long)
        assert_grid_equal(hm.liquidated_short, liq_short)


def test_extreme_decay_does_not_overflow():
    """A half-life far shorter than the window neither overflows nor produces NaN."""
    market = make_market(3, 3000, vol=0.001)
    hm = compute_heatmap(market, ModelParams(decay_half_life=pd.Timedelta(seconds=1)), price_bins=20)
    assert np.isfinite(hm.long).all() and np.isfinite(hm.liquidated_long).all()
    assert hm.long[:, -1].sum() <= float(np.nanmax(np.diff(market.open_interest.to_numpy()))) * 1.0001


# --------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 400), bit=st.integers(0, 3))
def test_first_cross_equals_scan(seed, n, bit):
    """The sparse-table search finds the first candle after birth that trades through each level."""
    rng = np.random.default_rng(seed)
    low = rng.uniform(90, 100, n)
    high = low + rng.uniform(0, 10, n)
    index = CrossingIndex(low, high)
    birth = rng.integers(0, n, 50)
    price = rng.uniform(85, 115, 50)
    for side in (1, -1):
        got = index.first_cross(side, birth, price)
        for b, p, g in zip(birth, price, got):
            hits = [u for u in range(b + 1, n) if (low[u] <= p if side == 1 else high[u] >= p)]
            assert g == (hits[0] if hits else n)


def _one_level_market() -> MarketData:
    """OI rises once in candle 1; price then drifts down and trades through 95 in candle 6."""
    lows = [100, 100, 99.5, 99.2, 99.0, 98.8, 94.0, 93.0, 99.0, 101.0]
    idx = pd.date_range("2024-01-01", periods=len(lows), freq="1min", tz="UTC")
    low = np.array(lows, dtype=float)
    candles = pd.DataFrame(
        {"open": low + 0.5, "high": low + 1.0, "low": low, "close": low + 0.5, "volume": 1.0}, index=idx
    )
    oi = pd.Series([1e6, 2e6] + [2e6] * (len(lows) - 2), index=idx, dtype=float)
    return MarketData("test", "BTC/USDT:USDT", "1m", candles, oi, source="upload")


def test_level_lives_until_price_trades_through_it():
    """A level is on the map from its candle until price trades through it, and never after."""
    market = _one_level_market()
    params = ModelParams(leverage_weights={20: 1.0}, long_share=1.0)
    hm = compute_heatmap(market, params, price_bins=50)
    entry = (101.0 + 100.0 + 100.5) / 3
    price = entry * (1 - 1 / 20) / (1 - 0.005)  # about 96.3: first low below it is candle 6
    band = int(np.searchsorted(hm.price_edges, price, side="right")) - 1
    alive = hm.long[band]
    assert alive[0] == 0
    assert np.all(alive[1:6] == pytest.approx(1e6))
    assert np.all(alive[6:] == 0)
    assert hm.liquidated_long[6] == pytest.approx(1e6)
    assert hm.liquidated_long.sum() == pytest.approx(1e6)
    assert hm.short.sum() == 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300), nan_share=st.sampled_from([0.0, 0.1]))
def test_alive_never_exceeds_cumulative_oi_increases(seed, n, nan_share):
    """The notional alive never exceeds what open interest ever added, and deaths stay below it too."""
    market = make_market(seed, n, nan_share=nan_share)
    hm = compute_heatmap(market, ModelParams(oi_proxy="never"), price_bins=25)
    d = np.diff(market.open_interest.to_numpy(), prepend=np.nan)
    added = np.cumsum(np.where(np.isfinite(d) & (d > 0), d, 0.0))
    alive = hm.long.sum(axis=0) + hm.short.sum(axis=0)
    assert np.all(alive <= added * (1 + 1e-9) + 1e-6)
    assert np.all(hm.long >= 0) and np.all(hm.short >= 0)
    died = np.cumsum(hm.liquidated_long + hm.liquidated_short)
    assert np.all(alive + died <= added * (1 + 1e-9) + 1e-6)


def test_inputs_not_mutated():
    """compute_heatmap leaves the market's frames and the parameters as they were."""
    market = make_market(11, 200, nan_share=0.1, zero_oi=True)
    candles, oi = market.candles.copy(), market.open_interest.copy()
    params = ModelParams(decay_half_life=1.0)
    before = hash(params)
    hm = compute_heatmap(market, params, price_bins=20)
    compute_aggregate([market, market], params, price_bins=20)
    pd.testing.assert_frame_equal(market.candles, candles)
    pd.testing.assert_series_equal(market.open_interest, oi)
    assert hash(params) == before and hm.params == params
    with pytest.raises(ValueError, match="read-only"):
        hm.close[0] = -1.0  # cached maps are shared by every session
    assert not np.shares_memory(hm.close, market.candles["close"].to_numpy())  # and their arrays are their own


def test_price_axis_covers_every_level_and_range_drops_with_note():
    """By default no level is left out; a narrow range drops levels and a note says so."""
    market = make_market(5, 300, vol=0.01)
    hm = compute_heatmap(market, ModelParams(), price_bins=40)
    lv = build_levels(market, ModelParams())
    for side in (lv.long, lv.short):
        assert side.price.min() >= hm.price_edges[0] and side.price.max() <= hm.price_edges[-1]
    assert not any("not drawn" in note for note in hm.notes)
    narrow = compute_heatmap(market, ModelParams(), price_bins=40, price_range=(95.0, 105.0))
    assert narrow.price_edges[0] == 95.0 and narrow.price_edges[-1] == 105.0
    assert any("not drawn" in note for note in narrow.notes)
    np.testing.assert_allclose(narrow.liquidated_long, hm.liquidated_long)


def test_no_increase_gives_empty_map():
    """Open interest that only falls opens nothing: the map is empty, not an error."""
    market = make_market(1, 30)
    falling = market.open_interest.copy()
    falling[:] = np.linspace(2e6, 1e6, len(falling))
    flat = MarketData("t", "BTC/USDT:USDT", "1m", market.candles, falling, source="upload")
    hm = compute_heatmap(flat, ModelParams(), price_bins=10)
    assert hm.long.sum() == 0 and hm.short.sum() == 0 and hm.price_edges[0] < hm.price_edges[-1]


# --------------------------------------------------------------------------------------------
# Profile and key levels
# --------------------------------------------------------------------------------------------


def test_profile_and_fast_profile_agree():
    """The profile of the last candle sums outward from the price and matches compute_profile."""
    market = make_market(9, 500, vol=0.005)
    params = ModelParams(decay_half_life=2.0)
    hm = compute_heatmap(market, params, price_bins=60)
    prof = hm.profile()
    assert prof.price == hm.last_price and prof.time == hm.times[-1]
    np.testing.assert_array_equal(prof.long, hm.long[:, -1])
    below = hm.price_edges[:-1] <= prof.price
    assert prof.cum_long[below][0] == pytest.approx(prof.long[below].sum())
    assert np.all(np.diff(prof.cum_long[below]) <= 1e-9)  # shrinks towards the price
    assert np.all(prof.cum_long[~below] == 0)
    above = hm.price_edges[1:] >= prof.price
    assert prof.cum_short[above][-1] == pytest.approx(prof.short[above].sum())
    fast = compute_profile(market, params, price_bins=60, at=-1)
    np.testing.assert_allclose(fast.long, prof.long, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(fast.short, prof.short, rtol=1e-9, atol=1e-6)
    mid = compute_profile(market, params, price_bins=60, at=200)
    np.testing.assert_allclose(mid.short, hm.profile(200).short, rtol=1e-9, atol=1e-6)


def test_key_levels_merge_adjacent_bands():
    """A cluster spread over adjacent bands is one key level; columns are as documented."""
    edges = np.linspace(90, 110, 21)
    long = np.zeros(20)
    long[3:6] = [5.0, 10.0, 6.0]  # one cluster of three bands around 94-96
    long[8] = 4.0
    short = np.zeros(20)
    short[14] = 7.0
    hm = Heatmap(
        times=pd.DatetimeIndex([pd.Timestamp("2024-01-01", tz="UTC")]), price_edges=edges,
        long=long[:, None], short=short[:, None], liquidated_long=np.zeros(1), liquidated_short=np.zeros(1),
        open=np.array([100.0]), high=np.array([100.0]), low=np.array([100.0]), close=np.array([100.0]),
        volume=np.zeros(1),
    )
    kl = key_levels(hm, n=10)
    assert list(kl.columns) == ["price_low", "price_high", "price", "side", "usd", "distance_pct"]
    assert list(kl["usd"]) == [21.0, 7.0, 4.0]
    first = kl.iloc[0]
    assert (first["price_low"], first["price_high"], first["side"]) == (93.0, 96.0, "long")
    assert first["distance_pct"] == pytest.approx((first["price"] / 100 - 1) * 100)
    assert len(key_levels(hm, n=2)) == 2


def test_key_levels_on_real_data():
    """On real data key levels are sorted by USD, longs below and shorts above the price."""
    hm = compute_heatmap(load_bundled("btc_2026-02_crash", "5m"), ModelParams())
    kl = key_levels(hm, n=10)
    assert len(kl) == 10 and kl["usd"].is_monotonic_decreasing
    assert (kl.loc[kl.side == "long", "distance_pct"] < 0).all()
    assert (kl.loc[kl.side == "short", "distance_pct"] > 0).all()


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


def test_aggregate_of_one_market_and_of_two():
    """One market aggregates to itself; two markets sum on the union of their times, held forward."""
    a = make_market(1, 120, vol=0.005)
    b = make_market(2, 60, vol=0.005, minutes=2)
    params = ModelParams()
    single = compute_aggregate([a], params, price_bins=30)
    alone = compute_heatmap(a, params, price_bins=30)
    np.testing.assert_allclose(single.long, alone.long)
    assert single.exchange == "all" and any("test BTC/USDT:USDT" in n for n in single.notes)
    both = compute_aggregate([a, b], params, price_bins=30, price_range=(80.0, 120.0))
    ha = compute_heatmap(a, params, price_bins=30, price_range=(80.0, 120.0))
    hb = compute_heatmap(b, params, price_bins=30, price_range=(80.0, 120.0))
    assert both.times.equals(a.candles.index.union(b.candles.index))
    # b has candles every 2 minutes: at an odd minute it is held from the minute before
    t = a.candles.index[51]
    col = both.times.get_loc(t)
    held = hb.times.get_loc(t - pd.Timedelta(minutes=1))
    np.testing.assert_allclose(both.long[:, col], ha.long[:, 51] + hb.long[:, held])
    assert both.liquidated_long.sum() == pytest.approx(ha.liquidated_long.sum() + hb.liquidated_long.sum())


# --------------------------------------------------------------------------------------------
# Real bundled data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(BUNDLED))
@pytest.mark.parametrize("timeframe", ["1m", "15m"])
def test_bundled_datasets(key, timeframe):
    """Every bundled dataset gives a finite, non-negative map with levels on both sides."""
    market = load_bundled(key, timeframe)
    hm = compute_heatmap(market, ModelParams(), price_bins=200)
    assert hm.long.shape == (200, len(market.candles)) == hm.short.shape
    for arr in (hm.long, hm.short, hm.liquidated_long, hm.liquidated_short):
        assert np.isfinite(arr).all() and (arr >= 0).all()
    assert hm.long[:, -1].sum() > 0 and hm.short[:, -1].sum() > 0
    assert hm.oi_proxy == (not market.has_open_interest)
    assert hm.source == "bundled" and hm.notes


def test_proxy_on_2024_03_05_crash():
    """The 5 March 2024 crash has no open interest: the volume proxy builds the map and says so."""
    market = load_bundled("btc_2024-03-05_crash", "1m")
    assert not market.has_open_interest
    hm = compute_heatmap(market, ModelParams())
    assert hm.oi_proxy
    assert any("volume proxy" in note for note in hm.notes)
    # the crash from 69,000 to 59,000 liquidates a lot of longs, far more than shorts
    assert hm.liquidated_long.sum() > 2 * hm.liquidated_short.sum() > 0
    # levels do not pile up forever: what is alive stays below what the proxy opened
    opened = 0.1 * (market.candles["volume"] * market.candles["close"]).sum()
    assert hm.long[:, -1].sum() + hm.short[:, -1].sum() < opened
    never = compute_heatmap(market, ModelParams(oi_proxy="never"), price_bins=50)
    assert never.long.sum() == 0 and not never.oi_proxy


def test_long_share_from_ratio_changes_the_balance():
    """With the OKX long/short ratio (mostly above 1) more of the new notional is long."""
    market = load_bundled("btc_2026-09", "5m")
    base = compute_heatmap(market, ModelParams(), price_bins=100)
    ratio = compute_heatmap(market, ModelParams(long_share_from_ratio=True), price_bins=100)
    assert ratio.long.sum() != base.long.sum()
    assert any("long/short" in n for n in ratio.notes)
