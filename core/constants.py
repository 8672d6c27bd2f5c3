"""Constants shared by the core and the pages: allowed choices, ladders, colours, shared limits.

Everything a page offers in a select box lives here, so the URL validation, the widgets and the
data layer agree on one list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Exchanges reached through ccxt (public endpoints only). "all" is the aggregated view.
EXCHANGES: dict[str, str] = {
    "binanceusdm": "Binance USD-M",
    "bybit": "Bybit",
    "okx": "OKX",
}
ALL_EXCHANGES = "all"

# Linear USDT perpetuals offered in the app (ccxt unified symbols).
SYMBOLS: tuple[str, ...] = (
    "BTC/USDT:USDT",
    "ETH/USDT:USDT",
    "SOL/USDT:USDT",
    "XRP/USDT:USDT",
    "DOGE/USDT:USDT",
)

# Candle timeframes the app offers, with their length.
TIMEFRAMES: dict[str, pd.Timedelta] = {
    "1m": pd.Timedelta(minutes=1),
    "5m": pd.Timedelta(minutes=5),
    "15m": pd.Timedelta(minutes=15),
    "1h": pd.Timedelta(hours=1),
    "4h": pd.Timedelta(hours=4),
}

# Lookback windows the app offers.
LOOKBACKS: dict[str, pd.Timedelta] = {
    "12h": pd.Timedelta(hours=12),
    "24h": pd.Timedelta(hours=24),
    "3d": pd.Timedelta(days=3),
    "7d": pd.Timedelta(days=7),
    "30d": pd.Timedelta(days=30),
}

# Data sources a MarketData can come from.
SOURCES: tuple[str, ...] = ("live", "snapshot", "bundled", "upload")

# Reference model v1 (../shared/MODEL.md): leverage tiers and their default weights.
DEFAULT_LEVERAGE_WEIGHTS: dict[int, float] = {5: 0.10, 10: 0.30, 25: 0.30, 50: 0.20, 100: 0.10}
LEVERAGE_TIERS: tuple[int, ...] = tuple(DEFAULT_LEVERAGE_WEIGHTS)
DEFAULT_LONG_SHARE = 0.5
DEFAULT_MMR = 0.005
# Model memory: history before the displayed window the model runs on (issue 13). With the
# calibrated model's 10%/h turnover a position from 7 days back keeps 0.9**168 ~ 2e-8 of itself.
DEFAULT_MEMORY = pd.Timedelta(days=7)

# Most candles one view may hold: 7 days of 1m candles; longer windows need a coarser timeframe.
MAX_CANDLES = 10_080

# Side colours (colour-blind safe pair); the heatmap's own ramp is core.charts.colours' "ember".
LONG_COLOR = "#2a9df4"   # blue: longs (liquidated when price falls)
SHORT_COLOR = "#f28e2b"  # orange: shorts (liquidated when price rises)
PRICE_COLOR = "#ffffff"
DEFAULT_OUTLINE = "#e6e6e6"  # the default model's bars drawn as outlines (sensitivity)
CASCADE_FILL = "#e6e6e6"  # detected cascades shaded in the replay
REPLAY_COLOR = "#7cd992"  # the replay-time marker: green, apart from longs, shorts and the price
VOLUME_COLOR = "#9aa4b8"
CHART_BACKGROUND = "#0e1117"  # the app theme's background (.streamlit/config.toml): the replay's mask over the future
KEPT_LONG, KEPT_SHORT = "#4a5670", "#6e5f50"  # levels the what-if cascade did not reach (muted)
STOP_COLOR = "#ff5c5c"


def timeframe_delta(timeframe: str) -> pd.Timedelta:
    """Length of one candle of ``timeframe`` (raises ValueError for an unknown one)."""
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise ValueError(f"unsupported timeframe {timeframe!r}; choose one of {list(TIMEFRAMES)}") from None


def lookback_delta(lookback: str) -> pd.Timedelta:
    """Length of the ``lookback`` window (raises ValueError for an unknown one)."""
    try:
        return LOOKBACKS[lookback]
    except KeyError:
        raise ValueError(f"unsupported lookback {lookback!r}; choose one of {list(LOOKBACKS)}") from None


def candle_length(timeframe: str = "", times=None) -> pd.Timedelta:
    """Length of one candle: the app's timeframe when ``timeframe`` is one of ``TIMEFRAMES``, else the
    median spacing of ``times`` (rounded to the second), else one minute.

    The one place a candle's length is derived (``timeframe_delta`` is the strict lookup that
    rejects an unknown timeframe).
    """
    if timeframe in TIMEFRAMES:
        return TIMEFRAMES[timeframe]
    if times is not None and len(times) >= 2:
        ns = pd.DatetimeIndex(times).as_unit("ns").asi8
        step = pd.Timedelta(int(np.median(np.diff(ns)))).round("s")
        if step > pd.Timedelta(0):
            return step
    return pd.Timedelta(minutes=1)
