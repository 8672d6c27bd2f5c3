"""Live market data from Binance USD-M, Bybit and OKX through ccxt (sync), public endpoints only.

What each exchange serves (../shared/MODEL.md, "What the exchanges serve"; ccxt 4.5 sources):

==============  ==========  =====================================================================
exchange        OHLCV/call  open-interest history
==============  ==========  =====================================================================
binanceusdm     500         /futures/data/openInterestHist: 5m..1d, max 500 rows, last 30 days
bybit           1000        /v5/market/open-interest: 5min..1d, max 200 rows, walks back from end
okx             100         /api/v5/rubik/stat/contracts/open-interest-history: 5m, 1H, 1D, max 100
==============  ==========  =====================================================================

Every series is fetched in fixed windows of at most one page each (``since`` .. ``until``), which
works the same whether the exchange walks forward (Binance) or back from the end (Bybit, OKX).
Open interest is converted to USD notional (``openInterestValue``, else amount x contract size x
price) and aligned to the candles with ``align_open_interest``. Funding and the long/short account
ratio are optional: a failure there only adds a note.

Clients: one per exchange, created on first use (never at import), markets loaded for linear
swaps only, ``enableRateLimit`` on, and used under a per-exchange lock (ccxt clients are not
thread-safe). Every ccxt failure becomes ``DataUnavailable`` with a plain message; the HTTP status
is read from ccxt's own ``on_rest_response`` hook, because some mappings hide it (Bybit raises
``RateLimitExceeded`` for HTTP 403, OKX ``ExchangeNotAvailable`` for 429, and a JSON error body is
turned into ``ExchangeError`` before the status is looked at).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ccxt
import numpy as np
import pandas as pd

from core.constants import EXCHANGES, LOOKBACKS, SYMBOLS, TIMEFRAMES, lookback_delta, timeframe_delta
from core.data.cache import time_bucket
from core.data.errors import DataUnavailable
from core.data.market import CANDLE_COLUMNS, MarketData, align_open_interest, clean_candles

Progress = Callable[[float, str], None]

# Short names used in messages ("Binance is rate-limiting us").
EXCHANGE_SHORT_NAMES: dict[str, str] = {"binanceusdm": "Binance", "bybit": "Bybit", "okx": "OKX"}

# Most requests one series may take (else the user is asked for a coarser timeframe).
MAX_REQUESTS_PER_SERIES = 120
# Budget for open-interest history: a coarser OI period is used when the finest would need more.
MAX_OI_REQUESTS = 30
MIN_OI_PERIOD = pd.Timedelta(minutes=5)
LONG_SHORT_PERIOD = "1h"
DEPTH_BAND = 0.01

# Exceptions ccxt's parsers raise on a response of the wrong shape.
PARSE_ERRORS: tuple[type[BaseException], ...] = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)


@dataclass(frozen=True)
class ExchangeLimits:
    """What one exchange serves per public call.

    Parameters
    ----------
    ohlcv_page, oi_page, funding_page, long_short_page, depth_limit
        Rows per call (order-book levels for ``depth_limit``).
    oi_periods
        ccxt timeframes ``fetch_open_interest_history`` accepts, finest first.
    oi_history
        How far back open-interest history goes (None: not documented as limited).
    """

    ohlcv_page: int
    oi_page: int
    oi_periods: tuple[str, ...]
    oi_history: pd.Timedelta | None
    funding_page: int
    long_short_page: int
    depth_limit: int


LIMITS: dict[str, ExchangeLimits] = {
    "binanceusdm": ExchangeLimits(
        ohlcv_page=500,
        oi_page=500,
        oi_periods=("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"),
        oi_history=pd.Timedelta(days=30),
        funding_page=1000,
        long_short_page=500,
        depth_limit=500,
    ),
    "bybit": ExchangeLimits(
        ohlcv_page=1000,
        oi_page=200,
        oi_periods=("5m", "15m", "30m", "1h", "4h", "1d"),
        oi_history=None,
        funding_page=200,
        long_short_page=500,
        depth_limit=500,
    ),
    "okx": ExchangeLimits(
        ohlcv_page=100,
        oi_page=100,
        oi_periods=("5m", "1h", "1d"),
        oi_history=None,
        funding_page=100,
        long_short_page=100,
        depth_limit=400,
    ),
}


def exchange_title(exchange: str) -> str:
    """Short display name of an exchange ("Binance"), or the id itself."""
    return EXCHANGE_SHORT_NAMES.get(exchange, EXCHANGES.get(exchange, exchange))


def client_config(exchange: str) -> dict[str, Any]:
    """ccxt constructor config: rate limiting on, markets limited to linear swaps, no keys.

    ``fetchMarkets.types`` is the option each exchange's ``fetch_markets`` reads (ccxt 4.5):
    Binance and Bybit name the linear family "linear", OKX names its perpetuals "swap".
    """
    types = {"binanceusdm": ["linear"], "bybit": ["linear"], "okx": ["swap"]}[exchange]
    options: dict[str, Any] = {"defaultType": "swap", "fetchMarkets": {"types": types}}
    if exchange in ("binanceusdm", "bybit"):
        options["defaultSubType"] = "linear"
    if exchange == "binanceusdm":
        options["fetchCurrencies"] = False
    return {"enableRateLimit": True, "timeout": 10_000, "options": options}


def make_client(exchange: str) -> ccxt.Exchange:
    """A fresh sync ccxt client for ``exchange`` (no request is made here)."""
    if exchange not in EXCHANGES:
        raise unsupported_exchange(exchange)
    return getattr(ccxt, exchange)(client_config(exchange))


@dataclass
class HttpProbe:
    """What the last HTTP response looked like (filled from ccxt's own response hooks).

    ``kind`` is "json", "empty" (``{}``, ``[]`` or nothing), "html", or "malformed".
    """

    status: int | None = None
    kind: str = "json"

    def reset(self) -> None:
        """Forget the last response."""
        self.status, self.kind = None, "json"


def _install_probe(client: ccxt.Exchange) -> HttpProbe:
    """Wrap the client's ``on_rest_response`` and ``parse_json`` to record status and body kind."""
    probe = HttpProbe()
    on_rest_response, parse_json = client.on_rest_response, client.parse_json

    def recording_on_rest_response(code, reason, url, method, headers, body, request_headers, request_body):
        probe.status = int(code) if code is not None else None
        return on_rest_response(code, reason, url, method, headers, body, request_headers, request_body)

    def recording_parse_json(http_response):
        parsed = parse_json(http_response)
        text = (http_response or "").strip() if isinstance(http_response, str) else ""
        if parsed is None:
            probe.kind = "empty" if not text else ("html" if text.startswith("<") else "malformed")
        else:
            probe.kind = "empty" if parsed in ({}, []) else "json"
        return parsed

    client.on_rest_response = recording_on_rest_response
    client.parse_json = recording_parse_json
    return probe


@dataclass(frozen=True)
class LiveSession:
    """A client in use under its exchange's lock, with the probe of its last response."""

    exchange: str
    client: ccxt.Exchange
    probe: HttpProbe

    @property
    def title(self) -> str:
        """Short display name of the exchange."""
        return exchange_title(self.exchange)


class ClientPool:
    """One ccxt client per exchange, created lazily and used under a per-exchange lock.

    Parameters
    ----------
    factory
        Builds a client for an exchange id (``make_client``; tests pass one that replays
        recorded responses).
    """

    def __init__(self, factory: Callable[[str], ccxt.Exchange] = make_client) -> None:
        self._factory = factory
        self._sessions: dict[str, LiveSession] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, exchange: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(exchange, threading.Lock())

    @contextmanager
    def session(self, exchange: str) -> Iterator[LiveSession]:
        """Hold the exchange's lock and yield its session (client created on first use)."""
        if exchange not in EXCHANGES:
            raise unsupported_exchange(exchange)
        with self._lock_for(exchange):
            if exchange not in self._sessions:
                client = self._factory(exchange)
                self._sessions[exchange] = LiveSession(exchange, client, _install_probe(client))
            yield self._sessions[exchange]


# --------------------------------------------------------------------------------------------
# Errors


def unsupported_exchange(exchange: str) -> DataUnavailable:
    """The error for an exchange id the app does not offer."""
    return DataUnavailable(
        f"{exchange!r} is not an exchange this app supports (choose {', '.join(EXCHANGES)})", "bad_exchange", exchange
    )


def _status_in_message(text: str) -> int | None:
    """The HTTP status ccxt wrote into an error message ("... 451 Unavailable ..."), if any."""
    match = re.search(r"(?:^|\s)([1-5]\d\d)\s", text)
    return int(match.group(1)) if match else None


def describe_failure(error: BaseException, session: LiveSession, what: str = "data") -> DataUnavailable:
    """Turn a ccxt (or parsing) failure into ``DataUnavailable`` with a plain message.

    Parameters
    ----------
    error
        What ccxt raised.
    session
        The session whose probe saw the last response (status code, body kind).
    what
        What was being fetched ("candles", "open interest"), for the messages.
    """
    if isinstance(error, DataUnavailable):
        return error
    name, status = session.title, session.probe.status
    if status is None or status == 200:
        status = _status_in_message(str(error)) or status
    detail = f"{type(error).__name__}: {str(error)[:300]}"

    def fail(message: str, reason: str) -> DataUnavailable:
        return DataUnavailable(message, reason, session.exchange, detail)

    if status == 451:
        return fail(f"{name} refuses requests from this region (HTTP 451)", "geo_blocked")
    if status == 403:
        return fail(f"{name} refused access (HTTP 403; it blocks some regions and heavy users)", "geo_blocked")
    if status == 418:
        return fail(f"{name} has temporarily banned this address for too many requests (HTTP 418)", "rate_limited")
    http = f" (HTTP {status})" if status and status != 200 else ""
    # ccxt 4.5: RateLimitExceeded and DDoSProtection are siblings under NetworkError
    if status == 429 or isinstance(error, (ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
        return fail(f"{name} is rate-limiting us{http}", "rate_limited")
    if isinstance(error, ccxt.RequestTimeout):
        return fail(f"{name} took too long to answer{http}", "timeout")
    if status is not None and status >= 500:
        return fail(f"{name} is not answering properly{http}", "exchange_down")
    if isinstance(error, ccxt.OnMaintenance):
        return fail(f"{name} is under maintenance", "exchange_down")
    if isinstance(error, ccxt.ExchangeNotAvailable):
        return fail(f"{name} is not answering properly{http}", "exchange_down")
    if isinstance(error, ccxt.NetworkError):
        return fail(f"Could not reach {name} (no network)", "no_network")
    if isinstance(error, ccxt.OperationFailed):
        return fail(f"{name} reported an internal error", "exchange_down")
    if isinstance(error, ccxt.BadSymbol):
        return fail(f"{name} does not know this market", "bad_symbol")
    if session.probe.kind != "json" or isinstance(error, PARSE_ERRORS):
        return fail(f"{name} sent {_kind_words(session.probe.kind)} instead of {what}", "bad_response")
    if isinstance(error, ccxt.BaseError):
        return fail(f"{name} rejected the request for {what}", "exchange_error")
    return fail(f"{name} sent {what} we could not read", "bad_response")


def _kind_words(kind: str) -> str:
    """Plain words for a body kind."""
    return {
        "html": "a web page",
        "empty": "an empty answer",
        "malformed": "a garbled answer",
    }.get(kind, "an answer we could not read")


@contextmanager
def _mapped_errors(session: LiveSession, what: str) -> Iterator[None]:
    """Run ccxt calls, turning their failures into ``DataUnavailable``."""
    session.probe.reset()
    try:
        yield
    except DataUnavailable:
        raise
    except (ccxt.BaseError, *PARSE_ERRORS) as error:
        raise describe_failure(error, session, what) from error


def _check_body(session: LiveSession, what: str) -> None:
    """Raise when the last response was a web page or garbled (ccxt may quietly return [])."""
    if session.probe.kind in ("html", "malformed"):
        name = session.title
        raise DataUnavailable(
            f"{name} sent {_kind_words(session.probe.kind)} instead of {what}", "bad_response", session.exchange
        )


# --------------------------------------------------------------------------------------------
# Validation


def check_choices(exchange: str, symbol: str, timeframe: str, lookback: str) -> None:
    """Validate the request against ``core.constants`` (no request is made).

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
    if symbol not in SYMBOLS:
        raise DataUnavailable(
            f"{symbol} is not a market this app offers on {name} (choose {', '.join(SYMBOLS)})", "bad_symbol", exchange
        )


def resolve_market(session: LiveSession, symbol: str, timeframe: str) -> dict:
    """Load the exchange's linear-swap markets once and check ``symbol`` and ``timeframe``.

    Raises
    ------
    DataUnavailable
        reason "bad_symbol" or "bad_timeframe", or the mapped failure of loading markets.
    """
    client, name = session.client, session.title
    with _mapped_errors(session, "its list of markets"):
        markets = client.load_markets()
    market = (markets or {}).get(symbol)
    if not market or not market.get("swap") or not market.get("linear"):
        raise DataUnavailable(f"{name} does not list {symbol} as a USDT perpetual", "bad_symbol", session.exchange)
    if client.timeframes and timeframe not in client.timeframes:
        raise DataUnavailable(f"{name} does not offer {timeframe} candles", "bad_timeframe", session.exchange)
    return market


# --------------------------------------------------------------------------------------------
# Pagination


def _ms(ts: pd.Timestamp) -> int:
    """Epoch milliseconds of a timestamp."""
    return int(ts.value // 1_000_000)


def _delta_ms(delta: pd.Timedelta) -> int:
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


class _Reporter:
    """Forwards progress to the caller, never going backwards and never past 1.0."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self._progress is None:
            return
        self._last = max(self._last, min(1.0, float(fraction)))
        self._progress(self._last, message)

    def part(self, lo: float, hi: float) -> Callable[[float, str], None]:
        """A reporter mapping 0..1 onto ``lo``..``hi``."""
        return lambda f, m: self(lo + (hi - lo) * f, m)


def _paged(
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
    for i, (since, until) in enumerate(windows):
        with _mapped_errors(session, what):
            page = call(since, until)
        _check_body(session, what)
        if not isinstance(page, list):
            raise DataUnavailable(f"{session.title} sent an answer we could not read instead of {what}", "bad_response", session.exchange)
        rows.extend(page)
        report((i + 1) / len(windows), f"{session.title}: {what} {i + 1}/{len(windows)}")
    return rows


# --------------------------------------------------------------------------------------------
# Series


def fetch_candles(
    session: LiveSession, symbol: str, timeframe: str, start: pd.Timestamp, now: pd.Timestamp, report: Callable[[float, str], None]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Clean candles with open time in ``[start, now]`` and the cleaning notes.

    Raises
    ------
    DataUnavailable
        On any failure, or when no usable candle came back (reason "no_data").
    """
    windows = plan_windows(_ms(start), _ms(now), _delta_ms(timeframe_delta(timeframe)), LIMITS[session.exchange].ohlcv_page)

    def call(since: int, until: int) -> list:
        return session.client.fetch_ohlcv(symbol, timeframe, since, LIMITS[session.exchange].ohlcv_page, {"until": until})

    rows = _paged(session, call, windows, "candles", report)
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


def choose_oi_period(exchange: str, timeframe: str, lookback: str) -> str:
    """The open-interest period to fetch: the finest supported one not coarser than the candles
    (at least 5m), made coarser while the window would need more than ``MAX_OI_REQUESTS`` calls."""
    limits = LIMITS[exchange]
    target = max(timeframe_delta(timeframe), MIN_OI_PERIOD)
    periods = list(limits.oi_periods)
    fits = [p for p in periods if period_delta(p) <= target]
    index = periods.index(fits[-1]) if fits else 0
    span = lookback_delta(lookback)
    for period in periods[index:]:
        rows = span / period_delta(period)
        if math.ceil(rows / limits.oi_page) <= MAX_OI_REQUESTS:
            return period
    return periods[-1]


def _oi_usd(entry: Mapping, contract_size: float, price: float) -> float:
    """USD notional of one open-interest record."""
    value = entry.get("openInterestValue")
    if value is not None and np.isfinite(value) and value > 0:
        return float(value)
    amount = entry.get("openInterestAmount")
    if amount is None or not np.isfinite(amount):
        return float("nan")
    return float(amount) * contract_size * price


def _price_at(candles: pd.DataFrame, timeframe: str, times: pd.DatetimeIndex) -> np.ndarray:
    """Last known close at each time (the first open before the first close)."""
    closes_at = (candles.index + timeframe_delta(timeframe)).as_unit("ns").asi8
    pos = np.searchsorted(closes_at, times.as_unit("ns").asi8, side="right") - 1
    close = candles["close"].to_numpy()
    return np.where(pos >= 0, close[np.clip(pos, 0, None)], candles["open"].iloc[0])


def fetch_open_interest_usd(
    session: LiveSession,
    market: Mapping,
    candles: pd.DataFrame,
    timeframe: str,
    lookback: str,
    now: pd.Timestamp,
    report: Callable[[float, str], None],
) -> tuple[pd.Series, tuple[str, ...]]:
    """Open interest in USD aligned to ``candles`` (NaN where unknown) and notes.

    The history starts one period before the first candle, but never further back than the
    exchange serves (Binance: 30 days); candles before that get NaN and a note.
    """
    limits, name = LIMITS[session.exchange], session.title
    period = choose_oi_period(session.exchange, timeframe, lookback)
    step = period_delta(period)
    start = (candles.index[0] - step).floor(step)
    notes: list[str] = []
    if limits.oi_history is not None and start < now - limits.oi_history + step:
        start = (now - limits.oi_history + step).ceil(step)
        notes.append(f"{name} serves open interest for the last {limits.oi_history.days} days only: older candles have none")
    windows = plan_windows(_ms(start), _ms(now), _delta_ms(step), limits.oi_page)

    def call(since: int, until: int) -> list:
        return session.client.fetch_open_interest_history(market["symbol"], period, since, limits.oi_page, {"until": until})

    entries = [e for e in _paged(session, call, windows, "open interest", report) if isinstance(e, Mapping)]
    times = pd.to_datetime([e.get("timestamp") for e in entries], unit="ms", utc=True, errors="coerce")
    keep = ~times.isna()
    entries = [e for e, k in zip(entries, keep) if k]
    times = pd.DatetimeIndex(times[keep]).as_unit("ns")
    contract_size = float(market.get("contractSize") or 1.0)
    prices = _price_at(candles, timeframe, times) if len(times) else np.array([])
    usd = pd.Series([_oi_usd(e, contract_size, p) for e, p in zip(entries, prices)], index=times, dtype="float64")
    aligned = align_open_interest(usd, candles.index, timeframe, max_age=max(pd.Timedelta(days=1), 2 * step))
    if aligned.notna().sum() == 0:
        notes.append(f"{name} returned no open interest for this window: the model uses its volume proxy")
    elif period != timeframe:
        notes.append(f"open interest from {name} every {period}")
    return aligned, tuple(notes)


def fetch_funding(session: LiveSession, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
    """Funding rate per funding event in ``[start, now]`` (one call)."""
    page = LIMITS[session.exchange].funding_page
    with _mapped_errors(session, "funding rates"):
        rows = session.client.fetch_funding_rate_history(symbol, _ms(start), page, {"until": _ms(now)})
    _check_body(session, "funding rates")
    return _series(rows, "fundingRate", "funding", start, now)


def fetch_long_short(session: LiveSession, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
    """Long/short account ratio (latest page, hourly) within ``[start, now]`` (one call)."""
    page = LIMITS[session.exchange].long_short_page
    with _mapped_errors(session, "the long/short ratio"):
        rows = session.client.fetch_long_short_ratio_history(symbol, LONG_SHORT_PERIOD, None, page)
    _check_body(session, "the long/short ratio")
    return _series(rows, "longShortRatio", "long_short_ratio", start, now)


def _series(rows: Any, key: str, name: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
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


def _optional(
    session: LiveSession, fetch: Callable[[], pd.Series], what: str
) -> tuple[pd.Series | None, tuple[str, ...]]:
    """Run an optional fetch: on failure return None and a note instead of raising."""
    try:
        series = fetch()
    except DataUnavailable as error:
        return None, (f"no {what}: {error.message}",)
    except (ccxt.BaseError, *PARSE_ERRORS):
        return None, (f"no {what}: {session.title} sent data we could not read",)
    if series.empty:
        return None, (f"{session.title} returned no {what} for this window",)
    return series, ()


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

    Raises
    ------
    DataUnavailable
        Any failure of the candles or a network-level failure of open interest; funding and the
        long/short ratio only add notes.
    """
    check_choices(exchange, symbol, timeframe, lookback)
    report = _Reporter(progress)
    report(0.0, f"Connecting to {exchange_title(exchange)}")
    start = (now - lookback_delta(lookback)).floor(timeframe_delta(timeframe))
    with pool.session(exchange) as session:
        market = resolve_market(session, symbol, timeframe)
        candles, notes = fetch_candles(session, symbol, timeframe, start, now, report.part(0.02, 0.6))
        oi, oi_notes = _open_interest_or_note(session, market, candles, timeframe, lookback, now, report.part(0.6, 0.9))
        funding, f_notes = _optional(session, lambda: fetch_funding(session, symbol, start, now), "funding history")
        report(0.95, f"{session.title}: funding rates")
        ratio, r_notes = _optional(session, lambda: fetch_long_short(session, symbol, start, now), "long/short ratio")
    report(1.0, "Done")
    step = timeframe_delta(timeframe)
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
        notes=notes + oi_notes + f_notes + r_notes,
        last_candle_forming=bool(candles.index[-1] + step > now),
        provenance=f"Live: {exchange_title(exchange)} {symbol} perpetual via ccxt public endpoints",
        data_id=f"live:{exchange}:{symbol}:{timeframe}:{lookback}:{time_bucket(now, timeframe)}",
    )


def _open_interest_or_note(
    session: LiveSession,
    market: Mapping,
    candles: pd.DataFrame,
    timeframe: str,
    lookback: str,
    now: pd.Timestamp,
    report: Callable[[float, str], None],
) -> tuple[pd.Series, tuple[str, ...]]:
    """Open interest, or NaN and a note when the exchange rejects the request.

    Network-level failures (rate limit, timeout, down) are raised: the exchange is unusable now,
    and the last-good snapshot has open interest.
    """
    try:
        return fetch_open_interest_usd(session, market, candles, timeframe, lookback, now, report)
    except DataUnavailable as error:
        if error.transient and error.reason != "bad_response":
            raise
        empty = pd.Series(np.nan, index=candles.index, name="open_interest", dtype="float64")
        return empty, (f"no open interest: {error.message}; the model uses its volume proxy",)


def fetch_depth_usd(exchange: str, symbol: str, *, pool: ClientPool, band: float = DEPTH_BAND) -> float:
    """USD needed to move the price by ``band`` (1%): bid notional within ``band`` below the mid
    plus ask notional within ``band`` above it, averaged (one order-book call).

    Raises
    ------
    DataUnavailable
        On any failure, or an empty or one-sided book (reason "no_data").
    """
    if exchange not in EXCHANGES:
        raise unsupported_exchange(exchange)
    if symbol not in SYMBOLS:
        raise DataUnavailable(f"{symbol} is not a market this app offers", "bad_symbol", exchange)
    with pool.session(exchange) as session:
        market = resolve_market(session, symbol, next(iter(TIMEFRAMES)))
        with _mapped_errors(session, "the order book"):
            book = session.client.fetch_order_book(symbol, LIMITS[exchange].depth_limit)
        _check_body(session, "the order book")
    return _band_notional(book, float(market.get("contractSize") or 1.0), band, session)


def _band_notional(book: Mapping, contract_size: float, band: float, session: LiveSession) -> float:
    """Average of bid and ask USD notional within ``band`` of the mid."""
    try:
        bids = np.asarray([lvl[:2] for lvl in book.get("bids") or []], dtype="float64").reshape(-1, 2)
        asks = np.asarray([lvl[:2] for lvl in book.get("asks") or []], dtype="float64").reshape(-1, 2)
    except PARSE_ERRORS as error:
        raise DataUnavailable(f"{session.title} sent an order book we could not read", "bad_response", session.exchange) from error
    if len(bids) == 0 or len(asks) == 0:
        raise DataUnavailable(f"{session.title} returned an empty order book", "no_data", session.exchange)
    mid = (bids[:, 0].max() + asks[:, 0].min()) / 2
    bid_usd = float(np.nansum(np.where(bids[:, 0] >= mid * (1 - band), bids[:, 0] * bids[:, 1], 0.0)))
    ask_usd = float(np.nansum(np.where(asks[:, 0] <= mid * (1 + band), asks[:, 0] * asks[:, 1], 0.0)))
    return (bid_usd + ask_usd) / 2 * contract_size
