"""Open-interest history in USD, aligned to the candles, with what is missing said plainly.

* Period: the finest one the exchange serves that is not finer than the candles (at least 5m),
  made coarser while the window would need more than ``MAX_OI_REQUESTS`` calls or reach further
  back than the exchange keeps (OKX keeps the latest 1,440 entries of a period: 5m covers 120
  hours, so a 7-day window uses 1h).
* Reach: history starts one period before the first candle but never before what the exchange
  serves (Binance: the last 30 days, counted on the exchange's clock, not ours); earlier candles
  get NaN and a note.
* USD: ``openInterestValue``, else amount x contract size x price; Bybit's amount is one side
  (``venues.bybit_one_side``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from core.constants import lookback_delta, timeframe_delta
from core.data.clients import LiveSession
from core.data.errors import DataUnavailable
from core.data.market import align_open_interest
from core.data.paging import delta_ms, ms, paged, period_delta, plan_windows
from core.data.venues import BYBIT_OI_NOTES, LIMITS, bybit_one_side, history_reach

# Budget for open-interest history: a coarser OI period is used when the finest would need more.
MAX_OI_REQUESTS = 30
MIN_OI_PERIOD = pd.Timedelta(minutes=5)


def choose_oi_period(exchange: str, timeframe: str, lookback: str) -> str:
    """The open-interest period to fetch: the finest supported one not coarser than the candles
    (at least 5m), made coarser while the window would need more than ``MAX_OI_REQUESTS`` calls
    or reach further back than the exchange keeps entries of that period."""
    limits = LIMITS[exchange]
    target = max(timeframe_delta(timeframe), MIN_OI_PERIOD)
    periods = list(limits.oi_periods)
    fits = [p for p in periods if period_delta(p) <= target]
    index = periods.index(fits[-1]) if fits else 0
    span = lookback_delta(lookback)
    for period in periods[index:]:
        step = period_delta(period)
        rows = span / step
        kept = limits.oi_max_rows is None or span + step <= step * limits.oi_max_rows
        if kept and math.ceil(rows / limits.oi_page) <= MAX_OI_REQUESTS:
            return period
    return periods[-1]


def oi_usd(entry: Mapping, contract_size: float, price: float, exchange: str = "") -> tuple[float, str]:
    """USD notional of one open-interest record (one side), and how Bybit's amount was read."""
    how = ""
    if exchange == "bybit":
        amount, how = bybit_one_side(entry)
        return (amount * contract_size * price if np.isfinite(amount) else float("nan")), how
    value = entry.get("openInterestValue")
    if value is not None and np.isfinite(value) and value > 0:
        return float(value), how
    amount = entry.get("openInterestAmount")
    if amount is None or not np.isfinite(amount):
        return float("nan"), how
    return float(amount) * contract_size * price, how


def price_at(candles: pd.DataFrame, timeframe: str, times: pd.DatetimeIndex) -> np.ndarray:
    """Last known close at each time (the first open before the first close)."""
    closes_at = (candles.index + timeframe_delta(timeframe)).as_unit("ns").asi8
    pos = np.searchsorted(closes_at, times.as_unit("ns").asi8, side="right") - 1
    close = candles["close"].to_numpy()
    return np.where(pos >= 0, close[np.clip(pos, 0, None)], candles["open"].iloc[0])


def exchange_clock(session: LiveSession, candles: pd.DataFrame, timeframe: str, now: pd.Timestamp) -> pd.Timestamp:
    """The exchange's "now": its server time (one call), else the later of ours and the last candle's close."""
    fallback = max(now, candles.index[-1] + timeframe_delta(timeframe))
    try:
        server = session.request("the exchange's clock", session.client.fetch_time)
    except DataUnavailable:
        return fallback
    try:
        return pd.Timestamp(int(server), unit="ms", tz="UTC")
    except (TypeError, ValueError, OverflowError):
        return fallback


def fetch_open_interest_usd(
    session: LiveSession,
    market: Mapping,
    candles: pd.DataFrame,
    timeframe: str,
    lookback: str,
    now: pd.Timestamp,
    report: Callable[[float, str], None],
    fetch_from: pd.Timestamp | None = None,
) -> tuple[pd.Series, tuple[str, ...]]:
    """Open interest in USD aligned to ``candles`` (NaN where unknown) and notes.

    Parameters
    ----------
    fetch_from
        Fetch observations from here only (an incremental refresh); the notes still describe the
        whole window.
    """
    name, exchange = session.title, session.exchange
    period = choose_oi_period(exchange, timeframe, lookback)
    step = period_delta(period)
    start = (candles.index[0] - step).floor(step)
    notes: list[str] = []
    reach = history_reach(exchange, step)
    if reach is not None:
        first_asked = start if fetch_from is None else max(start, fetch_from - step)
        near_limit = LIMITS[exchange].oi_history is not None and first_asked < now - reach + pd.Timedelta(days=1)
        clock = exchange_clock(session, candles, timeframe, now) if near_limit else now
        earliest = (clock - reach + step).ceil(step)
        if start < earliest:
            start = earliest
            notes.append(
                f"{name} serves open interest for the last {_span_words(reach)} only (every {period}): "
                f"candles before {earliest:%Y-%m-%d %H:%M} UTC have none"
            )
    if fetch_from is not None:
        start = max(start, (fetch_from - step).floor(step))
    windows = plan_windows(ms(start), ms(now), delta_ms(step), LIMITS[exchange].oi_page)
    page = LIMITS[exchange].oi_page

    def call(since: int, until: int) -> list:
        return session.client.fetch_open_interest_history(market["symbol"], period, since, page, {"until": until})

    entries = [e for e in paged(session, call, windows, "open interest", report) if isinstance(e, Mapping)]
    times = pd.to_datetime([e.get("timestamp") for e in entries], unit="ms", utc=True, errors="coerce")
    keep = ~times.isna()
    entries = [e for e, k in zip(entries, keep) if k]
    times = pd.DatetimeIndex(times[keep]).as_unit("ns")
    contract_size = float(market.get("contractSize") or 1.0)
    prices = price_at(candles, timeframe, times) if len(times) else np.array([])
    parsed = [oi_usd(e, contract_size, p, exchange) for e, p in zip(entries, prices)]
    usd = pd.Series([v for v, _ in parsed], index=times, dtype="float64")
    hows = {h for _, h in parsed if h in BYBIT_OI_NOTES}
    notes.extend(BYBIT_OI_NOTES[h] for h in sorted(hows))
    aligned = align_open_interest(usd, candles.index, timeframe, max_age=max(pd.Timedelta(days=1), 2 * step))
    if aligned.notna().sum() == 0:
        notes.append(f"{name} returned no open interest for this window: the model uses its volume proxy")
    elif period != timeframe:
        notes.append(f"open interest from {name} every {period}")
    return aligned, tuple(notes)


def _span_words(span: pd.Timedelta) -> str:
    """"30 days" or "120 hours"."""
    if span % pd.Timedelta(days=1) == pd.Timedelta(0):
        return f"{span.days} days"
    return f"{span / pd.Timedelta(hours=1):,.0f} hours"
