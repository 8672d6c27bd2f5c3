"""Incremental refresh: fetch only what is new since the last good data, merge, validate.

A new time bucket needs only the candles since the last good data (kept in the last-good store,
so a restart loses nothing), plus an overlap: the last saved candle may have been forming, and
the candle before it must agree with the exchange's answer, else everything is fetched again.
Open interest is fetched from one period before the first new candle (its alignment needs the
observation at or before each candle's close); older candles keep their saved open interest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.constants import timeframe_delta
from core.data.market import MarketData, clean_candles

OVERLAP_CANDLES = 2  # the last saved candle (maybe forming) and one closed candle to compare
RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class RefreshPlan:
    """Where an incremental fetch starts, and the saved data it extends."""

    fetch_from: pd.Timestamp
    previous: MarketData


def plan_refresh(previous: MarketData | None, exchange: str, symbol: str, timeframe: str,
                 start: pd.Timestamp, now: pd.Timestamp) -> RefreshPlan | None:
    """A plan to fetch only the new part of ``[start, now]``, or None for a full fetch.

    The saved data must be of the same market and timeframe, cover ``start``, end between
    ``start`` and ``now``, and have some open interest (else the saved gap would be kept forever).
    """
    if previous is None or previous.candles.empty:
        return None
    if (previous.exchange, previous.symbol, previous.timeframe) != (exchange, symbol, timeframe):
        return None
    step = timeframe_delta(timeframe)
    idx = previous.candles.index
    if idx[0] > start + step or idx[-1] < start or idx[-1] > now:
        return None
    fetch_from = max(start, idx[-1] - (OVERLAP_CANDLES - 1) * step)
    if fetch_from <= start:
        return None  # nothing saved worth keeping
    kept_oi = previous.open_interest.loc[(idx >= start) & (idx < fetch_from)]
    if not kept_oi.notna().any():
        return None  # the saved data lacks open interest (it failed then): ask for all of it again
    return RefreshPlan(fetch_from, previous)


def merge_candles(plan: RefreshPlan, fresh: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame | None:
    """Saved candles in ``[start, fetch_from)`` followed by the fresh ones, validated; None when
    the overlap disagrees (the saved data is not the exchange's: fetch everything)."""
    old = plan.previous.candles
    closed = old.loc[(old.index >= plan.fetch_from) & (old.index < old.index[-1])]
    if not closed.empty:
        shared = closed.index.intersection(fresh.index)
        if len(shared) < len(closed):
            return None
        a = closed.loc[shared, ["open", "high", "low", "close"]].to_numpy()
        b = fresh.loc[shared, ["open", "high", "low", "close"]].to_numpy()
        if not np.allclose(a, b, rtol=RELATIVE_TOLERANCE, atol=0.0):
            return None
    kept = old.loc[(old.index >= start) & (old.index < plan.fetch_from)]
    merged, _ = clean_candles(pd.concat([kept, fresh]))
    return merged


def merge_open_interest(plan: RefreshPlan, fresh_oi: pd.Series, candles: pd.DataFrame) -> pd.Series:
    """Open interest on ``candles``: the fresh values from ``fetch_from`` on, the saved ones before."""
    out = pd.Series(np.nan, index=candles.index, name="open_interest", dtype="float64")
    saved = plan.previous.open_interest
    old_part = candles.index[candles.index < plan.fetch_from]
    out.loc[old_part] = saved.reindex(old_part).to_numpy()
    new_part = candles.index[candles.index >= plan.fetch_from]
    out.loc[new_part] = fresh_oi.reindex(new_part).to_numpy()
    return out
