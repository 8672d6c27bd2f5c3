"""``load_market``: one call for the pages, offline-first.

Sources:
  * "bundled": the shipped sample (``load_bundled``), never touches the network;
  * "live": ccxt through the single-flight cache; every success is saved to the last-good store;
    a failure raises ``DataUnavailable`` with a plain message;
  * "snapshot": the last-good store only;
  * "auto": live, else the last-good snapshot, else the bundled sample, with a note saying which
    was used and why ("Could not reach Bybit (no network). Showing the bundled sample instead.").

The clients, cache, store and clock live in ``DataServices``; the default one is built on first
use (no connection is opened at import). Tests pass their own, or install them process-wide with
``set_default_services`` (the UI tests and the load-test launcher).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import replace

import pandas as pd


from core.constants import EXCHANGES, LOOKBACKS, TIMEFRAMES, lookback_delta, timeframe_delta
from core.data.bundled import BUNDLED, DEFAULT_DATASET, load_bundled
from core.data.cache import time_bucket
from core.data.errors import DataUnavailable
from core.data.depth import Depth
from core.data.live import check_choices, exchange_title, fetch_depth, fetch_live
from core.data.market import MarketData
from core.data.memory import memory_request, with_memory
from core.data.progress import HeldProgress, Progress
from core.data.services import DataServices, default_services, set_default_services  # noqa: F401 - re-exported for tests
from core.data.store import describe_age

SOURCE_CHOICES: tuple[str, ...] = ("auto", "live", "snapshot", "bundled")
FALLBACK_TIMEFRAME = "5m"


# --------------------------------------------------------------------------------------------
# The three sources


def _live(
    exchange: str, symbol: str, timeframe: str, lookback: str, progress: Progress | None, services: DataServices
) -> MarketData:
    """Live data through the cache (one upstream call per key and time bucket); saved on success.

    Only what is new since the last good data is fetched (``fetch_live(previous=...)``). The
    caller's ``progress`` is used only from its own thread and never aborts the shared fetch:
    what it raises (a Streamlit rerun) is re-raised here, after the result is cached.
    """
    check_choices(exchange, symbol, timeframe, lookback)
    now = services.clock()
    key = ("market", exchange, symbol, timeframe, lookback, time_bucket(now, timeframe))
    held = HeldProgress(progress)

    def compute() -> MarketData:
        market = fetch_live(exchange, symbol, timeframe, lookback, pool=services.clients, now=now, progress=held,
                            previous=_last_good(exchange, symbol, timeframe, services))
        try:
            services.store.save(market)
        except Exception:  # noqa: BLE001 - saving is best effort; the live data is still good
            pass
        return market

    try:
        market = services.cache.get(key, compute, breaker=exchange)
    except DataUnavailable:
        held.release()
        raise
    held.release()
    held(1.0, "Done")
    held.release()
    return market


def _last_good(exchange: str, symbol: str, timeframe: str, services: DataServices) -> MarketData | None:
    """The last good data of a market from the store (None when missing or unreadable)."""
    try:
        return services.store.load(exchange, symbol, timeframe, now=services.clock())
    except Exception:  # noqa: BLE001 - a damaged snapshot only means a full fetch
        return None


def _snapshot(
    exchange: str, symbol: str, timeframe: str, lookback: str, services: DataServices,
    memory: pd.Timedelta | None = None,
) -> MarketData | None:
    """The last-good snapshot restricted to the last ``lookback`` (None when there is none), with
    up to ``memory`` of its earlier candles as the model's memory."""
    snap = services.store.load(exchange, symbol, timeframe, now=services.clock())
    if snap is None or snap.candles.empty:
        return None
    if lookback not in LOOKBACKS or timeframe not in TIMEFRAMES:
        return snap
    first = snap.candles.index[-1] + timeframe_delta(timeframe) - lookback_delta(lookback)
    if first < snap.candles.index[0]:
        return snap.with_notes(f"the saved data covers less than {lookback}")
    if memory is not None and memory > pd.Timedelta(0):
        kept = snap.window(start=first - memory)
        window_start = kept.candles.index[kept.candles.index >= first][0]
        return replace(kept, window_start=window_start, data_id=f"{kept.data_id}@{window_start.value}")
    return snap.window(start=first)


def _add_memory(
    market: MarketData, exchange: str, symbol: str, timeframe: str, lookback: str,
    memory: pd.Timedelta | None, services: DataServices,
) -> MarketData:
    """Live ``market`` with ``memory`` of history before it (1h candles for fine windows), fetched
    through the same cache; without memory (and a note saying why) when that fetch fails."""
    request = memory_request(timeframe, lookback, memory) if memory is not None else None
    if request is None or lookback not in LOOKBACKS:
        return market
    try:
        history = _live(exchange, symbol, request[0], request[1], None, services)
    except DataUnavailable as error:
        return market.with_notes(f"no model memory: the history before the window could not be loaded "
                                 f"({error.message})")
    return with_memory(market, history, memory)


