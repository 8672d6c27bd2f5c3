"""Realized liquidations per candle: read per-candle aggregates, or bin single orders to candles.

Two kinds of recording reach the per-candle score (``core.accuracy.per_candle``):

* **Per-candle aggregates**, as CoinGlass publishes its aggregated liquidation history: one row
  per candle with its start time and the USD of longs and of shorts force-closed in it
  (``timestamp`` in ms/s or ISO text, ``liquidation_long_usd``, ``liquidation_short_usd``; the
  shorter ``long_usd``/``short_usd`` or ``long_liq``/``short_liq`` names are accepted too). Such a
  file may carry the candle itself (``price_open/high/low/close``) and open interest
  (``oi_close``); ``read_candle_file`` keeps them.
* **Single orders** (Binance forceOrder records, Bybit orders, per-minute totals): read by
  ``core.accuracy.realized.read_realized`` and summed per candle by ``core.accuracy.realized.realized_per_candle``.

Every reader returns a frame on a UTC ``DatetimeIndex`` (candle open time) with float columns
``long_usd`` and ``short_usd``.
"""

from __future__ import annotations

import io
import os
from typing import Union

import numpy as np
import pandas as pd

from core.constants import timeframe_delta
from core.data.files import FileImportError, safe_text
from core.accuracy.realized import read_realized, realized_per_candle
from core.data.market import MarketData

PathOrBytes = Union[bytes, bytearray, str, os.PathLike]

TIME_COLUMNS: tuple[str, ...] = ("timestamp", "time", "ts", "open_time", "datetime_utc")
LONG_COLUMNS: tuple[str, ...] = ("liquidation_long_usd", "long_usd", "long_liq", "long_liq_usd")
SHORT_COLUMNS: tuple[str, ...] = ("liquidation_short_usd", "short_usd", "short_liq", "short_liq_usd")
PRICE_COLUMNS: dict[str, str] = {
    "price_open": "open", "price_high": "high", "price_low": "low", "price_close": "close",
}
OI_COLUMN = "oi_close"


