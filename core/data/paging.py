"""Paginated fetches: fixed windows of at most one page each, every page retried on its own.

Every series is fetched in windows ``since .. until`` of at most one page, which works the same
whether the exchange walks forward (Binance) or back from the end (Bybit, OKX). A page that fails
with a passing fault (timeout, 5xx, a dropped connection, a garbled body) is retried up to
``PAGE_RETRIES`` times with a growing pause, once the exchange has answered at least one page of
the fetch; a fetch whose first page fails fails fast. Rate limits, bans and region blocks are
never retried here: the caller's circuit breaker waits for them.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core.data.clients import LiveSession
from core.data.errors import DataUnavailable

# Most requests one series may take (else the user is asked for a coarser timeframe).
MAX_REQUESTS_PER_SERIES = 120
PAGE_RETRIES = 2
RETRY_PAUSE = 0.5  # seconds before the first retry; doubled for the next
RETRYABLE = frozenset({"timeout", "exchange_down", "no_network", "bad_response"})


def ms(ts: pd.Timestamp) -> int:
    """Epoch milliseconds of a timestamp."""
    return int(ts.value // 1_000_000)


def delta_ms(delta: pd.Timedelta) -> int:
    """Milliseconds in a duration."""
    return int(delta.value // 1_000_000)


def period_delta(period: str) -> pd.Timedelta:
    """Length of a ccxt period string ("5m", "1h", "1d")."""
    return pd.Timedelta(int(period[:-1]), unit={"m": "min", "h": "h", "d": "D"}[period[-1]])


def plan_windows(start_ms: int, end_ms: int, step_ms: int, page: int) -> list[tuple[int, int]]:
    """Consecutive ``(since, until)`` windows (inclusive, ms) each holding at most ``page`` steps.

    Parameters
    ----------
    start_ms, end_ms
        First and last time to cover; ``start_ms`` should be aligned to ``step_ms``.
    step_ms
        Row spacing (candle or OI period) in ms.
    page
        Rows the exchange serves per call.
    """
    span = step_ms * page
    return [(s, min(s + span - 1, end_ms)) for s in range(start_ms, end_ms + 1, span)]


def fetch_page(session: LiveSession, call: Callable[[int, int], list], window: tuple[int, int], what: str,
               retry: bool) -> list:
    """One page, retried (bounded, with a growing pause) on a passing fault when ``retry``."""
    pause = RETRY_PAUSE
    for attempt in range(PAGE_RETRIES + 1):
        try:
            page = session.request(what, call, *window)
            if not isinstance(page, list):
                raise DataUnavailable(
                    f"{session.title} sent an answer we could not read instead of {what}", "bad_response", session.exchange
                )
            return page
        except DataUnavailable as error:
            if not retry or attempt == PAGE_RETRIES or error.reason not in RETRYABLE:
                raise
        session.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def paged(
    session: LiveSession,
    call: Callable[[int, int], list],
    windows: list[tuple[int, int]],
    what: str,
    report: Callable[[float, str], None],
) -> list:
    """Call ``call(since, until)`` for each window, concatenating rows and reporting progress."""
    if len(windows) > MAX_REQUESTS_PER_SERIES:
        raise DataUnavailable(
            f"this window would take {len(windows)} requests to {session.title} for {what}; "
            "choose a coarser timeframe or a shorter lookback",
            "too_large",
            session.exchange,
        )
    rows: list = []
    for i, window in enumerate(windows):
        rows.extend(fetch_page(session, call, window, what, retry=i > 0))
        report((i + 1) / len(windows), f"{session.title}: {what} {i + 1}/{len(windows)}")
    return rows
