"""Which markets a view asks for, loaded (with a progress bar while a live fetch runs).

Bundled data comes through ``ui.cache``; live data is cached and single-flighted inside core; an
upload is the parsed ``MarketData`` kept in the session (never its raw bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.constants import ALL_EXCHANGES, EXCHANGES
from core.data.bundled import DEFAULT_DATASET
from core.data.load import load_all_exchanges, load_market
from core.data.market import MarketData
from core.viewstate import LIVE, UPLOAD, View
from ui.cache import DataIds, bundled_market, data_ids, memory_span

UPLOADED = "upload_market"  # session key of the parsed upload in use


@dataclass(frozen=True)
class Loaded:
    """The markets behind a view, and plain messages about what could not be loaded."""

    markets: tuple[MarketData, ...]
    missing: tuple[str, ...] = ()

    @property
    def primary(self) -> MarketData:
        """The first market (the only one unless the view aggregates exchanges)."""
        return self.markets[0]

    @property
    def ids(self) -> DataIds:
        """The content identity of this data (what downstream caches are keyed by)."""
        return data_ids(self.markets)


def _progress_bar():
    bar = st.progress(0.0, text="Fetching market data…")

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message[:120])

    return bar, report


def _live(ex: str, sym: str, tf: str, lb: str, progress, mem: int = 0) -> Loaded:
    """Live data of one exchange or all of them (the bundled sample when none can be reached), with
    ``mem`` days of model memory."""
    if ex == ALL_EXCHANGES:
        markets, missing = load_all_exchanges(sym, tf, lb, source="auto", progress=progress, memory=memory_span(mem))
        if not markets:
            fallback = bundled_market(DEFAULT_DATASET, sym, tf, lb, mem)
            return Loaded((fallback.with_notes("No exchange could be reached: showing the bundled sample."),), tuple(missing))
        return Loaded(tuple(markets), tuple(missing))
    return Loaded((load_market(exchange=ex, symbol=sym, timeframe=tf, lookback=lb, source="auto", progress=progress,
                               memory=memory_span(mem)),))


def load_view(view: View) -> Loaded:
    """Load the markets the sidebar asks for (a progress bar shows while a live fetch runs)."""
    if view.src == UPLOAD:
        uploaded = st.session_state.get(UPLOADED)
        if uploaded is not None:
            return Loaded((uploaded,))
        st.info("No files uploaded yet: showing the bundled sample. Upload Binance files on the *Import & accuracy* page.")
        return Loaded((bundled_market(DEFAULT_DATASET, view.sym, view.tf, view.lb, view.mem),))
    if view.src == LIVE:
        bar, report = _progress_bar()
        try:
            return _live(view.ex, view.sym, view.tf, view.lb, report, view.mem)
        finally:
            bar.empty()
    return Loaded((bundled_market(view.src, view.sym, view.tf, view.lb, view.mem),))


def exchange_label(exchange: str) -> str:
    """Human name of a ccxt exchange id (or the aggregate)."""
    return "All exchanges" if exchange == ALL_EXCHANGES else EXCHANGES.get(exchange, exchange)
