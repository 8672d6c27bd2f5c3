"""Levels -> time x price grid (``Heatmap``), the liquidation-map profile, key levels, aggregation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Profile:
    """The liquidation map at one candle: USD per price band, longs and shorts apart.

    ``cum_long[b]`` is the long USD in bands b..(band of the price) below the price, summed from
    the price downwards (what a fall to band b would liquidate); ``cum_short[b]`` the short USD
    from the price upwards to band b (what a rise to band b would liquidate). Both are 0 on the
    other side of the price.
    """

    time: pd.Timestamp
    price: float
    price_edges: np.ndarray  # (P+1,) ascending
    long: np.ndarray  # (P,)
    short: np.ndarray  # (P,)
    cum_long: np.ndarray  # (P,)
    cum_short: np.ndarray  # (P,)

    @property
    def centers(self) -> np.ndarray:
        """Middle price of each band."""
        return (self.price_edges[:-1] + self.price_edges[1:]) / 2


@dataclass(frozen=True)
class Heatmap:
    """Estimated liquidation notional (USD) per price band and candle.

    Attributes
    ----------
    times
        Candle open times, one column per candle (T).
    price_edges
        Band edges, ascending, shape (P+1,).
    long, short
        Shape (P, T): USD notional of the levels alive at each candle's close whose price lies in
        each band (MODEL.md, "heatmap value").
    liquidated_long, liquidated_short
        Shape (T,): the model's notional that died (was liquidated) in each candle.
    open, high, low, close, volume
        Shape (T,): the candles, for overlays.
    exchange, symbol, timeframe, source
        Where the market came from ("all" for an aggregate).
    notes
        Plain-language notes (data notes, proxy use, bracket table used).
    oi_proxy
        True when new-position notional came from the volume proxy, not open interest.
    """

    times: pd.DatetimeIndex
    price_edges: np.ndarray
    long: np.ndarray
    short: np.ndarray
    liquidated_long: np.ndarray
    liquidated_short: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    exchange: str = ""
    symbol: str = ""
    timeframe: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()
    oi_proxy: bool = False
    params: object = field(default=None, compare=False)

    @property
    def centers(self) -> np.ndarray:
        """Middle price of each band."""
        return (self.price_edges[:-1] + self.price_edges[1:]) / 2

    @property
    def last_price(self) -> float:
        """Close of the last candle."""
        return float(self.close[-1])
