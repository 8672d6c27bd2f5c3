"""Candles, funding and the long/short ratio of one market, fetched page by page.

Funding and the long/short account ratio are optional: a failure there only adds a note
(``optional``). A series that covers less of the window than asked says so in a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from core.constants import timeframe_delta
from core.data.clients import LiveSession
from core.data.errors import DataUnavailable
from core.data.failures import PARSE_ERRORS
from core.data.market import CANDLE_COLUMNS, clean_candles
from core.data.paging import delta_ms, ms, paged, plan_windows
from core.data.venues import LIMITS

LONG_SHORT_PERIOD = "1h"


def fetch_candles(
    session: LiveSession, symbol: str, timeframe: str, start: pd.Timestamp, now: pd.Timestamp, report: Callable[[float, str], None]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Clean candles with open time in ``[start, now]`` and the cleaning notes.

    Raises
    ------
    DataUnavailable
        On any failure, or when no usable candle came back (reason "no_data").
    """
    page = LIMITS[session.exchange].ohlcv_page
    windows = plan_windows(ms(start), ms(now), delta_ms(timeframe_delta(timeframe)), page)

    def call(since: int, until: int) -> list:
        return session.client.fetch_ohlcv(symbol, timeframe, since, page, {"until": until})

    rows = paged(session, call, windows, "candles", report)
    usable = [r[:6] for r in rows if isinstance(r, (list, tuple)) and len(r) >= 6]
    raw = pd.DataFrame(usable, columns=["timestamp", *CANDLE_COLUMNS])
    raw["timestamp"] = pd.to_numeric(raw["timestamp"], errors="coerce")
    dropped = len(rows) - len(usable) + int(raw["timestamp"].isna().sum())
    raw = raw.dropna(subset=["timestamp"])
    candles, notes = clean_candles(raw)
    candles = candles.loc[(candles.index >= start) & (candles.index <= now)]
    if candles.empty:
        raise DataUnavailable(
            f"{session.title} returned no usable candles for {symbol} {timeframe}", "no_data", session.exchange
        )
    extra = (f"{dropped} malformed candle row(s) dropped",) if dropped else ()
    return candles, tuple(f"{session.title}: {n}" for n in notes + extra)


def fetch_funding(session: LiveSession, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
    """Funding rate per funding event in ``[start, now]`` (one call).

    ``until`` is sent only where the exchange documents an end time (OKX's funding-rate history
    takes before/after/limit only: https://www.okx.com/docs-v5/en/ "Get funding rate history").
    """
    limits = LIMITS[session.exchange]
    params = {"until": ms(now)} if limits.funding_until else {}
    rows = session.request("funding rates", session.client.fetch_funding_rate_history, symbol, ms(start), limits.funding_page, params)
    return series_of(rows, "fundingRate", "funding", start, now)


def fetch_long_short(session: LiveSession, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
    """Long/short account ratio (latest page, hourly) within ``[start, now]`` (one call)."""
    page = LIMITS[session.exchange].long_short_page
    rows = session.request(
        "the long/short ratio", session.client.fetch_long_short_ratio_history, symbol, LONG_SHORT_PERIOD, None, page
    )
    return series_of(rows, "longShortRatio", "long_short_ratio", start, now)


def coverage_note(series: pd.Series | None, start: pd.Timestamp, period: pd.Timedelta, what: str, title: str) -> tuple[str, ...]:
    """A note when ``series`` starts more than one ``period`` after ``start`` (it covers less)."""
    if series is None or series.empty or series.index[0] - start <= period:
        return ()
    hours = (series.index[-1] - series.index[0]) / pd.Timedelta(hours=1)
    return (f"the {what} from {title} covers only the last {hours:,.0f} hours of the window "
            f"(from {series.index[0]:%Y-%m-%d %H:%M} UTC)",)


def series_of(rows: Any, key: str, name: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
    """A float Series on a UTC index from ccxt structures with ``timestamp`` and ``key``."""
    if not isinstance(rows, list):
        raise TypeError(f"expected a list of records, got {type(rows).__name__}")
    records = [r for r in rows if isinstance(r, Mapping)]
    index = pd.to_datetime([r.get("timestamp") for r in records], unit="ms", utc=True, errors="coerce")
    values = pd.to_numeric(pd.Series([r.get(key) for r in records], dtype="object"), errors="coerce").to_numpy(dtype="float64")
    series = pd.Series(values, index=pd.DatetimeIndex(index).as_unit("ns"), name=name, dtype="float64")
    series = series[series.index.notna() & series.notna()]
    series = series[~series.index.duplicated(keep="last")].sort_index()
    return series.loc[(series.index >= start) & (series.index <= now)]


def optional(
    session: LiveSession, fetch: Callable[[], pd.Series], what: str
) -> tuple[pd.Series | None, tuple[str, ...]]:
    """Run an optional fetch: on failure return None and a note instead of raising."""
    try:
        series = fetch()
    except DataUnavailable as error:
        return None, (f"no {what}: {error.message}",)
    except PARSE_ERRORS:
        return None, (f"no {what}: {session.title} sent data we could not read",)
    if series.empty:
        return None, (f"{session.title} returned no {what} for this window",)
    return series, ()
