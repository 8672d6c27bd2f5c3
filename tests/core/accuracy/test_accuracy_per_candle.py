"""Per-candle score: Spearman with average ranks, top-5% capture, move x OI baseline, scorecard."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.accuracy.per_candle import (
    average_ranks,
    biggest_misses,
    candle_table,
    move_oi_baseline,
    score_per_candle,
    scored_mask,
    spearman,
    time_split,
    top_capture,
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
pairs = st.lists(st.tuples(finite, finite), min_size=3, max_size=40)


def brute_spearman(x, y):
    """Pearson on average ranks computed by counting (O(n^2)), the textbook definition."""
    x, y = np.asarray(x, float), np.asarray(y, float)

    def ranks(v):
        return np.array([(v < a).sum() + ((v == a).sum() + 1) / 2 for a in v])

    rx, ry = ranks(x), ranks(y)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt((dx @ dx) * (dy @ dy))
    return math.nan if den == 0 else (dx @ dy) / den


def test_average_ranks_share_ties():
    assert average_ranks(np.array([10.0, 20.0, 10.0, 30.0])).tolist() == [1.5, 3.0, 1.5, 4.0]
    assert average_ranks(np.array([5.0, 5.0, 5.0])).tolist() == [2.0, 2.0, 2.0]


def test_spearman_golden_by_hand():
    # no ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)); ranks x 1..5, y 2,1,4,3,5 -> sum d^2 = 4 -> 0.8
    assert spearman(np.array([1.0, 2, 3, 4, 5]), np.array([20.0, 10, 40, 30, 50])) == pytest.approx(0.8)
    # ties: x ranks 1.5,1.5,3,4 ; y ranks 1,2,3,4 -> Pearson of those = 0.9486832980505138
    assert spearman(np.array([0.0, 0, 1, 2]), np.array([1.0, 2, 3, 4])) == pytest.approx(3 / math.sqrt(10))
    assert spearman(np.array([1.0, 2, 3]), np.array([3.0, 2, 1])) == pytest.approx(-1.0)


def test_spearman_undefined_for_constant_or_short():
    assert math.isnan(spearman(np.ones(5), np.arange(5.0)))
    assert math.isnan(spearman(np.array([1.0]), np.array([2.0])))
    with pytest.raises(ValueError):
        spearman(np.array([1.0, np.nan]), np.array([1.0, 2.0]))


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_spearman_matches_brute_force(xy):
    x, y = np.array(xy).T
    got, want = spearman(x, y), brute_spearman(x, y)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, abs=1e-9)


ints = st.integers(min_value=-1000, max_value=1000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ints, ints), min_size=3, max_size=40))
def test_spearman_symmetric_and_invariant_under_monotone_maps(xy):
    x, y = np.array(xy, dtype="float64").T
    rho = spearman(x, y)
    if math.isnan(rho):
        return
    assert spearman(y, x) == pytest.approx(rho, abs=1e-12)
    # strictly increasing maps keep ranks: rho unchanged; a decreasing map flips its sign
    assert spearman(x**3 + 7, y) == pytest.approx(rho, abs=1e-9)
    assert spearman(x, np.exp(y / 1000)) == pytest.approx(rho, abs=1e-9)
    assert spearman(-x, y) == pytest.approx(-rho, abs=1e-9)


def test_top_capture_golden():
    realized = np.array([1.0, 2, 3, 4, 90] + [0.0] * 15)  # 20 candles, total 100
    signal = np.arange(20.0)[::-1]  # top 5% = 1 candle: the first, realized 1
    assert top_capture(signal, realized) == pytest.approx(0.01)
    signal2 = np.zeros(20)
    signal2[4] = 1.0
    assert top_capture(signal2, realized) == pytest.approx(0.90)


def test_top_capture_ties_share_places():
    realized = np.arange(1.0, 21.0)  # total 210
    flat = np.ones(20)
    assert top_capture(flat, realized) == pytest.approx(0.05)  # uniform signal: exactly the share
    s = np.zeros(20)
    s[[0, 1]] = 5.0  # two tied for one place: half credit each -> (1 + 2) / 2 / 210
    assert top_capture(s, realized) == pytest.approx(1.5 / 210)


def test_top_capture_takes_ceil_share():
    realized = np.ones(21)
    s = np.arange(21.0)
    assert top_capture(s, realized) == pytest.approx(2 / 21)  # ceil(0.05 * 21) = 2


def test_move_oi_baseline_golden():
    close = np.array([100.0, 98.0, 103.0])
    high = np.array([101.0, 101.0, 104.0])
    low = np.array([99.0, 95.0, 97.0])
    oi = np.array([1000.0, 2000.0, 3000.0])
    long, short = move_oi_baseline(close, high, low, oi)
    assert long.tolist() == pytest.approx([0.0, 5 / 100 * 1000, 1 / 98 * 2000])
    assert short.tolist() == pytest.approx([0.0, 1 / 100 * 1000, 6 / 98 * 2000])


def test_move_oi_baseline_unknown_previous_oi_is_zero():
    long, short = move_oi_baseline(np.array([100.0, 90, 80]), np.array([101.0, 120, 95]),
                                   np.array([99.0, 80, 70]), np.array([np.nan, 10.0, 20.0]))
    assert long[1] == 0.0 and short[1] == 0.0
    assert long[2] == pytest.approx(20 / 90 * 10) and short[2] == pytest.approx(5 / 90 * 10)


def _market(n=400, seed=3):
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-01-01", periods=n, freq="1h", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    high = close * (1 + rng.uniform(0, 0.01, n))
    low = close * (1 - rng.uniform(0, 0.01, n))
    oi = 1e6 * (1 + rng.uniform(0, 0.1, n))
    return times, close, high, low, oi


def test_scorecard_warmup_quiet_and_perfect_model():
    times, close, high, low, oi = _market()
    base_long, base_short = move_oi_baseline(close, high, low, oi)
    realized_long, realized_short = base_long ** 1.5, base_short ** 0.5
    realized_long[200:210] = 0.0
    realized_short[200:210] = 0.0  # 10 quiet hours after the warm-up
    model_long, model_short = np.log1p(realized_long), realized_short * 3
    card = score_per_candle(times, model_long, model_short, realized_long, realized_short, close, high, low, oi)
    assert card.n_warmup == 168 and card.n_quiet == 10 and card.n_scored == 400 - 168 - 10
    assert card.model.rho_long == pytest.approx(1.0) and card.model.rho_short == pytest.approx(1.0)
    assert card.move_oi.rho_long == pytest.approx(1.0) and card.move_oi.rho_short == pytest.approx(1.0)
    assert card.model.capture_long == pytest.approx(card.move_oi.capture_long)
    assert math.isnan(card.uniform.rho_long)
    assert card.uniform.capture_short == pytest.approx(math.ceil(0.05 * card.n_scored) / card.n_scored)
    assert card.first == times[168]
    table = card.table()
    assert list(table.index) == ["model", "move x OI", "uniform"]


def test_scorecard_sides_swap_symmetrically():
    times, close, high, low, oi = _market(seed=5)
    rng = np.random.default_rng(1)
    rl, rs = rng.exponential(1.0, 400), rng.exponential(2.0, 400)
    ml, ms = rl + rng.normal(0, 1, 400), rs + rng.normal(0, 1, 400)
    a = score_per_candle(times, ml, ms, rl, rs, close, high, low, oi)
    b = score_per_candle(times, ms, ml, rs, rl, close, high, low, oi)
    assert a.model.rho_long == pytest.approx(b.model.rho_short)
    assert a.model.capture_short == pytest.approx(b.model.capture_long)
    assert a.model.rho_pooled == pytest.approx(b.model.rho_pooled)


def test_time_split_is_ordered_and_complete():
    times, *_ = _market(n=300)
    rl = np.ones(300)
    mask = scored_mask(times, rl, rl)
    fit, held = time_split(mask, 0.6)
    assert not (fit & held).any() and ((fit | held) == mask).all()
    assert np.flatnonzero(fit).max() < np.flatnonzero(held).min()
    assert fit.sum() == int(0.6 * mask.sum())


def test_candle_table_and_biggest_misses():
    times = pd.date_range("2026-01-01", periods=5, freq="1h", tz="UTC")
    close = np.array([100.0, 99, 101, 100, 98])
    table = candle_table(times, [0.0, 1, 2, 3, 4], [4.0, 3, 2, 1, 0], [0.0, 10, 20, 30, 1], [1.0, 2, 3, 4, 5],
                         close, close + 1, close - 1, np.full(5, 1000.0))
    assert table["baseline_long"].iloc[1] == pytest.approx(2 / 100 * 1000)
    mask = np.array([False, True, True, True, True])
    misses = biggest_misses(table, mask, n=2)
    # short: realized ranks 1..4, model ranks 4..1: the 04:00 short (realized 5 ranked 4, model 0
    # ranked 1) misses by (4 - 1) / 4 = 0.75; the 04:00 long (realized 1, model 4) is a false alarm
    # (miss -0.75) and must not be listed first.
    assert misses.iloc[0]["side"] == "short" and misses.iloc[0]["time"] == times[4]
    assert misses.iloc[0]["miss"] == pytest.approx(0.75)
    assert len(misses) == 2 and misses["miss"].is_monotonic_decreasing
