"""Cached calls from the pages into core: market loading (with a progress bar) and the heatmap.

Every cache is bounded (``ttl`` and ``max_entries``) and keyed only by validated values. Live
fetches are additionally cached and single-flighted inside core, so many sessions asking for the
same market cause one upstream call.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.constants import ALL_EXCHANGES, EXCHANGES
from core.data.bundled import DEFAULT_DATASET
from core.data.load import load_all_exchanges, load_market
from core.data.market import MarketData
from core.grid import Heatmap, compute_aggregate, compute_heatmap
from core.model import ModelParams
from core.viewstate import LIVE, UPLOAD, View

PRICE_BINS = 500


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
    def key(self) -> tuple:
        """What identifies this data in downstream caches (changes when data is refetched)."""
        return tuple((m.exchange, m.symbol, m.timeframe, m.source, str(m.fetched_at), len(m.candles)) for m in self.markets)


def _progress_bar():
    bar = st.progress(0.0, text="Fetching market data…")

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message[:120])

    return bar, report


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def _bundled(dataset: str, sym: str, tf: str, lb: str) -> Loaded:
    return Loaded((load_market(symbol=sym, timeframe=tf, lookback=lb, source="bundled", dataset=dataset),))


def _live(ex: str, sym: str, tf: str, lb: str, progress) -> Loaded:
    """Live data (cached and single-flighted inside core, so not in st.cache_data: the progress
    bar must be drawn by whichever run actually fetches)."""
    if ex == ALL_EXCHANGES:
        markets, missing = load_all_exchanges(sym, tf, lb, source="auto", progress=progress)
        if not markets:
            fallback = load_market(symbol=sym, timeframe=tf, lookback=lb, source="bundled", dataset=DEFAULT_DATASET)
            return Loaded((fallback.with_notes("No exchange could be reached: showing the bundled sample."),), tuple(missing))
        return Loaded(tuple(markets), tuple(missing))
    return Loaded((load_market(exchange=ex, symbol=sym, timeframe=tf, lookback=lb, source="auto", progress=progress),))


def load_view(view: View) -> Loaded:
    """Load the markets the sidebar asks for (a progress bar shows while a live fetch runs)."""
    if view.src == UPLOAD:
        uploaded = st.session_state.get("upload_market")
        if uploaded is not None:
            return Loaded((uploaded,))
        st.info("No files uploaded yet: showing the bundled sample. Upload Binance files on the *Import & accuracy* page.")
        return _bundled(DEFAULT_DATASET, view.sym, view.tf, view.lb)
    if view.src == LIVE:
        bar, report = _progress_bar()
        try:
            return _live(view.ex, view.sym, view.tf, view.lb, report)
        finally:
            bar.empty()
    return _bundled(view.src, view.sym, view.tf, view.lb)


# A heatmap is (500 bands x up to 10,080 candles) x 2 sides: shared between sessions as a resource
# (no copy per rerun), at most a few alive at once.
@st.cache_resource(ttl=600, max_entries=6, show_spinner=False)
def _heatmap(key: tuple, params: ModelParams, bins: int, _loaded: Loaded) -> Heatmap:
    if len(_loaded.markets) > 1:
        return compute_aggregate(list(_loaded.markets), params, price_bins=bins)
    return compute_heatmap(_loaded.primary, params, price_bins=bins)


def heatmap_for(loaded: Loaded, params: ModelParams, bins: int = PRICE_BINS) -> Heatmap:
    """The model's heatmap for ``loaded`` under ``params`` (cached per data version and params)."""
    return _heatmap(loaded.key, params, bins, loaded)


def exchange_label(exchange: str) -> str:
    """Human name of a ccxt exchange id (or the aggregate)."""
    return "All exchanges" if exchange == ALL_EXCHANGES else EXCHANGES.get(exchange, exchange)
