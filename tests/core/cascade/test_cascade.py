"""Cascade replay detection and the what-if simulator: properties and synthetic markets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.cascade import (
    CASCADE_RULE,
    CascadeResult,
    DETECTION_COLUMNS,
    STEP_COLUMNS,
    cascade_summary,
    depth_from_volume,
    detect_cascades,
    detect_cascades_arrays,
    impact_pct,
    robust_zscore,
    simulate_cascade,
    simulate_from_profile,
    true_range_pct,
)
from core.format import format_usd
from core.grid import Heatmap, Profile

FAST = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------- book strategies


@st.composite
def books(draw, max_bands: int = 40):
    """A symmetric band grid around an integer price, with random long and short USD per band.

    Edges are ``price + width * k`` for k = -n..n (exact in floating point), so a book and its
    mirror image around the price are exactly representable.
    """
    price = draw(st.integers(1_000, 100_000))
    n = draw(st.integers(1, max_bands // 2))
    width = draw(st.integers(1, max(1, price // (4 * n))))
    edges = price + width * np.arange(-n, n + 1, dtype=float)
    usd = st.floats(0, 5e8, allow_nan=False, allow_infinity=False)
    long_ = np.array(draw(st.lists(usd, min_size=2 * n, max_size=2 * n)))
    short = np.array(draw(st.lists(usd, min_size=2 * n, max_size=2 * n)))
    return edges, long_, short, float(price)


shocks = st.floats(0.05, 30.0, allow_nan=False).map(lambda x: round(x, 3))
depths = st.floats(1e6, 5e9, allow_nan=False)
impacts = st.sampled_from(["linear", "sqrt"])


def liquidated(result: CascadeResult) -> float:
    return result.liquidated_long_usd + result.liquidated_short_usd


# ----------------------------------------------------------------------------- simulator properties


@FAST
@given(book=books(), shock=shocks, down=st.booleans(), depth=depths, impact=impacts)
def test_no_levels_means_no_amplification(book, shock, down, depth, impact):
    """With an empty book the price moves by the shock and not a cent further."""
    edges, _, _, price = book
    empty = np.zeros(len(edges) - 1)
    s = -shock if down else shock
    r = simulate_cascade(edges, empty, empty, price, s, depth, impact=impact)
    assert r.amplification == 1.0
    assert r.total_move_pct == pytest.approx(s, abs=1e-12)
    assert r.final_price == pytest.approx(price * (1 + s / 100), rel=1e-12)
    assert liquidated(r) == 0.0
    assert len(r.steps) == 1
    assert r.stopped_because == "the shock crossed no liquidation levels"


@FAST
@given(book=books(), a=shocks, b=shocks, down=st.booleans(), depth=depths, impact=impacts,
       max_steps=st.integers(0, 60))
def test_bigger_shock_never_liquidates_less(book, a, b, down, depth, impact, max_steps):
    """Pushing harder never liquidates less and never ends closer to the start."""
    edges, long_, short, price = book
    small, big = sorted((a, b))
    sign = -1 if down else 1
    r_small = simulate_cascade(edges, long_, short, price, sign * small, depth, impact, max_steps)
    r_big = simulate_cascade(edges, long_, short, price, sign * big, depth, impact, max_steps)
    assert liquidated(r_big) >= liquidated(r_small) - 1e-6
    assert abs(r_big.total_move_pct) >= abs(r_small.total_move_pct) - 1e-9


@FAST
@given(book=books(), shock=shocks, down=st.booleans(), d1=depths, d2=depths, impact=impacts)
def test_deeper_book_never_cascades_further(book, shock, down, d1, d2, impact):
    """A deeper order book absorbs more: never a bigger move nor more liquidations."""
    edges, long_, short, price = book
    shallow, deep = sorted((d1, d2))
    s = -shock if down else shock
    r_shallow = simulate_cascade(edges, long_, short, price, s, shallow, impact)
    r_deep = simulate_cascade(edges, long_, short, price, s, deep, impact)
    assert abs(r_deep.total_move_pct) <= abs(r_shallow.total_move_pct) + 1e-9
    assert liquidated(r_deep) <= liquidated(r_shallow) + 1e-6
    assert abs(r_deep.amplification) >= 1.0 - 1e-12


@FAST
@given(book=books(), shock=shocks, down=st.booleans(), depth=depths, impact=impacts,
       max_steps=st.integers(0, 60))
def test_cascade_always_stops_and_converges(book, shock, down, depth, impact, max_steps):
    """At most max_steps steps; when it stops on its own the price is a fixed point of the rule."""
    edges, long_, short, price = book
    s = -shock if down else shock
    r = simulate_cascade(edges, long_, short, price, s, depth, impact, max_steps)
    assert 1 <= len(r.steps) <= max_steps + 1
    assert len(r.steps) <= len(edges) + 1  # at least one new band per continuing step
    assert list(r.steps.columns) == list(STEP_COLUMNS)
    assert r.steps["step"].tolist() == list(range(len(r.steps)))
    assert r.final_price == pytest.approx(r.steps["price"].iloc[-1])
    moves = r.steps["total_move_pct"].abs().to_numpy()
    assert np.all(np.diff(moves) >= -1e-12)  # the price only ever moves one way
    if r.stopped_because in ("no new levels were crossed", "the shock crossed no liquidation levels"):
        expected = abs(s) + impact_pct(liquidated(r), depth, impact) if liquidated(r) > 0 else abs(s)
        if down:
            expected = min(expected, 100.0)
        assert abs(r.total_move_pct) == pytest.approx(expected, rel=1e-9, abs=1e-9)
        again = simulate_cascade(edges, long_, short, price, s, depth, impact, max_steps + 5)
        assert again.total_move_pct == pytest.approx(r.total_move_pct, rel=1e-12, abs=1e-12)
    # nothing left on the far side between the start and the final price
    centres = (edges[:-1] + edges[1:]) / 2
    book_left = r.remaining_long if down else r.remaining_short
    passed = (centres < price) & (centres >= r.final_price) if down else (centres > price) & (centres <= r.final_price)
    if r.stopped_because != f"the step limit ({max_steps}) was reached":
        assert np.all(book_left[passed] == 0)


@FAST
@given(book=books(), shock=shocks, down=st.booleans(), depth=depths, impact=impacts)
def test_conservation_and_nothing_liquidated_twice(book, shock, down, depth, impact):
    """Liquidated + remaining equals the book per side; a band is either gone whole or untouched."""
    edges, long_, short, price = book
    long_in, short_in = long_.copy(), short.copy()
    s = -shock if down else shock
    r = simulate_cascade(edges, long_, short, price, s, depth, impact)
    np.testing.assert_array_equal(long_, long_in)  # inputs untouched
    np.testing.assert_array_equal(short, short_in)
    assert r.liquidated_long_usd + r.remaining_long.sum() == pytest.approx(long_.sum(), rel=1e-9, abs=1e-9)
    assert r.liquidated_short_usd + r.remaining_short.sum() == pytest.approx(short.sum(), rel=1e-9, abs=1e-9)
    for before, after in ((long_, r.remaining_long), (short, r.remaining_short)):
        assert np.all((after == before) | (after == 0))
    assert r.steps["liquidated_long_usd"].sum() == pytest.approx(r.liquidated_long_usd, rel=1e-9, abs=1e-9)
    assert r.steps["liquidated_short_usd"].sum() == pytest.approx(r.liquidated_short_usd, rel=1e-9, abs=1e-9)
    assert r.steps["cumulative_usd"].iloc[-1] == pytest.approx(liquidated(r), rel=1e-9, abs=1e-9)
    # a fall only liquidates longs, a rise only shorts
    assert (r.liquidated_short_usd if down else r.liquidated_long_usd) == 0.0
    assert not r.remaining_long.flags.writeable


@FAST
@given(book=books(), shock=shocks, depth=depths, impact=impacts, max_steps=st.integers(0, 60))
def test_mirrored_book_mirrors_the_cascade(book, shock, depth, impact, max_steps):
    """Mirror the book around the price: the up-shock cascade is the mirror of the down-shock one."""
    edges, long_, short, price = book
    mirrored_long, mirrored_short = short[::-1].copy(), long_[::-1].copy()
    down = simulate_cascade(edges, long_, short, price, -shock, depth, impact, max_steps)
    up = simulate_cascade(edges, mirrored_long, mirrored_short, price, shock, depth, impact, max_steps)
    assume(abs(down.total_move_pct) < 100)  # a fall stops at zero, a rise has no ceiling
    assert up.total_move_pct == pytest.approx(-down.total_move_pct, rel=1e-12, abs=1e-12)
    assert up.final_price - price == pytest.approx(price - down.final_price, rel=1e-9, abs=1e-6)
    assert up.liquidated_short_usd == pytest.approx(down.liquidated_long_usd, rel=1e-12)
    np.testing.assert_allclose(up.remaining_short[::-1], down.remaining_long)
    np.testing.assert_allclose(up.remaining_long[::-1], down.remaining_short)
    assert len(up.steps) == len(down.steps)
    assert up.stopped_because == down.stopped_because


def test_linear_cascade_worked_example():
    """Three $100M long bands 1%, 2%, 4% under 100: a 1.5% drop takes two, then stops at 3.5%."""
    edges = np.array([95.5, 96.5, 97.5, 98.5, 99.5, 100.5])  # centres 96, 97, 98, 99, 100
    long_ = np.array([100e6, 0.0, 100e6, 100e6, 0.0])  # at 96, 98, 99
    short = np.zeros(5)
    r = simulate_cascade(edges, long_, short, 100.0, -1.5, depth_usd_per_pct=100e6)
    # shock 1.5% crosses 99 ($100M) -> move 2.5% crosses 98 ($100M) -> move 3.5%: 96 not reached
    assert r.steps["liquidated_long_usd"].tolist() == [100e6, 100e6, 0.0]
    assert r.total_move_pct == pytest.approx(-3.5)
    assert r.final_price == pytest.approx(96.5)
    assert r.amplification == pytest.approx(3.5 / 1.5)
    assert r.remaining_long.tolist() == [100e6, 0.0, 0.0, 0.0, 0.0]
    assert r.stopped_because == "no new levels were crossed"
    story = r.story()
    assert story.startswith("A 1.5% drop from 100 to 98 liquidates $100M of longs")
    assert "stops at 96 after 2 steps" in story and "2.33x the initial shock" in story


def test_sqrt_impact_and_step_limit():
    """The square-root rule moves 1% per depth of flow too; the step limit is honoured and said."""
    assert impact_pct(400e6, 100e6, "sqrt") == pytest.approx(2.0)
    assert impact_pct(400e6, 100e6, "linear") == pytest.approx(4.0)
    assert impact_pct(100e6, 100e6, "sqrt") == impact_pct(100e6, 100e6, "linear") == 1.0
    edges = np.linspace(50, 100.5, 102)  # centres 50.25 .. 100.25, 0.5 apart
    long_ = np.full(101, 50e6)
    r = simulate_cascade(edges, long_, np.zeros(101), 100.0, -1.0, 100e6, max_steps=3)
    assert len(r.steps) == 4
    assert r.stopped_because == "the step limit (3) was reached"
    with pytest.raises(ValueError):
        simulate_cascade(edges, long_, np.zeros(101), 100.0, -1.0, 10e6, impact="cubic")
    with pytest.raises(ValueError):
        simulate_cascade(edges, long_, np.zeros(101), 100.0, -1.0, 0.0)


def test_price_cannot_fall_below_zero():
    """A book that would carry the price through zero stops at zero and says so."""
    edges = np.linspace(1, 101, 101)
    r = simulate_cascade(edges, np.full(100, 1e12), np.zeros(100), 100.0, -5.0, 1e6)
    assert r.final_price == 0.0
    assert r.total_move_pct == -100.0
    assert r.stopped_because in ("the price reached zero", "no new levels were crossed")


def test_zero_shock_and_story_without_levels():
    """No shock: nothing happens; a shock into an empty book says so plainly."""
    edges = np.array([90.0, 95.0, 105.0, 110.0])
    r0 = simulate_cascade(edges, np.ones(3), np.ones(3), 100.0, 0.0, 1e6)
    assert r0.final_price == 100.0 and r0.amplification == 1.0 and liquidated(r0) == 0
    r = simulate_cascade(edges, np.zeros(3), np.zeros(3), 100.0, 2.0, 1e6)
    assert "crosses no shorts liquidation levels" in r.story()


def test_simulate_from_profile_uses_the_profile_price():
    """The profile wrapper runs the same simulation from the profile's own price."""

    edges = np.array([95.5, 96.5, 97.5, 98.5, 99.5, 100.5])
    long_ = np.array([100e6, 0.0, 100e6, 100e6, 0.0])
    profile = Profile(pd.Timestamp("2026-02-05", tz="UTC"), 100.0, edges, long_, np.zeros(5),
                      np.zeros(5), np.zeros(5))
    a = simulate_from_profile(profile, -1.5, 100e6)
    b = simulate_cascade(edges, long_, np.zeros(5), 100.0, -1.5, 100e6)
    pd.testing.assert_frame_equal(a.steps, b.steps)


