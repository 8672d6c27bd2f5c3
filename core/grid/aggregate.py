"""One heatmap over several markets (exchange "all"): ``compute_aggregate``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.market import MarketData
from core.grid.crossing import crossing_index, side_fates
from core.grid.engine import _heatmap_from_levels, _price_edges, window_index
from core.grid.types import Heatmap
from core.model.levels import build_levels
from core.model.params import ModelParams


def _ns(times: pd.DatetimeIndex) -> np.ndarray:
    """Nanoseconds since the epoch, whatever the index's unit (pandas keeps s, ms, us or ns: the
    raw ``asi8`` of two indexes compare only in one unit)."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _hold_rows(times: pd.DatetimeIndex, union: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """For each union time, the row of ``times`` at or before it, and whether one exists."""
    pos = np.searchsorted(_ns(times), _ns(union), side="right") - 1
    return np.maximum(pos, 0), pos >= 0


def compute_aggregate(
    markets: list[MarketData],
    params: ModelParams = ModelParams(),
    price_bins: int = 500,
    price_range: tuple[float, float] | None = None,
) -> Heatmap:
    """One heatmap summed over several markets (exchange "all"), in USD.

    All markets share one price axis (covering every market's levels and candles unless
    ``price_range`` is given) and one time axis (the union of their candle times). A market's
    columns are held forward to the union times after its own last candle at or before them
    (0 before its first candle). Liquidated USD is added at the market's own candle times (not
    held). Candles of the aggregate: open and close are the mean over markets of the held values,
    high the max, low the min, volume the sum at the market's own times.
    """
    if not markets:
        raise ValueError("no markets to aggregate")
    built = []
    for m in markets:
        lv, index = build_levels(m, params), crossing_index(m)
        built.append((m, lv, {s: side_fates(lv, getattr(lv, s), index) for s in ("long", "short")}, window_index(m)))
    # The axis covers every level alive in a drawn window and every drawn candle (memory is not drawn).
    prices = [getattr(lv, s).price[fates[s].end > k] for _, lv, fates, k in built for s in ("long", "short")]
    low = min(float(m.candles["low"].iloc[k:].min()) for m, _, _, k in built)
    high = max(float(m.candles["high"].iloc[k:].max()) for m, _, _, k in built)
    edges = _price_edges(prices, low, high, price_bins, price_range)
    union = pd.DatetimeIndex(sorted(set().union(*[set(m.candles.index[k:]) for m, _, _, k in built])))
    t_all, bands = len(union), len(edges) - 1
    long = np.zeros((t_all, bands))
    short = np.zeros((t_all, bands))
    liq_long, liq_short = np.zeros(t_all), np.zeros(t_all)
    volume = np.zeros(t_all)
    opens, closes, counts = np.zeros(t_all), np.zeros(t_all), np.zeros(t_all)
    highs, lows = np.full(t_all, -np.inf), np.full(t_all, np.inf)
    described: list[str] = []
    notes: list[str] = []
    proxy = False
    for market, lv, fates, k in built:
        hm = _heatmap_from_levels(market, params, lv, fates, edges, price_range is not None, k)
        rows, known = _hold_rows(hm.times, union)
        long += np.where(known[:, None], hm.long.T[rows], 0.0)
        short += np.where(known[:, None], hm.short.T[rows], 0.0)
        own = np.searchsorted(_ns(union), _ns(hm.times))
        liq_long[own] += hm.liquidated_long
        liq_short[own] += hm.liquidated_short
        volume[own] += hm.volume
        opens += np.where(known, hm.open[rows], 0.0)
        closes += np.where(known, hm.close[rows], 0.0)
        highs = np.where(known, np.maximum(highs, hm.high[rows]), highs)
        lows = np.where(known, np.minimum(lows, hm.low[rows]), lows)
        counts += known
        proxy = proxy or hm.oi_proxy
        described.append(f"{market.exchange} {market.symbol} ({market.source}, {len(hm.times)} candles)")
        notes.extend(f"{market.exchange}: {note}" for note in hm.notes)
    counts = np.maximum(counts, 1)
    timeframes = {m.timeframe for m in markets}
    return Heatmap(
        times=union,
        price_edges=edges,
        long=long.T,
        short=short.T,
        liquidated_long=liq_long,
        liquidated_short=liq_short,
        open=opens / counts,
        high=np.where(np.isfinite(highs), highs, np.nan),
        low=np.where(np.isfinite(lows), lows, np.nan),
        close=closes / counts,
        volume=volume,
        exchange="all",
        symbol=", ".join(dict.fromkeys(m.symbol for m in markets)),
        timeframe=timeframes.pop() if len(timeframes) == 1 else "mixed",
        source=", ".join(dict.fromkeys(m.source for m in markets)),
        notes=("Sum in USD over " + "; ".join(described) + ".",) + tuple(dict.fromkeys(notes)),
        oi_proxy=proxy,
        params=params,
        memory=min((m.candles.index[k] - m.candles.index[0] for m, _, _, k in built), default=pd.Timedelta(0)),
    )
