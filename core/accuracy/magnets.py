"""Magnets, tested: is price pulled toward the biggest liquidation cluster?

The claim heard everywhere about liquidation heatmaps is that price "hunts" big clusters. The
test, for every candle c (issue 13, item 5):

1. From the model's liquidation map at the close of c, take the largest long cluster below the
   close and the largest short cluster above it, both within +-``window`` (clusters as
   ``core.grid.find_clusters`` defines them; a cluster's price is the USD-weighted mean of its
   band centres, as in ``key_levels``).
2. Follow price forward from c + 1 for at most ``horizon`` candles and note the first candle whose
   low reaches each level below (low <= level) or whose high reaches each level above.
3. Three races, each a share of the candles where one of the two levels was reached first:

   * **larger vs smaller**: the larger cluster is reached before the smaller one;
   * **larger vs control**: the larger cluster is reached before a control level at the same
     distance on the other side of the close (no magnet: 50% by symmetry, apart from drift);
   * **smaller vs control**: the same for the smaller cluster (the same 50% null).

   The larger-vs-control race is also given split by the side of the larger cluster: a market that
   drifts one way over the sample reaches levels on that side first more often, whatever the
   clusters; the split shows whether the effect holds against the drift too.

   Both levels reached in the same candle (the order inside a candle is unknown), or neither within
   the horizon, leave the candle out of that race.

Each share comes with a 95% Wilson score interval (Wilson 1927; Agresti & Coull 1998). Candles a
few hours apart share most of their future, so they are not independent: the interval over every
candle is too narrow. ``step`` takes one candle in ``step`` (e.g. 24 on hourly data: one a day)
for a less dependent sample; report both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.grid import CrossingIndex, find_clusters

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(wins: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial share ``wins / n`` (NaN, NaN when n = 0).

    centre = (p + z^2 / 2n) / (1 + z^2 / n),
    half = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2).
    """
    if n < 0 or not 0 <= wins <= n:
        raise ValueError("need 0 <= wins <= n")
    if n == 0:
        return math.nan, math.nan
    p = wins / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if wins == 0 else max(0.0, centre - half)  # exactly 0 / 1 at the ends (no rounding residue)
    hi = 1.0 if wins == n else min(1.0, centre + half)
    return lo, hi


