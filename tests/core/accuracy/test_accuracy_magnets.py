"""Magnets: largest clusters, first-touch races against a brute-force reference, Wilson interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.accuracy.magnets import largest_clusters, magnet_test, wilson_interval


def test_wilson_golden():
    # Wilson (1927) interval for 8 of 10 at 95%: (0.4902, 0.9433) (textbook value)
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.data())
def test_wilson_contains_share_and_is_symmetric(n, data):
    k = data.draw(st.integers(min_value=0, max_value=n))
    lo, hi = wilson_interval(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    lo2, hi2 = wilson_interval(n - k, n)
    assert lo2 == pytest.approx(1 - hi, abs=1e-12) and hi2 == pytest.approx(1 - lo, abs=1e-12)


def test_largest_clusters_picks_the_biggest_within_window():
    centers = np.arange(90.0, 111.0)  # 90..110, price 100
    long = np.zeros(21)
    short = np.zeros(21)
    long[[2, 3]] = [5.0, 5.0]  # 92-93: 10 USD
    long[8] = 7.0  # 98: 7 USD
    long[0] = 100.0  # 90: outside a 9% window
    short[15] = 3.0  # 105
    pair = largest_clusters(centers, long, short, 100.0, 0.09)
    assert pair == pytest.approx((92.5, 10.0, 105.0, 3.0))
    assert largest_clusters(centers, long, np.zeros(21), 100.0, 0.09) is None


def _brute_first(side, t, level, high, low):
    for u in range(t + 1, len(high)):
        if (side > 0 and low[u] <= level) or (side < 0 and high[u] >= level):
            return u
    return len(high)


def test_races_match_a_brute_force_walk():
    rng = np.random.default_rng(11)
    n, p = 120, 80
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    high, low = close * 1.004, close * 0.996
    edges = np.linspace(80, 120, p + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    long = rng.exponential(1.0, (p, n)) * (centers[:, None] < close[None, :])
    short = rng.exponential(1.0, (p, n)) * (centers[:, None] > close[None, :])
    times = pd.date_range("2026-01-01", periods=n, freq="1h", tz="UTC")
    res = magnet_test(times, edges, long, short, high, low, close, window=0.1, horizon=30)
    wins = {"ls": [0, 0], "lc": [0, 0], "sc": [0, 0]}
    for t in range(n - 1):
        pair = largest_clusters(centers, long[:, t], short[:, t], close[t], 0.1)
        if pair is None:
            continue
        pl, ul, ps, us = pair
        tl, ts = _brute_first(1, t, pl, high, low), _brute_first(-1, t, ps, high, low)
        cl, cs = _brute_first(-1, t, 2 * close[t] - pl, high, low), _brute_first(1, t, 2 * close[t] - ps, high, low)
        big, small, cbig, csmall = (tl, ts, cl, cs) if ul >= us else (ts, tl, cs, cl)
        end = min(t + 30, n - 1)
        for key, a, b in (("ls", big, small), ("lc", big, cbig), ("sc", small, csmall)):
            if (a <= end or b <= end) and a != b:
                wins[key][1] += 1
                wins[key][0] += a < b
    got = {"ls": res.larger_vs_smaller, "lc": res.larger_vs_control, "sc": res.smaller_vs_control}
    for key, race in got.items():
        assert (race.wins, race.n) == tuple(wins[key])
    split = res.larger_long_vs_control, res.larger_short_vs_control
    assert sum(r.wins for r in split) == res.larger_vs_control.wins
    assert sum(r.n for r in split) == res.larger_vs_control.n
    assert res.larger_vs_smaller.n > 0


def test_a_magnet_path_scores_one_and_mirror_scores_zero():
    """Price walks down into a big long cluster each time: the larger cluster always wins."""
    n, p = 40, 40
    close = np.full(n, 100.0)
    close[1::2] = 95.0  # every other candle dips to 95
    high, low = close + 0.5, close - 0.5
    edges = np.linspace(80, 120, p + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    long = np.zeros((p, n))
    short = np.zeros((p, n))
    long[np.argmin(np.abs(centers - 95.5)), 0::2] = 10.0  # big long cluster under 100
    short[np.argmin(np.abs(centers - 104.5)), 0::2] = 1.0  # small short cluster above
    times = pd.date_range("2026-01-01", periods=n, freq="1h", tz="UTC")
    res = magnet_test(times, edges, long, short, high, low, close, window=0.1, horizon=5, step=2)
    assert res.larger_vs_control.share == 1.0 and res.larger_vs_smaller.share == 1.0
    assert res.smaller_vs_control.share == 0.0
