"""Every st.cache_data / st.cache_resource wrapper of the app, in one place.

The caches are process-wide (shared by every session), so each is bounded (``ttl``,
``max_entries``) and keyed by CONTENT identity: ``MarketData.data_id`` (a hash of uploaded bytes,
the dataset key of bundled data, exchange + market + fetch bucket of live data) plus the validated
parameters. Never by exchange/symbol/period: two different uploads of the same period are two
different data (issue 12). Arguments with a leading underscore are not hashed by Streamlit: each is
named by the key argument beside it. Live fetches are cached and single-flighted inside core, so
they are not wrapped here (the progress bar must be drawn by whichever run fetches).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from typing import Sequence

import pandas as pd
import streamlit as st

from core.cascade import detect_cascades
from core.constants import TIMEFRAMES
from core.data.coins import OFFLINE_COINS, list_coins
from core.data.errors import DataUnavailable
from core.data.files import FileImportError, load_files
from core.data.depth import Depth
from core.data.load import load_market, order_book_depth
from core.data.market import MarketData
from core.charts.canvas import ExportLabels, heatmap_payload
from core.grid import DisplayGrid, Heatmap, band_levels, compute_aggregate, compute_heatmap, display_grid
from core.model import ModelParams
from core.accuracy import normalize_symbol, read_realized
from core.charts import (ComparedPictures, compared_pictures, replay_backdrop, replay_colour_top, replay_layout,
                         replay_template)
from core.accuracy import Score, score_against_realized
from core.accuracy.calibrate import CalibrationResult, calibrate
from core.accuracy.realized_candles import market_from_candle_file, read_candle_file
from core.grid import sweep
from core.viewstate import MAX_CANDLES

PRICE_BINS = 500
REPLAY_MAP_HEIGHT = 200  # px: the replay's Play button, heatmap and bars fit a 1440x900 screen together
Files = tuple[tuple[str, bytes], ...]
DataIds = tuple[str, ...]


def data_ids(markets: Sequence[MarketData]) -> DataIds:
    """The content identity of a set of markets: what every cache below is keyed by."""
    return tuple(m.data_id for m in markets)


def digest(data: bytes) -> str:
    """Content hash of an uploaded file."""
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------
# Market data


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def bundled_market(dataset: str, sym: str, tf: str, lb: str, mem: int = 0) -> MarketData:
    """A bundled dataset at a timeframe and lookback (all validated values), with up to ``mem`` days
    of history before the window as the model's memory."""
    return load_market(symbol=sym, timeframe=tf, lookback=lb, source="bundled", dataset=dataset,
                       memory=memory_span(mem))


def memory_span(days: int) -> pd.Timedelta | None:
    """The model memory of ``days`` (None for 0)."""
    return pd.Timedelta(days=days) if days > 0 else None


def finest_timeframe(market: MarketData) -> str | None:
    """The finest timeframe that keeps ``market`` within MAX_CANDLES (None: it already is)."""
    if len(market.candles) <= MAX_CANDLES:
        return None
    span = market.candles.index[-1] - market.candles.index[0]
    fits = [tf for tf, step in TIMEFRAMES.items() if step >= TIMEFRAMES[market.timeframe] and span / step < MAX_CANDLES]
    return fits[0] if fits else list(TIMEFRAMES)[-1]


class _NoCoinList(Exception):
    """The exchange's coin list could not be had (raised so that Streamlit does not cache it)."""


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _listed_coins(exchange: str) -> tuple[str, ...]:
    coins, note = list_coins(exchange)
    if note:
        raise _NoCoinList(note)
    return coins


def coin_list(exchange: str) -> tuple[tuple[str, ...], str]:
    """(coins, note): ``exchange``'s linear USDT perpetuals, busiest first, cached an hour; offline
    the app's five coins and why (not cached here: core's circuit breaker keeps retries cheap)."""
    try:
        return _listed_coins(exchange), ""
    except _NoCoinList as why:
        return OFFLINE_COINS, str(why)


def listed_coins(exchange: str) -> tuple[str, ...]:
    """The coins ``exchange`` offers (``coin_list`` without the note): what a link is checked against."""
    return coin_list(exchange)[0]


