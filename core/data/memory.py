"""Model memory for loaded data: history before the displayed window (issue 13, item 2).

The model starts empty at its first candle, so a window drawn from its own first candle has an
empty left edge and a "now" that changes with the window's length. Memory fixes that: the engine
runs on some history before the window too (``MarketData.window_start`` marks where the window
begins; ``core.grid.compute_heatmap`` draws only the window).

Live windows of fine candles (1m, 5m, 15m) take their memory at 1h: 7 days of 1m candles would be
10,080 more candles and about 20 more exchange calls, while with the calibrated model's 10%/h
turnover what happened more than a day ago only sets the starting level, for which hourly candles
are plenty. The engine accepts the uneven spacing (turnover and decay use the real hours between
candles).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from core.constants import LOOKBACKS, TIMEFRAMES, lookback_delta
from core.data.market import MarketData, derived_id

MEMORY_TIMEFRAME = "1h"


def memory_request(timeframe: str, lookback: str, memory: pd.Timedelta) -> tuple[str, str] | None:
    """(timeframe, lookback) to fetch for ``memory`` before a ``lookback`` window, or None for none.

    1h candles for windows finer than 1h, else the window's own timeframe; the shortest offered
    lookback covering memory + window (the longest offered when none does).
    """
    if memory is None or memory <= pd.Timedelta(0):
        return None
    tf = MEMORY_TIMEFRAME if TIMEFRAMES[timeframe] < TIMEFRAMES[MEMORY_TIMEFRAME] else timeframe
    need = memory + lookback_delta(lookback)
    covering = [name for name, span in LOOKBACKS.items() if span >= need]
    span_name = min(covering, key=LOOKBACKS.get) if covering else max(LOOKBACKS, key=LOOKBACKS.get)
    return tf, span_name


def with_memory(window: MarketData, history: MarketData, memory: pd.Timedelta) -> MarketData:
    """``window`` with up to ``memory`` of ``history``'s candles before it prepended as memory.

    Only history candles that close at or before the window's first open are used (no overlap);
    their open interest comes with them. The result's ``window_start`` is the window's first
    candle, and a note says how much memory there is (and at which timeframe when it differs).
    """
    if window.candles.empty:
        return window
    start = window.candles.index[0]
    step = TIMEFRAMES.get(history.timeframe, pd.Timedelta(0))
    keep = (history.candles.index >= start - memory) & (history.candles.index + step <= start)
    past = history.candles.loc[keep]
    if past.empty:
        return window.with_notes("no history before the window for the model's memory")
    span = start - past.index[0]
    hours = span.total_seconds() / 3600.0
    text = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"
    how = f" at {history.timeframe}" if history.timeframe != window.timeframe else ""
    note = f"model memory: {text} of history{how} before the window"
    if span < memory - step:
        note += f" (of {memory.total_seconds() / 86400:.0f} days asked: that is all the exchange served)"
    candles = pd.concat([past, window.candles])
    oi = pd.concat([history.open_interest.loc[keep], window.open_interest]).rename(window.open_interest.name)
    return replace(
        window,
        candles=candles,
        open_interest=oi,
        window_start=start,
        notes=window.notes + (note,),
        data_id=derived_id(window.data_id, "memory", history.data_id, int(memory.total_seconds())),
    )
