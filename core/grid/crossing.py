"""First crossings: when each level of a market ends and what it is worth when it dies.

A level dies at the first candle whose range reaches its price (``CrossingIndex``), or is closed
when open interest falls to 0 (MODEL.md, "heatmap value").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.market import MarketData
from core.model.levels import Levels, SideLevels


class CrossingIndex:
    """Range-minimum tables over lows and range-maximum tables over highs of one market.

    ``first_cross`` finds, for every level at once, the first candle u > t whose low <= p (long)
    or high >= p (short) by a vectorised binary lifting over a sparse table: O(M log N) for M
    levels and N candles, after an O(N log N) build. Build once per market and reuse.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        self.n = len(low)
        self._low = self._table(np.asarray(low, dtype="float64"))
        self._neg_high = self._table(-np.asarray(high, dtype="float64"))

    @staticmethod
    def _table(values: np.ndarray) -> np.ndarray:
        """(K, N+1) table: row k, column i = min(values[i : i + 2**k]), -inf where it runs past N."""
        n = len(values)
        k_max = max(1, int(n).bit_length())
        table = np.full((k_max, n + 1), -np.inf)
        table[0, :n] = values
        for k in range(1, k_max):
            half, width = 1 << (k - 1), 1 << k
            count = n - width + 1
            if count <= 0:
                break
            table[k, :count] = np.minimum(table[k - 1, :count], table[k - 1, half : half + count])
        return table

    def first_cross(self, side: int, birth: np.ndarray, price: np.ndarray) -> np.ndarray:
        """First candle u > birth where price trades through each level (``n`` if never).

        Parameters
        ----------
        side
            +1 long (dies when low <= price), -1 short (dies when high >= price).
        birth, price
            Birth candle and price of each level.
        """
        table = self._low if side > 0 else self._neg_high
        threshold = np.asarray(price, dtype="float64") * (1.0 if side > 0 else -1.0)
        pos = np.asarray(birth, dtype="int64") + 1
        np.minimum(pos, self.n, out=pos)
        for k in range(table.shape[0] - 1, -1, -1):
            pos += (table[k, pos] > threshold).astype("int64") << k
        return pos


@dataclass(frozen=True)
class Fate:
    """When each level of one side ends, and what it is worth when it dies."""

    end: np.ndarray  # first candle the level is not alive at (N if alive to the end)
    liquidated: np.ndarray  # bool: died by a price crossing (not closed by OI falling to 0)
    death_value: np.ndarray  # USD at the close of its death candle (0 where not liquidated)


def side_fates(levels: Levels, side_levels: SideLevels, index: CrossingIndex) -> Fate:
    """End candle, liquidation flag and death value of every level of one side."""
    n = index.n
    cross = index.first_cross(side_levels.side, side_levels.birth, side_levels.price)
    next_zero = np.full(n + 1, n, dtype="int64")
    zeros = np.flatnonzero(levels.zero)
    if len(zeros):
        idx = np.searchsorted(zeros, np.arange(n + 1), side="left")
        next_zero = np.where(idx < len(zeros), zeros[np.minimum(idx, len(zeros) - 1)], n)
    kill = next_zero[np.minimum(side_levels.birth + 1, n)]
    liquidated = cross < kill
    end = np.minimum(cross, kill)
    at = np.minimum(cross, n - 1)
    value = np.where(
        liquidated,
        side_levels.notional * np.exp(levels.log_scale[at] - levels.log_scale[side_levels.birth]),
        0.0,
    )
    return Fate(end=end, liquidated=liquidated, death_value=value)


def crossing_index(market: MarketData) -> CrossingIndex:
    """The ``CrossingIndex`` of a market's candles."""
    c = market.candles
    return CrossingIndex(c["low"].to_numpy(dtype="float64"), c["high"].to_numpy(dtype="float64"))