def _bundled(
    symbol: str, timeframe: str, lookback: str, dataset: str | None, exchange: str | None = None,
    memory: pd.Timedelta | None = None,
) -> MarketData:
    """The bundled sample, saying so when it is another market or timeframe than asked."""
    key = dataset or DEFAULT_DATASET
    meta = BUNDLED[key] if key in BUNDLED else BUNDLED[DEFAULT_DATASET]
    notes: list[str] = []
    if key not in BUNDLED:
        notes.append(f"there is no bundled dataset {key!r}: showing {meta.title}")
    if timeframe not in TIMEFRAMES:
        notes.append(f"{timeframe} candles are not offered: showing {FALLBACK_TIMEFRAME}")
        timeframe = FALLBACK_TIMEFRAME
    market = load_bundled(meta.key, timeframe, lookback if lookback in LOOKBACKS else None, memory=memory)
    if meta.symbol != symbol:
        notes.append(f"The bundled sample is {meta.symbol} on {exchange_title(meta.exchange)}, not {symbol}")
    elif exchange is not None and exchange != meta.exchange:
        notes.append(f"The bundled sample comes from {exchange_title(meta.exchange)}, not {exchange_title(exchange)}")
    return market.with_notes(*notes)


def _first(market: MarketData, note: str) -> MarketData:
    """A copy with ``note`` as its first note (the one a reader sees first)."""
    return replace(market, notes=(note,) + market.notes)


def _age(market: MarketData, services: DataServices) -> str:
    """How old a snapshot is, in plain words."""
    return describe_age(services.clock() - market.fetched_at)


# --------------------------------------------------------------------------------------------
# Public API


def load_market(
    exchange: str = "binanceusdm",
    symbol: str = "BTC/USDT:USDT",
    timeframe: str = "5m",
    lookback: str = "3d",
    source: str = "auto",
    progress: Progress | None = None,
    dataset: str | None = None,
    *,
    services: DataServices | None = None,
    memory: pd.Timedelta | None = None,
) -> MarketData:
    """Load one market from ``source``, offline-first.

    Parameters
    ----------
    exchange, symbol, timeframe, lookback
        ccxt exchange id, unified symbol, candle timeframe and window (``core.constants``).
    source
        "auto" (live, else last-good snapshot, else bundled), "live", "snapshot" or "bundled".
    progress
        ``progress(fraction, message)`` for a progress bar (live fetches).
    dataset
        Bundled dataset key (default ``DEFAULT_DATASET``) for "bundled" and the last fallback.
    services
        Clients, cache, store and clock (default: the process-wide ones).
    memory
        History to load before the window as the model's memory (``MarketData.window_start``;
        e.g. ``core.constants.DEFAULT_MEMORY``). Live: fetched at 1h for finer windows
        (``core.data.memory``); saved and bundled data: what they hold, with a note. None: none.

    Raises
    ------
    DataUnavailable
        "live" on any failure; "snapshot" when nothing was saved. "auto" and "bundled" do not
        raise it.
    ValueError
        An unknown ``source``.
    """
    if source not in SOURCE_CHOICES:
        raise ValueError(f"source must be one of {SOURCE_CHOICES}, not {source!r}")
    if source == "bundled":
        return _bundled(symbol, timeframe, lookback, dataset, memory=memory)
    svc = services or default_services()
    if source == "live":
        market = _live(exchange, symbol, timeframe, lookback, progress, svc)
        return _add_memory(market, exchange, symbol, timeframe, lookback, memory, svc)
    if source == "snapshot":
        snap = _snapshot(exchange, symbol, timeframe, lookback, svc, memory)
        if snap is None:
            raise DataUnavailable(
                f"No saved data for {exchange_title(exchange)} {symbol} {timeframe} yet", "no_snapshot", exchange
            )
        return snap
    return _auto(exchange, symbol, timeframe, lookback, progress, dataset, svc, memory)


def _auto(
    exchange: str,
    symbol: str,
    timeframe: str,
    lookback: str,
    progress: Progress | None,
    dataset: str | None,
    services: DataServices,
    memory: pd.Timedelta | None = None,
) -> MarketData:
    """Live, else the last-good snapshot, else the bundled sample, with the reason as first note."""
    try:
        market = _live(exchange, symbol, timeframe, lookback, progress, services)
        market = _add_memory(market, exchange, symbol, timeframe, lookback, memory, services)
        return _first(market, f"Live data from {exchange_title(exchange)}.")
    except DataUnavailable as error:
        failure = error
    snap = _snapshot(exchange, symbol, timeframe, lookback, services, memory)
    if progress is not None:
        progress(1.0, "Showing saved data" if snap is not None else "Showing the bundled sample")
    if snap is not None:
        return _first(snap, f"{failure.message}; showing the last good data from {_age(snap, services)} ago.")
    market = _bundled(symbol, timeframe, lookback, dataset, exchange, memory)
    return _first(market, f"{failure.message}. Showing the bundled sample instead.")


