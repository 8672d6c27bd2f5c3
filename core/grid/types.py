"""The liquidation-map types: ``Heatmap`` (USD per price band and candle) and ``Profile`` (one candle).

Their arrays are read-only from construction on: cached heatmaps are shared by every session, so
nothing may write into them (derive a new array instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def readonly(value):
    """``value`` as a read-only view when it is a numpy array (the caller's array stays writable)."""
    if isinstance(value, np.ndarray) and value.flags.writeable:
        value = value.view()
        value.setflags(write=False)
    return value


class _ReadOnlyArrays:
    """Mixin of a frozen dataclass: its numpy array fields are read-only (``readonly``), also after
    unpickling (a cache that pickles, e.g. st.cache_data or Redis, gets read-only arrays back)."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                object.__setattr__(self, name, readonly(value))

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state)
        self.__post_init__()


@dataclass(frozen=True)
class Profile(_ReadOnlyArrays):
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
class Heatmap(_ReadOnlyArrays):
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
    memory
        Span of history before the first drawn candle that the model was run on (its memory:
        positions opened then are alive in the window); 0 when the model started at ``times[0]``.
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
    memory: pd.Timedelta = pd.Timedelta(0)

    @property
    def centers(self) -> np.ndarray:
        """Middle price of each band."""
        return (self.price_edges[:-1] + self.price_edges[1:]) / 2

    @property
    def last_price(self) -> float:
        """Close of the last candle."""
        return float(self.close[-1])

    @property
    def long_total(self) -> np.ndarray:
        """Long USD alive at each candle's close, all bands (T,)."""
        return self.long.sum(axis=0)

    @property
    def short_total(self) -> np.ndarray:
        """Short USD alive at each candle's close, all bands (T,)."""
        return self.short.sum(axis=0)

    def profile(self, at: int = -1) -> Profile:
        """The liquidation map at candle ``at`` (default: the last one), see ``Profile``."""
        col = column_index(at, len(self.times))
        return make_profile(
            self.times[col], float(self.close[col]), self.price_edges, self.long[:, col], self.short[:, col]
        )


def column_index(at: int, n: int) -> int:
    """Normalise a (possibly negative) column index, raising IndexError when out of range."""
    if not -n <= at < n:
        raise IndexError(f"candle {at} is out of range for {n} candles")
    return at % n


def make_profile(
    time: pd.Timestamp, price: float, price_edges: np.ndarray, long: np.ndarray, short: np.ndarray
) -> Profile:
    """A ``Profile`` from one column of USD per band (copies the inputs).

    Bands at or below the price are those whose lower edge is <= price; at or above, those whose
    upper edge is >= price (the band holding the price is both).
    """
    edges = np.asarray(price_edges, dtype="float64")
    long = np.array(long, dtype="float64")
    short = np.array(short, dtype="float64")
    below = edges[:-1] <= price
    above = edges[1:] >= price
    long_below = np.where(below, long, 0.0)
    cum_long = np.where(below, np.cumsum(long_below[::-1])[::-1], 0.0)
    cum_short = np.where(above, np.cumsum(np.where(above, short, 0.0)), 0.0)
    return Profile(
        time=pd.Timestamp(time), price=float(price), price_edges=edges.copy(), long=long, short=short,
        cum_long=cum_long, cum_short=cum_short,
    )