@st.cache_data(ttl=3600, max_entries=8, show_spinner="Reading the files…")
def parse_market_files(key: tuple[tuple[str, str], ...], _files: Files) -> tuple[MarketData | None, str | None, float]:
    """(market, error, seconds): uploaded files read by ``load_files``, coarsened to fit MAX_CANDLES.

    ``key`` is the (name, content hash) of each file."""
    start = time.perf_counter()
    try:
        market = load_files(_files)
        if (coarser := finest_timeframe(market)) is not None:
            market = load_files(_files, timeframe=coarser)
    except FileImportError as err:
        return None, str(err), time.perf_counter() - start
    return market, None, time.perf_counter() - start


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def book_depth(exchanges: tuple[str, ...], symbol: str) -> Depth | None:
    """Live order-book depth summed over the exchanges, with what the books showed (``Depth.note``:
    "" when every book reached the band's edge); None when any of them cannot be reached."""
    try:
        books = [order_book_depth(ex, symbol) for ex in exchanges]
    except DataUnavailable:
        return None
    return Depth(usd=float(sum(b.usd for b in books)), seen_usd=float(sum(b.seen_usd for b in books)),
                 reach=min(b.reach for b in books), note=" ".join(dict.fromkeys(b.note for b in books if b.note)))


# ----------------------------------------------------------------------------------------------
# Realized liquidations and the score


def read_all_realized(data: bytes, name: str) -> tuple[pd.DataFrame | None, str | None, float]:
    """(realized of every symbol, error, seconds): run once when a file arrives, so its bytes need
    not be kept (the per-symbol view is ``realized_for``)."""
    start = time.perf_counter()
    try:
        frame = read_realized(data, name=name)
    except FileImportError as err:
        return None, str(err), time.perf_counter() - start
    return frame, None, time.perf_counter() - start


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def realized_for(key: str, symbol: str, _frame: pd.DataFrame) -> pd.DataFrame:
    """The liquidations of ``symbol`` (rows of files that name no symbol count as it), as
    ``read_realized(..., symbol=symbol)`` keeps them; ``key`` is the file's content hash."""
    wanted = normalize_symbol(symbol)
    keep = _frame["symbol"].isin([wanted, ""]).to_numpy()
    frame = _frame.loc[keep].assign(symbol=wanted)
    notes = list(_frame.attrs.get("notes", ()))
    if (n_other := int((~keep).sum())):
        notes.append(f"{n_other:,} liquidation(s) of other symbols left out")
    frame.attrs["notes"] = notes
    return frame


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def read_candle_upload(key: str, name: str, _data: bytes) -> tuple[pd.DataFrame | None, MarketData | None, str | None]:
    """A per-candle liquidation file (CoinGlass style; ``key`` its content hash): (realized per candle,
    the market it carries when it has candles and open interest, error)."""
    try:
        frame = read_candle_file(_data, name)
    except FileImportError as err:
        return None, None, str(err)
    market = market_from_candle_file(frame, provenance=f"{name} (its own candles and open interest)")
    if market is not None:
        market = replace(market, data_id=f"upload:{key}")
    return frame[["long_usd", "short_usd"]], market, None


@st.cache_data(ttl=1800, max_entries=4, show_spinner="Fitting the model to this period (a few seconds)…")
def calibration(ids: DataIds, params: ModelParams, realized_key: str, warmup: pd.Timedelta,
                _market: MarketData, _realized: pd.DataFrame) -> CalibrationResult:
    """``core.accuracy.calibrate`` on data ``ids`` and a realized per-candle file (``realized_key``)."""
    return calibrate(_market, _realized, base=params, warmup=warmup)


@st.cache_data(ttl=600, max_entries=8, show_spinner="Scoring the map…")
def score(ids: DataIds, params: ModelParams, realized_key: str, _hm: Heatmap, _realized: pd.DataFrame) -> Score:
    """The accuracy score of the map of data ``ids`` under ``params`` against a realized file."""
    return score_against_realized(_hm, _realized)


# ----------------------------------------------------------------------------------------------
# The model's maps