def load_all_exchanges(
    symbol: str,
    timeframe: str,
    lookback: str,
    source: str = "auto",
    progress: Progress | None = None,
    *,
    services: DataServices | None = None,
    memory: pd.Timedelta | None = None,
) -> tuple[list[MarketData], list[str]]:
    """Load ``symbol`` from every exchange for the aggregated view (each with ``memory`` of history
    before the window, as ``load_market``).

    With "auto" each exchange falls back to its own last-good snapshot only (adding the same
    bundled sample three times would triple-count it); when no exchange loads at all, the bundled
    sample is returned once. With "bundled" the one bundled sample is returned.

    Returns
    -------
    (markets, messages)
        The markets that loaded and one plain message per exchange left out.
    """
    if source not in SOURCE_CHOICES:
        raise ValueError(f"source must be one of {SOURCE_CHOICES}, not {source!r}")
    if source == "bundled":
        market = _bundled(symbol, timeframe, lookback, None, memory=memory)
        return [market], [f"The bundled sample comes from {exchange_title(market.exchange)} only."]
    svc = services or default_services()
    results = _load_concurrently(list(EXCHANGES), symbol, timeframe, lookback, source, progress, svc, memory)
    loaded: list[MarketData] = []
    missing: list[str] = []
    for exchange, outcome in results:
        if isinstance(outcome, MarketData):
            loaded.append(outcome)
        else:
            missing.append(f"{exchange_title(exchange)} left out: {outcome.message}.")
    if not loaded and source == "auto":
        fallback = _bundled(symbol, timeframe, lookback, None, memory=memory)
        loaded.append(_first(fallback, "No exchange could be reached."))
        missing.append("No exchange could be reached: showing the bundled sample instead.")
    if progress is not None:
        progress(1.0, "Done")
    return loaded, missing


_DONE = object()


def _load_concurrently(
    ids: list[str], symbol: str, timeframe: str, lookback: str, source: str, progress: Progress | None,
    services: DataServices, memory: pd.Timedelta | None = None,
) -> list[tuple[str, MarketData | DataUnavailable]]:
    """Each exchange in its own thread (a slow or unreachable one costs its own timeout, not the
    sum of all); their progress is relayed to ``progress`` from this thread only."""
    updates: queue.Queue = queue.Queue()
    outcomes: dict[str, MarketData | DataUnavailable] = {}

    def work(i: int, exchange: str) -> None:
        def relay(fraction: float, message: str) -> None:
            updates.put((i, fraction, message))

        try:
            outcomes[exchange] = _live_or_snapshot(exchange, symbol, timeframe, lookback, source, relay, services,
                                                   memory)
        except DataUnavailable as error:
            outcomes[exchange] = error
        except Exception as error:  # noqa: BLE001 - one exchange's bug must not hide the others
            outcomes[exchange] = DataUnavailable(f"{exchange_title(exchange)} failed unexpectedly", "exchange_error",
                                                 exchange, repr(error)[:300])
        finally:
            updates.put(_DONE)

    threads = [threading.Thread(target=work, args=(i, ex), daemon=True, name=f"load-{ex}") for i, ex in enumerate(ids)]
    for thread in threads:
        thread.start()
    fractions = [0.0] * len(ids)
    remaining = len(ids)
    while remaining:
        item = updates.get()
        if item is _DONE:
            remaining -= 1
            continue
        i, fraction, message = item
        fractions[i] = fraction
        if progress is not None:
            progress(sum(fractions) / len(ids), message)
    return [(ex, outcomes[ex]) for ex in ids]


def _live_or_snapshot(
    exchange: str, symbol: str, timeframe: str, lookback: str, source: str, progress: Progress | None,
    services: DataServices, memory: pd.Timedelta | None = None,
) -> MarketData:
    """One exchange of the aggregated view: live and/or snapshot as ``source`` says."""
    if source in ("live", "snapshot"):
        return load_market(exchange, symbol, timeframe, lookback, source, progress, services=services, memory=memory)
    try:
        market = _live(exchange, symbol, timeframe, lookback, progress, services)
        return _add_memory(market, exchange, symbol, timeframe, lookback, memory, services)
    except DataUnavailable as error:
        snap = _snapshot(exchange, symbol, timeframe, lookback, services, memory)
        if snap is None:
            raise
        return _first(snap, f"{error.message}; showing the last good data from {_age(snap, services)} ago.")


def fetch_order_book_depth(exchange: str, symbol: str, *, services: DataServices | None = None) -> float:
    """USD needed to move the price 1%: bid notional within 1% below the mid and ask notional
    within 1% above it, averaged, extrapolated to the band's edge where the book served is
    shallower (``order_book_depth`` says when). Cached like markets (same circuit breaker).

    Raises
    ------
    DataUnavailable
        Offline, or any failure of the order-book call.
    """
    return order_book_depth(exchange, symbol, services=services).usd


def order_book_depth(exchange: str, symbol: str, *, services: DataServices | None = None) -> Depth:
    """``fetch_order_book_depth`` with what the book showed (``Depth.note`` is "" when the book
    reached the band's edge, else a sentence for the page)."""
    svc = services or default_services()
    key = ("depth", exchange, symbol, time_bucket(svc.clock()))
    return svc.cache.get(key, lambda: fetch_depth(exchange, symbol, pool=svc.clients), breaker=exchange)