@dataclass(frozen=True)
class Race:
    """One race: in ``n`` decided candles the first-named level was reached first ``wins`` times."""

    name: str
    wins: int
    n: int
    ties: int
    unresolved: int

    @property
    def share(self) -> float:
        """wins / n (NaN when nothing was decided)."""
        return self.wins / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson score interval of ``share``."""
        return wilson_interval(self.wins, self.n)


@dataclass(frozen=True)
class MagnetResult:
    """The three races over the candles tested (see the module docstring)."""

    larger_vs_smaller: Race
    larger_vs_control: Race
    smaller_vs_control: Race
    larger_long_vs_control: Race
    larger_short_vs_control: Race
    n_candles: int
    n_without_pair: int
    window: float
    horizon: int
    step: int

    @property
    def races(self) -> tuple[Race, ...]:
        """The three races, then larger-vs-control split by the side of the larger cluster."""
        return (self.larger_vs_smaller, self.larger_vs_control, self.smaller_vs_control,
                self.larger_long_vs_control, self.larger_short_vs_control)


def largest_clusters(
    centers: np.ndarray, long: np.ndarray, short: np.ndarray, price: float, window: float
) -> tuple[float, float, float, float] | None:
    """(long price, long USD, short price, short USD) of the largest long cluster below ``price``
    and short cluster above it within +-``window`` (a fraction), or None if a side has none."""
    c = np.asarray(centers, dtype="float64")
    below = (c < price) & (c >= price * (1.0 - window))
    above = (c > price) & (c <= price * (1.0 + window))
    out = []
    for usd, inside in ((np.asarray(long, dtype="float64"), below), (np.asarray(short, dtype="float64"), above)):
        y = np.where(inside, usd, 0.0)
        clusters = find_clusters(y)
        if not clusters:
            return None
        lo, hi, total = max(clusters, key=lambda x: x[2])
        w = y[lo : hi + 1]
        out.extend((float((c[lo : hi + 1] * w).sum() / w.sum()), float(total)))
    return out[0], out[1], out[2], out[3]


def _race(name: str, t_a: np.ndarray, t_b: np.ndarray, horizon_end: np.ndarray) -> Race:
    """Race of level a against level b from first-touch candles (beyond ``horizon_end``: not reached)."""
    a_in = t_a <= horizon_end
    b_in = t_b <= horizon_end
    decided = (a_in | b_in) & (t_a != t_b)
    ties = int(((a_in & b_in) & (t_a == t_b)).sum())
    wins = int((decided & (t_a < t_b)).sum())
    return Race(name=name, wins=wins, n=int(decided.sum()), ties=ties, unresolved=int((~a_in & ~b_in).sum()))


def magnet_test(
    times: pd.DatetimeIndex,
    price_edges: np.ndarray,
    long: np.ndarray,
    short: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    window: float = 0.10,
    horizon: int = 168,
    step: int = 1,
    start: int = 0,
) -> MagnetResult:
    """Run the three races for every ``step``-th candle from ``start`` (see the module docstring).

    Parameters
    ----------
    times
        Candle open times (T,).
    price_edges, long, short
        The heatmap: band edges (P+1,) and USD alive per band at each close, (P, T) per side.
    high, low, close
        The candles (T,).
    window
        Clusters are looked for within +-window of the close (0.10).
    horizon
        Candles followed after each tested candle (168: a week of hours).
    step, start
        Test candles ``start, start + step, ...`` (``start`` skips a warm-up).
    """
    n = len(times)
    edges = np.asarray(price_edges, dtype="float64")
    centers = (edges[:-1] + edges[1:]) / 2
    h, lo, c = (np.asarray(v, dtype="float64") for v in (high, low, close))
    if np.shape(long)[1] != n or np.shape(short)[1] != n or not len(h) == len(lo) == len(c) == n:
        raise ValueError("heatmap columns and candles must match")
    if not 0 < window < 1 or horizon < 1 or step < 1:
        raise ValueError("window must lie in (0, 1), horizon and step must be >= 1")
    index = CrossingIndex(lo, h)
    rows = []
    tested = list(range(max(0, start), n - 1, step))
    for t in tested:
        pair = largest_clusters(centers, long[:, t], short[:, t], float(c[t]), window)
        if pair is not None:
            rows.append((t, *pair))
    without = len(tested) - len(rows)
    if not rows:
        empty = Race("", 0, 0, 0, 0)
        return MagnetResult(empty, empty, empty, empty, empty, len(tested), without, window, horizon, step)
    arr = np.array(rows)
    t = arr[:, 0].astype("int64")
    p_long, u_long, p_short, u_short = arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4]
    close_t = c[t]
    touch_long = index.first_cross(1, t, p_long)
    touch_short = index.first_cross(-1, t, p_short)
    # control levels: the same distance as a cluster, on the other side of the close
    ctrl_of_long = index.first_cross(-1, t, 2 * close_t - p_long)  # above, mirrors the long cluster
    ctrl_of_short = index.first_cross(1, t, 2 * close_t - p_short)  # below, mirrors the short cluster
    long_larger = u_long >= u_short
    t_larger = np.where(long_larger, touch_long, touch_short)
    t_smaller = np.where(long_larger, touch_short, touch_long)
    ctrl_larger = np.where(long_larger, ctrl_of_long, ctrl_of_short)
    ctrl_smaller = np.where(long_larger, ctrl_of_short, ctrl_of_long)
    end = np.minimum(t + horizon, n - 1)
    return MagnetResult(
        larger_vs_smaller=_race("larger cluster before smaller cluster", t_larger, t_smaller, end),
        larger_vs_control=_race("larger cluster before control level", t_larger, ctrl_larger, end),
        smaller_vs_control=_race("smaller cluster before control level", t_smaller, ctrl_smaller, end),
        larger_long_vs_control=_race("  of which larger is long (below)", t_larger[long_larger],
                                     ctrl_larger[long_larger], end[long_larger]),
        larger_short_vs_control=_race("  of which larger is short (above)", t_larger[~long_larger],
                                      ctrl_larger[~long_larger], end[~long_larger]),
        n_candles=len(tested),
        n_without_pair=without,
        window=window,
        horizon=horizon,
        step=step,
    )


def magnet_test_heatmap(heatmap: object, window: float = 0.10, horizon: int = 168, step: int = 1,
                        start: int = 0) -> MagnetResult:
    """``magnet_test`` on a ``core.grid.Heatmap``."""
    return magnet_test(heatmap.times, heatmap.price_edges, heatmap.long, heatmap.short, heatmap.high,
                       heatmap.low, heatmap.close, window=window, horizon=horizon, step=step, start=start)