def test_depth_from_volume_is_a_share_of_median_hourly_quote_volume():
    """Depth = factor x median hourly USD volume, the same from 1m and from 1h candles."""
    times = pd.date_range("2026-02-05", periods=180, freq="1min", tz="UTC")
    hourly_btc = np.repeat([600.0, 1200.0, 3000.0], 60) / 60  # BTC per minute in each hour
    candles = pd.DataFrame({"close": 50_000.0, "volume": hourly_btc}, index=times)
    assert depth_from_volume(candles) == pytest.approx(0.1 * 1200 * 50_000)
    hourly = candles.resample("1h").agg({"close": "last", "volume": "sum"})
    assert depth_from_volume(hourly, factor=0.2) == pytest.approx(0.2 * 1200 * 50_000)
    half = candles.iloc[:90]  # the second hour only half covered: scaled to a full hour
    assert depth_from_volume(half) == pytest.approx(0.1 * 0.5 * (600 + 1200) * 50_000)


# ----------------------------------------------------------------------------- detector


def quiet_market(n: int = 1440, seed: int = 1, freq: str = "1min"):
    """A random walk with 0.03% steps and small, noisy modelled liquidations."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-02-05", periods=n, freq=freq, tz="UTC")
    close = 70_000 * np.exp(np.cumsum(rng.normal(0, 0.0003, n)))
    open_ = np.concatenate([[70_000.0], close[:-1]])
    wick = np.abs(rng.normal(0, 0.0002, n)) * close
    high = np.maximum(open_, close) + wick
    low = np.minimum(open_, close) - wick
    liq_long = rng.gamma(1.0, 2e5, n) * (rng.random(n) < 0.4)
    liq_short = rng.gamma(1.0, 2e5, n) * (rng.random(n) < 0.4)
    return times, open_, high, low, close, liq_long, liq_short


def add_crash(market, at: int, length: int, drop_pct: float, usd_per_candle: float):
    """Insert a slide of ``drop_pct`` over ``length`` candles with heavy long liquidations."""
    times, o, h, lo, c, ll, ls = (np.array(a, copy=True) if i else a for i, a in enumerate(market))
    factor = (1 - drop_pct / 100) ** (1 / length)
    for k in range(at, at + length):
        o[k] = c[k - 1]
        c[k] = o[k] * factor
        h[k] = o[k] * 1.0005
        lo[k] = c[k] * 0.997
        ll[k] += usd_per_candle
    ratio = c[at + length - 1] / c[at + length]  # keep the walk continuous after the crash
    o[at + length :] *= ratio
    h[at + length :] *= ratio
    lo[at + length :] *= ratio
    c[at + length :] *= ratio
    return times, o, h, lo, c, ll, ls


def test_robust_zscore_and_true_range():
    """z-scores use the median and MAD, with the mean-AD fallback when most values are equal."""
    z = robust_zscore(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert z[2] == 0 and z[-1] == pytest.approx(97 / 1.4826)
    z0 = robust_zscore(np.array([0.0, 0.0, 0.0, 0.0, 5.0]))
    assert z0[-1] == pytest.approx(5 / (1.2533 * 1.0))
    assert np.all(robust_zscore(np.zeros(5)) == 0)
    tr = true_range_pct(np.array([100.0, 100.0]), np.array([101.0, 100.0]), np.array([99.0, 97.0]),
                        np.array([100.0, 98.0]))
    np.testing.assert_allclose(tr, [2.0, 3.0])


def test_constructed_crash_is_found():
    """A 6% slide with heavy long liquidations in a quiet day is the one cascade found."""
    market = add_crash(quiet_market(), at=700, length=20, drop_pct=6.0, usd_per_candle=30e6)
    found = detect_cascades_arrays(*market, top=None)
    assert list(found.columns) == list(DETECTION_COLUMNS)
    assert len(found) == 1
    top = found.iloc[0]
    # the episode covers the slide (a chance hot candle up to 30 minutes before may join it)
    assert 670 <= top.first_index <= 702 and 717 <= top.last_index <= 719
    assert top.move_pct == pytest.approx(-6.3, abs=0.5)
    assert top.long_usd >= 0.9 * 20 * 30e6 and top.long_usd > 50 * top.short_usd
    assert top.start == market[0][top.first_index]
    assert top.end == market[0][top.last_index] + pd.Timedelta(minutes=1)
    assert top.summary.startswith("5 Feb 11:") and "longs /" in top.summary


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quiet_market_has_no_cascade(seed):
    """A quiet random walk with noisy small liquidations shows no cascade at all."""
    assert detect_cascades_arrays(*quiet_market(seed=seed)).empty


def test_no_liquidations_no_cascade():
    """Price moves without modelled liquidations are not cascades."""
    times, o, h, lo, c, ll, ls = add_crash(quiet_market(), 700, 20, 6.0, 0.0)
    none = np.zeros(len(times))
    assert detect_cascades_arrays(times, o, h, lo, c, none, none).empty


def test_cascades_are_ranked_by_size():
    """Two crashes: the bigger one ranks first; ``top`` keeps the largest; scores descend."""
    market = add_crash(quiet_market(), at=300, length=10, drop_pct=3.0, usd_per_candle=20e6)
    market = add_crash(market, at=1000, length=15, drop_pct=5.0, usd_per_candle=40e6)
    found = detect_cascades_arrays(*market, top=None)
    assert len(found) == 2
    assert found.first_index.tolist()[0] in range(1000, 1003)
    assert found.score.is_monotonic_decreasing
    assert found.score.iloc[0] == pytest.approx(found.total_usd.iloc[0] * abs(found.move_pct.iloc[0]) / 100)
    assert len(detect_cascades_arrays(*market, top=1)) == 1
    by_usd = detect_cascades_arrays(*market, top=None, rank_by="usd")
    assert (by_usd.score == by_usd.total_usd).all()


@settings(max_examples=20, deadline=None)
@given(price_scale=st.floats(0.01, 100), usd_scale=st.floats(1e-3, 1e3))
def test_detection_ignores_units(price_scale, usd_scale):
    """Rescaling prices or USD changes no episode (the z-scores are unit-free)."""
    times, o, h, lo, c, ll, ls = add_crash(quiet_market(), 700, 20, 6.0, 30e6)
    base = detect_cascades_arrays(times, o, h, lo, c, ll, ls)
    scaled = detect_cascades_arrays(times, o * price_scale, h * price_scale, lo * price_scale,
                                    c * price_scale, ll * usd_scale, ls * usd_scale)
    assert scaled.first_index.tolist() == base.first_index.tolist()
    np.testing.assert_allclose(scaled.move_pct, base.move_pct, rtol=1e-9)
    np.testing.assert_allclose(scaled.total_usd, base.total_usd * usd_scale, rtol=1e-9)


def test_same_rule_on_hourly_candles():
    """The same shapes stamped hourly give the same episodes (gap tolerance scales with the candle)."""
    market = add_crash(quiet_market(n=400, seed=4), at=200, length=3, drop_pct=6.0, usd_per_candle=30e6)
    hourly = (pd.date_range("2026-02-01", periods=400, freq="1h", tz="UTC"), *market[1:])
    found = detect_cascades_arrays(*hourly)
    assert len(found) == 1 and found.first_index.iloc[0] == 200
    assert found.end.iloc[0] - found.start.iloc[0] == pd.Timedelta(hours=3)


def test_detector_does_not_mutate_inputs_and_reads_a_heatmap():
    """``detect_cascades`` reads a Heatmap's arrays and leaves them as they were."""

    times, o, h, lo, c, ll, ls = add_crash(quiet_market(), 700, 20, 6.0, 30e6)
    copies = [a.copy() for a in (o, h, lo, c, ll, ls)]
    grid = np.zeros((2, len(times)))
    heatmap = Heatmap(times, np.array([1.0, 2.0, 3.0]), grid, grid, ll, ls, o, h, lo, c,
                      np.ones(len(times)), timeframe="1m")
    found = detect_cascades(heatmap, top=5)
    assert len(found) == 1
    for before, after in zip(copies, (o, h, lo, c, ll, ls)):
        np.testing.assert_array_equal(before, after)
    assert depth_from_volume(heatmap) > 0


def test_summary_and_rule_text():
    """The summary is one plain line; the rule text names its thresholds."""
    s = cascade_summary(pd.Timestamp("2026-02-05 14:05", tz="UTC"), pd.Timestamp("2026-02-05 16:40", tz="UTC"),
                        -6.2, 412e6, 3e6)
    assert s == "5 Feb 14:05 -> 16:40 UTC: -6.2%, $412M longs / $3.0M shorts liquidated"
    over = cascade_summary(pd.Timestamp("2026-02-05 23:50", tz="UTC"), pd.Timestamp("2026-02-06 00:20", tz="UTC"),
                           -4.0, 1.25e9, 0)
    assert over == "5 Feb 23:50 -> 6 Feb 00:20 UTC: -4.0%, $1.2B longs / $0 shorts liquidated"
    assert format_usd(850_000) == "$850K"
    assert "median absolute deviation" in CASCADE_RULE and "true range" in CASCADE_RULE
    assert detect_cascades_arrays([], [], [], [], [], [], []).empty
