"""Live market data from Binance USD-M, Bybit and OKX through ccxt (sync), public endpoints only.

The pieces (what each exchange serves: ``venues``; clients, locks, proxies and timeouts:
``clients``; failures in plain words: ``failures``; pages and retries: ``paging``; candles,
funding, long/short ratio: ``series``; open interest: ``open_interest``; order-book depth:
``depth``; incremental refresh: ``refresh``) are put together here: ``fetch_live`` fetches one
market's window, or only what is new since the last good data, and ``fetch_depth`` one order book.
Open interest is converted to USD notional and aligned to the candles with
``align_open_interest``. Funding and the long/short account ratio are optional: a failure there
only adds a note.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.constants import EXCHANGES, LOOKBACKS, TIMEFRAMES, lookback_delta, timeframe_delta
from core.data.cache import time_bucket
from core.data.clients import ClientPool, LiveSession, client_config, make_client  # noqa: F401 - re-exported for tests
from core.data.depth import DEPTH_BAND, Depth, book_depth
from core.data.errors import DataUnavailable
from core.data.failures import unsupported_exchange
from core.data.market import MarketData
from core.data.open_interest import choose_oi_period, fetch_open_interest_usd  # noqa: F401 - re-exported for tests
from core.data.paging import period_delta, plan_windows  # noqa: F401 - re-exported for tests
from core.data.progress import Progress, Reporter
from core.data.refresh import merge_candles, merge_open_interest, plan_refresh
from core.data.series import coverage_note, fetch_candles, fetch_funding, fetch_long_short, optional
from core.data.venues import LIMITS, LIQUIDATION_NOTE, exchange_title  # noqa: F401 - public names

# A linear USDT perpetual in ccxt's unified form ("BTC/USDT:USDT", "1000PEPE/USDT:USDT").
LINEAR_USDT = re.compile(r"^[A-Z0-9]{1,25}/USDT:USDT$")


# --------------------------------------------------------------------------------------------
# Validation


def check_choices(exchange: str, symbol: str, timeframe: str, lookback: str) -> None:
    """Validate the request before any request is made: the exchange, timeframe and lookback
    against ``core.constants``, the symbol's form (whether the exchange lists it is checked with
    its markets, ``resolve_market``).

    Raises
    ------
    DataUnavailable
        reason "bad_exchange", "bad_symbol" or "bad_timeframe".
    """
    if exchange not in EXCHANGES:
        raise unsupported_exchange(exchange)
    name = exchange_title(exchange)
    if timeframe not in TIMEFRAMES:
        raise DataUnavailable(
            f"{timeframe} candles are not offered here (choose {', '.join(TIMEFRAMES)})", "bad_timeframe", exchange
        )
    if lookback not in LOOKBACKS:
        raise DataUnavailable(
            f"a {lookback} window is not offered here (choose {', '.join(LOOKBACKS)})", "bad_timeframe", exchange
        )
    if not isinstance(symbol, str) or not LINEAR_USDT.match(symbol):
        raise DataUnavailable(
            f"{str(symbol)[:40]!r} is not a USDT perpetual this app offers on {name} (e.g. BTC/USDT:USDT)",
            "bad_symbol",
            exchange,
        )


def resolve_market(session: LiveSession, symbol: str, timeframe: str) -> dict:
    """Load the exchange's linear-swap markets once and check ``symbol`` and ``timeframe``.

    Raises
    ------
    DataUnavailable
        reason "bad_symbol" or "bad_timeframe", or the mapped failure of loading markets.
    """
    client, name = session.client, session.title
    markets = session.request("its list of markets", client.load_markets)
    market = (markets or {}).get(symbol)
    if not market or not market.get("swap") or not market.get("linear"):
        raise DataUnavailable(f"{name} does not list {symbol} as a USDT perpetual", "bad_symbol", session.exchange)
    if client.timeframes and timeframe not in client.timeframes:
        raise DataUnavailable(f"{name} does not offer {timeframe} candles", "bad_timeframe", session.exchange)
    return market


# --------------------------------------------------------------------------------------------
# Entry points


def fetch_live(
    exchange: str,
    symbol: str,
    timeframe: str,
    lookback: str,
    *,
    pool: ClientPool,
    now: pd.Timestamp,
    progress: Progress | None = None,
    previous: MarketData | None = None,
) -> MarketData:
    """Fetch candles, open interest (USD), funding and long/short ratio of one market, live.

    Parameters
    ----------
    exchange, symbol, timeframe, lookback
        Choices from ``core.constants`` (validated before any request).
    pool
        Where the exchange's client comes from.
    now
        End of the window (UTC); the window starts ``lookback`` before, floored to the candle.
    progress
        ``progress(fraction, message)``, fraction rising monotonically to 1.0.
    previous
        The last good data of this market (the last-good store): when it covers the start of
        the window, only what is new since is fetched (``core.data.refresh``).

    Raises
    ------
    DataUnavailable
        Any failure of the candles or a network-level failure of open interest; funding and the
        long/short ratio only add notes.
    """
    check_choices(exchange, symbol, timeframe, lookback)
    report = Reporter(progress)
    report(0.0, f"Connecting to {exchange_title(exchange)}")
    start = (now - lookback_delta(lookback)).floor(timeframe_delta(timeframe))
    session = pool.get(exchange)
    market = resolve_market(session, symbol, timeframe)
    plan = plan_refresh(previous, exchange, symbol, timeframe, start, now)
    candles, notes, fetch_from = _candles(session, symbol, timeframe, start, now, plan, report.part(0.02, 0.6))
    oi_report = report.part(0.6, 0.9)
    oi, oi_notes = _open_interest_or_note(
        candles,
        lambda: fetch_open_interest_usd(session, market, candles, timeframe, lookback, now, oi_report, fetch_from),
    )
    if fetch_from is not None and plan is not None:
        oi = merge_open_interest(plan, oi, candles)
        notes += (f"refreshed: candles from {fetch_from:%H:%M} UTC fetched, older ones kept from the last good data",)
    funding, f_notes = optional(session, lambda: fetch_funding(session, symbol, start, now), "funding history")
    report(0.95, f"{session.title}: funding rates")
    ratio, r_notes = optional(session, lambda: fetch_long_short(session, symbol, start, now), "long/short ratio")
    r_notes += coverage_note(ratio, start, pd.Timedelta(hours=1), "long/short ratio", session.title)
    report(1.0, "Done")
    step = timeframe_delta(timeframe)
    liq = (LIQUIDATION_NOTE.get(exchange, ""),)
    return MarketData(
        exchange=exchange,
        symbol=symbol,
        timeframe=timeframe,
        candles=candles,
        open_interest=oi,
        funding=funding,
        long_short_ratio=ratio,
        source="live",
        fetched_at=now,
        notes=tuple(n for n in notes + oi_notes + f_notes + r_notes + liq if n),
        last_candle_forming=bool(candles.index[-1] + step > now),
        provenance=f"Live: {exchange_title(exchange)} {symbol} perpetual via ccxt public endpoints",
        data_id=f"live:{exchange}:{symbol}:{timeframe}:{lookback}:{time_bucket(now, timeframe)}",
    )


def _candles(
    session: LiveSession, symbol: str, timeframe: str, start: pd.Timestamp, now: pd.Timestamp,
    plan, report: Callable[[float, str], None],
) -> tuple[pd.DataFrame, tuple[str, ...], pd.Timestamp | None]:
    """Candles of the window: only the new ones merged onto the saved ones when ``plan`` allows
    it (and the overlap agrees), else all of them. Returns (candles, notes, fetch_from or None)."""
    if plan is not None:
        fresh, notes = fetch_candles(session, symbol, timeframe, plan.fetch_from, now, report)
        merged = merge_candles(plan, fresh, start)
        if merged is not None:
            return merged, notes, plan.fetch_from
    candles, notes = fetch_candles(session, symbol, timeframe, start, now, report)
    return candles, notes, None


def _open_interest_or_note(
    candles: pd.DataFrame, fetch: Callable[[], tuple[pd.Series, tuple[str, ...]]]
) -> tuple[pd.Series, tuple[str, ...]]:
    """``fetch()`` (open interest on ``candles`` and notes), or NaN and a note when the exchange
    rejects the request.

    Network-level failures (rate limit, timeout, down) are raised: the exchange is unusable now,
    and the last-good snapshot has open interest.
    """
    try:
        return fetch()
    except DataUnavailable as error:
        if error.transient and error.reason != "bad_response":
            raise
        empty = pd.Series(np.nan, index=candles.index, name="open_interest", dtype="float64")
        return empty, (f"no open interest: {error.message}; the model uses its volume proxy",)


def fetch_depth(exchange: str, symbol: str, *, pool: ClientPool, band: float = DEPTH_BAND) -> Depth:
    """Order-book depth within ``band`` (1%) of the mid, with a note when the book served did not
    reach the band's edge (one order-book call; ``core.data.depth``).

    Raises
    ------
    DataUnavailable
        On any failure, or an empty or one-sided book (reason "no_data").
    """
    check_choices(exchange, symbol, next(iter(TIMEFRAMES)), next(iter(LOOKBACKS)))
    session = pool.get(exchange)
    market = resolve_market(session, symbol, next(iter(TIMEFRAMES)))
    book = session.request("the order book", session.client.fetch_order_book, symbol, LIMITS[exchange].depth_limit)
    return book_depth(book, float(market.get("contractSize") or 1.0), band, session)


def fetch_depth_usd(exchange: str, symbol: str, *, pool: ClientPool, band: float = DEPTH_BAND) -> float:
    """USD needed to move the price by ``band`` (1%): bid and ask notional within the band,
    averaged, extrapolated to the band's edge where the book served is shallower (``fetch_depth``)."""
    return fetch_depth(exchange, symbol, pool=pool, band=band).usd