# A heatmap is (500 bands x up to 10,080 candles) x 2 sides: shared between sessions as a resource
# (no copy per rerun), at most a few alive at once.
@st.cache_resource(ttl=600, max_entries=8, show_spinner=False)
def _heatmap(ids: DataIds, params: ModelParams, bins: int, axis: tuple[float, float] | None,
             _markets: tuple[MarketData, ...]) -> Heatmap:
    if len(_markets) > 1:
        return compute_aggregate(list(_markets), params, price_bins=bins, price_range=axis)
    return compute_heatmap(_markets[0], params, price_bins=bins, price_range=axis)


def heatmap(markets: Sequence[MarketData], params: ModelParams, bins: int = PRICE_BINS,
            axis: tuple[float, float] | None = None) -> Heatmap:
    """The model's heatmap of ``markets`` (summed when several) under ``params``; ``axis`` fixes
    the price axis (so two maps share bands), None fits it to the data."""
    return _heatmap(data_ids(markets), params, bins, axis, tuple(markets))


@st.cache_resource(ttl=600, max_entries=8, show_spinner=False)
def display_picture(ids: DataIds, params: ModelParams, bins: int, _hm: Heatmap) -> tuple[DisplayGrid, pd.DataFrame]:
    """The heatmap of data ``ids`` in display units (USD per round band) and its key levels
    (``core.grid.bands``): what the picture, the tables and the exports all read."""
    grid = display_grid(_hm)
    return grid, band_levels(grid, 8)


# A resource, not cache_data: the bytes are immutable, and every session keeping the picture it sent
# (ui/sections/heatmap.py) then holds the same object instead of its own ~0.5 MB copy.
@st.cache_resource(ttl=600, max_entries=16, show_spinner=False)
def picture_payload(ids: DataIds, params: ModelParams, bins: int, price_range: tuple[float, float], side: str,
                    highlight: float, _grid: DisplayGrid, _levels: pd.DataFrame,
                    labels: ExportLabels = ExportLabels()) -> bytes:
    """The canvas component's message (``core.charts.canvas``) for the display grid of ``ids``;
    ``labels`` name its PNG export."""
    return heatmap_payload(_grid, _levels, price_range, side, highlight, labels)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def compared(ids: DataIds, default: ModelParams, chosen: ModelParams, bins: int, axis: tuple[float, float],
             price_range: tuple[float, float], highlight: float, size: tuple[int, int],
             _default_hm: Heatmap, _chosen_hm: Heatmap) -> ComparedPictures:
    """The rasters and hover cells (``core.charts.compared_pictures``, ``size`` = (columns, rows)) of
    the maps ``heatmap`` gives for data ``ids`` under ``default`` and ``chosen`` on ``bins`` bands over
    ``axis``: a rerun that changes neither map (the sweep, the price move, a box opened) reuses them."""
    return compared_pictures(_default_hm, _chosen_hm, price_range, highlight=highlight, max_cols=size[0],
                             max_rows=size[1])


@st.cache_data(ttl=600, max_entries=32, show_spinner="Sweeping…")
def sweep_metrics(ids: DataIds, params: ModelParams, field: str, values: tuple, within: float,
                  axis: tuple[float, float], bins: int, _market: MarketData) -> pd.DataFrame:
    """Metrics of the last candle's map for each value of ``field`` (on a fixed price axis)."""
    return sweep(_market, params, field, values, within_pct=(within,), price_bins=bins, price_range=axis)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def replay_setup(ids: DataIds, params: ModelParams, price_range: tuple[float, float], highlight: float,
                 _hm: Heatmap):
    """Per data and view, never per frame: detected cascades, the replay's fixed layout (colour top at
    ``highlight``, the heatmap page's "Highlight") and its chart template with the whole-window
    backdrop (``core.charts.replay_frames``)."""
    cascades = detect_cascades(_hm, top=5)
    layout = replay_layout(_hm, price_range, replay_colour_top(_hm, highlight), cascades, height=REPLAY_MAP_HEIGHT)
    return cascades, layout, replay_template(layout, replay_backdrop(_hm, layout))