def _first_present(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    return next((c for c in wanted if c in columns), None)


def _parse_times(values: pd.Series, label: str) -> pd.DatetimeIndex:
    """Epoch numbers (s, ms or us by magnitude) or ISO text -> UTC times."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        x = numeric.to_numpy(dtype="float64")
        big = float(np.nanmax(np.abs(x))) if len(x) else 0.0
        unit = "us" if big >= 1e14 else "ms" if big >= 1e11 else "s"
        return pd.DatetimeIndex(pd.to_datetime(x.astype("int64"), unit=unit, utc=True))
    parsed = pd.to_datetime(values, utc=True, errors="coerce")
    if parsed.isna().any():
        raise FileImportError(f"{safe_text(label)}: some times are neither epoch numbers nor dates")
    return pd.DatetimeIndex(parsed)


def _read_table(data: PathOrBytes | pd.DataFrame, label: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if isinstance(data, (bytes, bytearray)):
        return pd.read_csv(io.BytesIO(bytes(data)))
    return pd.read_csv(os.fspath(data))


def read_candle_file(data: PathOrBytes | pd.DataFrame, name: str | None = None) -> pd.DataFrame:
    """Read a per-candle liquidation file (CoinGlass style), keeping its candles and OI if present.

    Parameters
    ----------
    data
        A path, the file's bytes, or an already parsed table.
    name
        Label for messages.

    Returns
    -------
    pd.DataFrame
        UTC ``DatetimeIndex`` named ``time`` (candle start), sorted, duplicates dropped; columns
        ``long_usd``, ``short_usd`` and, where the file has them, ``open``, ``high``, ``low``,
        ``close`` and ``open_interest`` (USD at the candle's close).
    """
    label = name or (os.fspath(data) if isinstance(data, (str, os.PathLike)) else "file")
    frame = _read_table(data, label)
    cols = [str(c).strip().lower() for c in frame.columns]
    frame.columns = cols
    tcol = _first_present(cols, TIME_COLUMNS)
    lcol = _first_present(cols, LONG_COLUMNS)
    scol = _first_present(cols, SHORT_COLUMNS)
    if tcol is None or lcol is None or scol is None:
        raise FileImportError(
            f"{safe_text(label)}: a per-candle liquidation file needs a time column and long and short USD "
            f"columns (e.g. timestamp, liquidation_long_usd, liquidation_short_usd)"
        )
    times = _parse_times(frame[tcol], label)
    out = pd.DataFrame(index=times)
    for src, dst in ((lcol, "long_usd"), (scol, "short_usd")):
        usd = pd.to_numeric(frame[src], errors="coerce").to_numpy(dtype="float64")
        if np.any(usd < 0):
            raise FileImportError(f"{safe_text(label)}: negative liquidation USD in {safe_text(src)}")
        out[dst] = np.nan_to_num(usd, nan=0.0)
    if all(c in cols for c in PRICE_COLUMNS):
        for src, dst in PRICE_COLUMNS.items():
            out[dst] = pd.to_numeric(frame[src], errors="coerce").to_numpy(dtype="float64")
    if OI_COLUMN in cols:
        out["open_interest"] = pd.to_numeric(frame[OI_COLUMN], errors="coerce").to_numpy(dtype="float64")
    out.index.name = "time"
    out = out.sort_index(kind="stable")
    return out.loc[~out.index.duplicated(keep="first")]


def realized_candles(data: PathOrBytes | pd.DataFrame, name: str | None = None) -> pd.DataFrame:
    """Only the realized USD per candle (``long_usd``, ``short_usd``) of a per-candle file."""
    return read_candle_file(data, name)[["long_usd", "short_usd"]]


def orders_to_candles(
    data: PathOrBytes, times: pd.DatetimeIndex, timeframe: str, name: str | None = None, symbol: str | None = None
) -> pd.DataFrame:
    """Read single liquidation orders (any format ``core.accuracy.realized.read_realized`` knows) and sum
    them per candle of ``times`` (``core.accuracy.realized.realized_per_candle``: ``t <= time < t + tf``)."""
    orders = read_realized(data, name=name, symbol=symbol)
    per = realized_per_candle(orders, pd.DatetimeIndex(times), timeframe)
    per.index.name = "time"
    return per


def to_timeframe(per_candle: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Sum per-candle realized USD into coarser candles (e.g. 1m -> 1h), start-labelled.

    Candles of the coarser timeframe that hold no finer candle are left out (not shown as 0).
    """
    freq = timeframe_delta(timeframe)
    grouped = per_candle[["long_usd", "short_usd"]].groupby(per_candle.index.floor(freq))
    out = grouped.sum()
    out.index.name = "time"
    return out


def market_from_candle_file(
    frame: pd.DataFrame, symbol: str = "BTC/USDT:USDT", exchange: str = "upload", provenance: str = ""
) -> MarketData | None:
    """The market a per-candle file carries (its candles and open interest), or None without them.

    ``frame`` is ``read_candle_file``'s result; it needs ``open``, ``high``, ``low``, ``close`` and
    ``open_interest`` and a regular spacing that is one of the app's timeframes (the median gap
    between rows). Volume is unknown (0). The model then runs on exactly the candles it is scored
    on, as the three-month scorecard does.
    """
    from core.constants import TIMEFRAMES
    from core.data.market import MarketData

    needed = ("open", "high", "low", "close", "open_interest")
    if len(frame) < 3 or any(c not in frame.columns for c in needed):
        return None
    gaps = np.diff(pd.DatetimeIndex(frame.index).as_unit("ns").asi8)
    step = pd.Timedelta(int(np.median(gaps)), unit="ns")
    timeframe = next((name for name, span in TIMEFRAMES.items() if span == step), None)
    if timeframe is None:
        return None
    prices = frame[["open", "high", "low", "close"]].astype("float64")
    ok = prices.notna().all(axis=1).to_numpy() & (prices["low"] > 0).to_numpy() & (prices["high"] >= prices["low"]).to_numpy()
    candles = prices.loc[ok].assign(volume=0.0)
    candles.index = pd.DatetimeIndex(candles.index).as_unit("ns")
    oi = frame["open_interest"].loc[ok].astype("float64").rename("open_interest")
    oi.index = candles.index
    return MarketData(exchange, symbol, timeframe, candles, oi, source="upload",
                      provenance=provenance or "the uploaded per-candle file (its own candles and open interest)")
