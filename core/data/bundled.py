"""Real market data shipped with the app: what a user sees first when there is no network.

Three datasets, converted from ../shared/data by scripts/build_bundled.py into Parquet under
data/bundled/ (provenance in data/bundled/SOURCES.md). Loading never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.constants import lookback_delta, timeframe_delta
from core.data.market import MarketData, align_open_interest, resample_candles

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data" / "bundled"


@dataclass(frozen=True)
class BundledDataset:
    """One shipped dataset: its files, what it is, and the one line that says where it comes from."""

    key: str
    title: str
    provenance: str
    exchange: str
    symbol: str
    has_open_interest: bool
    has_long_short_ratio: bool = False
    recorded: str = ""  # what it is, in plain words: "Binance BTCUSDT perpetual, 4-7 Feb 2026"


BUNDLED: dict[str, BundledDataset] = {
    d.key: d
    for d in (
        BundledDataset(
            key="btc_2026-09",
            title="BTC 21-24 Sep 2026 (3 quiet days)",
            provenance=(
                "Bundled sample: BTC 21-24 Sep 2026; price bitFlyer FX_BTC_JPY converted to USD; "
                "open interest OKX, all BTC contracts"
            ),
            exchange="okx",
            symbol="BTC/USDT:USDT",
            has_open_interest=True,
            has_long_short_ratio=True,
            recorded="BTC price from bitFlyer (in USD) with OKX open interest, 21-24 Sep 2026",
        ),
        BundledDataset(
            key="btc_2026-02_crash",
            title="BTC crash 4-7 Feb 2026 (Binance)",
            provenance=(
                "Bundled sample: BTC crash 4-7 Feb 2026; Binance BTCUSDT perpetual 1m candles and "
                "Binance open interest every 5 minutes (Binance public data archive)"
            ),
            exchange="binanceusdm",
            symbol="BTC/USDT:USDT",
            has_open_interest=True,
            recorded="Binance BTCUSDT perpetual, 4-7 Feb 2026",
        ),
        BundledDataset(
            key="btc_2024-03-05_crash",
            title="BTC all-time high then crash, 5 Mar 2024 (Binance, no OI)",
            provenance=(
                "Bundled sample: BTC 5 Mar 2024 all-time high then crash; Binance BTCUSDT perpetual 1m "
                "candles; no open-interest history exists for that day (volume proxy)"
            ),
            exchange="binanceusdm",
            symbol="BTC/USDT:USDT",
            has_open_interest=False,
            recorded="Binance BTCUSDT perpetual, 5 Mar 2024",
        ),
    )
}
DEFAULT_DATASET = "btc_2026-02_crash"  # the first thing a user sees offline: a real, eventful crash


def _span(td: pd.Timedelta) -> str:
    """'2.5 days' / '9 hours' for a memory span."""
    hours = td.total_seconds() / 3600.0
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


@lru_cache(maxsize=8)
def _read(key: str, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(BUNDLED_DIR / key / f"{table}.parquet")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").as_unit("ns")
    return frame


def load_bundled(
    key: str = DEFAULT_DATASET,
    timeframe: str = "5m",
    lookback: str | None = None,
    memory: pd.Timedelta | None = None,
) -> MarketData:
    """Load a bundled dataset as ``MarketData`` (source "bundled"), never touching the network.

    Parameters
    ----------
    key
        One of ``BUNDLED``.
    timeframe
        Candle timeframe; the 1-minute files are aggregated to it.
    lookback
        Keep only the last ``lookback`` of the dataset (``None``: all of it).
    memory
        With a ``lookback``: also keep up to this much history before the window (what the sample
        has), as the model's memory; ``MarketData.window_start`` marks where the window begins and
        a note says how much memory there was.
    """
    if key not in BUNDLED:
        raise ValueError(f"unknown bundled dataset {key!r}; choose one of {list(BUNDLED)}")
    meta = BUNDLED[key]
    step = timeframe_delta(timeframe)
    candles = _read(key, "candles")
    notes: list[str] = [meta.provenance]
    window_start = None
    if lookback is not None:
        span = lookback_delta(lookback)
        start = candles.index[-1] + pd.Timedelta(minutes=1) - span
        if start <= candles.index[0]:
            if span > candles.index[-1] - candles.index[0] + pd.Timedelta(minutes=1):
                notes.append(f"the sample covers less than {lookback}: showing all of it")
        keep_from = start
        if memory is not None and memory > pd.Timedelta(0):
            keep_from = start - memory
            window_start = start.floor(step)
            if keep_from < candles.index[0]:
                have = max(window_start - candles.index[0], pd.Timedelta(0))
                notes.append(f"the sample holds only {_span(have)} of history before the window for the "
                             f"model's memory ({_span(memory)} asked)")
        candles = candles.loc[candles.index >= keep_from]
    if step > pd.Timedelta(minutes=1):
        candles = resample_candles(candles, timeframe)
    candles = candles.copy()
    if meta.has_open_interest:
        oi = align_open_interest(_read(key, "open_interest")["oi_usd"], candles.index, timeframe)
    else:
        oi = pd.Series(float("nan"), index=candles.index, name="open_interest", dtype="float64")
        notes.append("no open-interest history for this period: the model uses its volume proxy")
    ls = _read(key, "long_short_ratio")["long_short_ratio"].copy() if meta.has_long_short_ratio else None
    return MarketData(
        exchange=meta.exchange,
        symbol=meta.symbol,
        timeframe=timeframe,
        candles=candles,
        open_interest=oi,
        long_short_ratio=ls,
        source="bundled",
        fetched_at=candles.index[-1] + step,
        notes=tuple(notes),
        provenance=meta.provenance,
        data_id=f"bundled:{key}:{meta.symbol}:{timeframe}:{lookback or 'all'}"
                + (f":memory={int(memory.total_seconds())}s" if window_start is not None else ""),
        window_start=window_start,
    )
