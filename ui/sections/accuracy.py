"""Sections of the Import & accuracy page (app_pages/accuracy.py): Binance public files in, realized
liquidations over the model's map, and the score. Streamlit-side; the logic is in core."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from core.charts import default_view_range, heatmap_chart, render_raster
from core.constants import candle_length
from core.data.market import MarketData
from core.format import format_usd
from core.accuracy import FORMATS, realized_per_candle
from core.charts import (
    calibration_chart,
    per_candle_chart,
    per_candle_frame,
    raster_scales,
    realized_layer,
    realized_points,
    score_reading,
    skipped_frame,
)
from core.accuracy import SCORE_METHOD, Score
from core.viewstate import MAX_CANDLES, UPLOAD
from ui import cache
from ui.charts import show
from ui.controls import highlight_slider
from ui.context import page_context
from ui.data import UPLOADED
from ui.state import KEYS, VIEW

log = logging.getLogger("liqmap")

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "examples" / "binance_public"
EXAMPLES = tuple(EXAMPLES_DIR / name for name in (
    "BTCUSDT-1m-2026-02-05.csv", "BTCUSDT-1m-2026-02-06.csv",
    "BTCUSDT-metrics-2026-02-05.csv", "BTCUSDT-metrics-2026-02-06.csv"))
REALIZED = "accuracy_realized"  # session key: the parsed liquidations in use (never their bytes)
BINANCE_PATHS = """\
data.binance.vision/data/futures/um/daily/klines/<SYMBOL>/<INTERVAL>/<SYMBOL>-<INTERVAL>-<YYYY-MM-DD>.zip
data.binance.vision/data/futures/um/daily/metrics/<SYMBOL>/<SYMBOL>-metrics-<YYYY-MM-DD>.zip
data.binance.vision/data/futures/um/monthly/klines/<SYMBOL>/<INTERVAL>/<SYMBOL>-<INTERVAL>-<YYYY-MM>.zip"""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")

Files = cache.Files


def plain(text: str) -> str:
    """``text`` with every markdown character escaped, so text from a file renders as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# ----------------------------------------------------------------------------------------------
# Callbacks (they run before the script, so they may set the sidebar's widgets)


def _use_market(market: MarketData, seconds: float, key: tuple) -> None:
    st.session_state[UPLOADED] = market
    st.session_state["accuracy_parse_s"] = seconds
    st.session_state["accuracy_in_use"] = key
    VIEW.set(src=UPLOAD)


def _load_examples() -> None:
    files = tuple((p.name, p.read_bytes()) for p in EXAMPLES)
    key = tuple((n, cache.digest(b)) for n, b in files)
    market, error, seconds = cache.parse_market_files(key, files)
    if market is not None:
        _use_market(market, seconds, key)
    else:  # the shipped files are tested; this is a last resort
        st.session_state["accuracy_example_error"] = error


def _keep_realized() -> None:
    """A liquidation file arrived: read it now (all symbols) and keep the result, not the bytes."""
    upload = st.session_state.get("accuracy_realized_file")
    if upload is None:
        st.session_state.pop(REALIZED, None)
        return
    data = upload.getvalue()
    frame, error, seconds = cache.read_all_realized(data, upload.name)
    st.session_state[REALIZED] = {"name": upload.name, "label": upload.name, "key": cache.digest(data),
                                  "frame": frame, "error": error, "seconds": seconds}


# ----------------------------------------------------------------------------------------------
# Sections


def market_summary(market: MarketData, seconds: float | None = None) -> None:
    """What was read: symbol, timeframe, span, candles, open interest present or proxy."""
    idx = market.candles.index
    step = candle_length(market.timeframe, market.candles.index)
    with_oi = int(market.open_interest.notna().sum())
    oi = f"{with_oi:,} of {len(idx):,} candles" if with_oi else "none: volume proxy"
    facts = {
        "Market": market.symbol.split(":")[0] + " perpetual",
        "Candles": f"{len(idx):,} × {market.timeframe}",
        "Span (UTC)": f"{idx[0]:%d %b %Y %H:%M} → {idx[-1] + step:%d %b %Y %H:%M}",
        "Open interest": oi,
    }
    cols = [*st.columns([1, 1.4]), *st.columns([1, 1.4])]
    for col, (label, value) in zip(cols, facts.items()):
        col.caption(label)
        col.markdown(f"**{plain(value)}**")
    with st.expander("What was read" + (f" (in {seconds:.2f} s)" if seconds is not None else "")):
        for note in market.notes:
            st.text(note)


def where_to_get_files() -> None:
    """Where Binance publishes the files, as path patterns (not download links)."""
    st.markdown("**Where to get the files.** Binance publishes every USD-M futures market's history on its "
                "public data site (free, no account). For each day, take the *klines* file (candles) and the "
                "*metrics* file (open interest), zipped or not:")
    st.code(BINANCE_PATHS, language=None, wrap_lines=True)
    st.caption("For example SYMBOL = BTCUSDT, INTERVAL = 1m, 5m, 15m, 1h or 4h. Metrics are published per day "
               "only; without them the model estimates new positions from trading volume and says so. More "
               f"than {MAX_CANDLES:,} candles are combined into a coarser timeframe.")


def import_section() -> None:
    """Upload Binance files, see what they hold, and use them on every page."""
    st.header("1. Market data from Binance's public files", divider="gray")
    left, right = st.columns([3, 2], gap="large")
    with right:
        where_to_get_files()
    with left:
        uploads = st.file_uploader("Klines and metrics files (CSV or ZIP; several days at once)", type=["csv", "zip"],
                                   accept_multiple_files=True, key="accuracy_market_files")
        st.button("Load the example files", on_click=_load_examples, icon=":material/science:",
                  help="Real Binance BTCUSDT 1m klines and 5-minute open interest, 5 Feb 21:00 to 6 Feb 03:00 UTC "
                       "2026, across the crash low of 59,800 (shipped with the app, works offline).")
        if (error := st.session_state.pop("accuracy_example_error", None)):
            st.error(f"The example files could not be read: {plain(error)}", icon=":material/error:")
        if uploads:
            preview(uploads)
        in_use()


def preview(uploads) -> None:
    """Parse the uploaded files (cached) and offer to use them, or say plainly why not."""
    files: Files = tuple((u.name, u.getvalue()) for u in uploads)
    key = tuple((n, cache.digest(b)) for n, b in files)
    market, error, seconds = cache.parse_market_files(key, files)
    if market is None:
        st.error(f"These files could not be used: {plain(error)}", icon=":material/error:")
        return
    if st.session_state.get("accuracy_in_use") == key and st.session_state.get(KEYS["src"]) == UPLOAD:
        return  # already in use: summarised below
    st.success(f"Read {len(files)} file(s) in {seconds:.2f} s: check what they hold, then use them.",
               icon=":material/check_circle:")
    market_summary(market)
    st.button("Use these files", type="primary", on_click=_use_market, args=(market, seconds, key), icon=":material/upload:")


def in_use() -> None:
    """Which uploaded data the app shows now (or how to switch back to it)."""
    market = st.session_state.get(UPLOADED)
    if market is None:
        return
    if st.session_state.get(KEYS["src"]) != UPLOAD:
        st.info("Files were imported earlier but the sidebar shows another data source.", icon=":material/info:")
        st.button("Show the imported files again", on_click=VIEW.set, kwargs={"src": UPLOAD})
        return
    with st.container(border=True):
        st.markdown(":violet-badge[Uploaded files] **in use on every page**. "
                    "The sidebar's timeframe and lookback do not apply to them: their own candles are shown.")
        market_summary(market, st.session_state.get("accuracy_parse_s"))
        st.page_link("app_pages/heatmap.py", label="See the heatmap of this period", icon=":material/grid_on:")


def realized_section() -> dict | None:
    """Upload realized liquidations; returns the chosen file's record (parsed, without its bytes)."""
    st.header("2. Liquidations that really happened", divider="gray")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.file_uploader("Liquidation records (CSV, JSON lines or ZIP)", type=["csv", "json", "jsonl", "txt", "zip"],
                         key="accuracy_realized_file", on_change=_keep_realized,
                         help="Recognised: " + "; ".join(FORMATS) + ".")
    with right:
        st.markdown("**Formats read:** " + "; ".join(FORMATS) + ".")
        st.caption("Exchanges publish liquidations only as a live stream (Binance `!forceOrder@arr`, one per "
                   "symbol per second; Bybit's liquidation topic): record it, or use a public recording.")
    return st.session_state.get(REALIZED)


def overlay_chart(hm, realized: pd.DataFrame, view) -> None:
    """The model's heatmap with the realized liquidations on top, then per-candle bars."""
    price_range = default_view_range(hm, margin=view.zoom / 100)
    highlight = highlight_slider(st.columns([1, 2])[0])
    raster = render_raster(hm, "both", price_range, highlight=highlight)
    x_scale, y_scale = raster_scales(raster)
    chart = alt.layer(heatmap_chart(hm, "both", price_range, raster=raster),
                      realized_layer(realized, x_scale, y_scale))
    show(chart, key="accuracy_overlay", width="content")
    shown = realized_points(realized, (raster.x0, raster.x1), (raster.y0, raster.y1))
    st.caption(f"Background: the model's estimate (longs + shorts). Circles: {len(shown):,} real liquidations in "
               "this window, sized by USD; blue = longs liquidated, orange = shorts liquidated.")
    frame = per_candle_frame(hm, realized_per_candle(realized, hm.times, hm.timeframe))
    st.subheader("Per candle: realized vs the model's liquidated notional")
    show(per_candle_chart(frame, (raster.x0, raster.x1)), key="accuracy_bars", width="content")
    st.caption("Longs liquidated point down, shorts up. Each panel has its own scale: exchanges publish only a "
               "sample of their liquidations, so compare the timing and the long/short balance, not the size.")


def score_section(score: Score) -> None:
    """Hit share, lifts, counts, calibration and the method."""
    st.subheader("Score")
    cols = st.columns(4)
    cols[0].metric("Hit share", f"{score.hit_share:.1%}" if score.n_scored else "n/a",
                   help=f"Realized USD in the map's brightest {score.top_share:.0%} of bands (±{score.window_pct:g}%)")
    cols[1].metric("Lift over a uniform guess", f"{score.lift_uniform:.2f}×" if score.n_scored else "n/a")
    cols[2].metric("Lift over distance only", f"{score.lift_baseline:.2f}×" if score.n_scored else "n/a",
                   help=f"A map that only knows the distance to the price scores {score.baseline_share:.1%}")
    cols[3].metric("Scored", f"{score.n_scored:,} of {score.n_realized:,}",
                   help=f"{format_usd(score.usd_scored)} of {format_usd(score.usd_realized)} realized")
    st.markdown(f"**Reading:** {score_reading(score)}")
    left, right = st.columns([3, 2], gap="large")
    with left:
        show(calibration_chart(score), key="accuracy_calibration", width="content")
        st.caption("Calibration: the bands around each liquidation, sorted into ten groups by the map's USD. A useful "
                   "map puts much of the real USD (red) in its brightest groups; the dashed line is a map without "
                   "information.")
    with right:
        skipped_table(score)
        st.caption(f"By side: longs {score.hit_share_long:.1%}, shorts {score.hit_share_short:.1%} hit share.")
    with st.expander("How the score works"):
        st.markdown(SCORE_METHOD)


def skipped_table(score: Score) -> None:
    """Liquidations not scored, by reason (or a line saying every one was)."""
    skipped = skipped_frame(score)
    if len(skipped):
        st.markdown(f"**Not scored: {score.n_skipped:,} of {score.n_realized:,}**")
        st.dataframe(skipped, hide_index=True, column_config={"reason": "Reason", "count": "Liquidations"})
    else:
        st.markdown("**Every liquidation given was scored.**")


def accuracy_section(record: dict | None) -> None:
    """Model vs reality for the loaded period."""
    st.header("3. Model vs reality", divider="gray")
    if record is None:
        st.info("No realized liquidations loaded, so there is nothing to score yet: the score compares the map with "
                "liquidations that really happened. Add a file of liquidation records above.", icon=":material/info:")
        return
    ctx = page_context()
    loaded, view, market = ctx.loaded, ctx.view, ctx.market
    if record["frame"] is None:
        st.error(f"This file could not be used: {plain(record['error'])}", icon=":material/error:")
        return
    realized, seconds = cache.realized_for(record["key"], market.symbol, record["frame"]), record["seconds"]
    st.caption(f"Liquidations: {plain(record['label'])} · read in {seconds:.2f} s · market {market.symbol}, "
               f"{market.timeframe} candles, {market.candles.index[0]:%d %b %Y %H:%M} – "
               f"{market.candles.index[-1]:%d %b %Y %H:%M} UTC")
    with st.expander("What was read"):
        for note in realized.attrs.get("notes", ()):
            st.text(note)
    params = ctx.params
    hm = cache.heatmap(loaded.markets, params)
    score = cache.score(loaded.ids, params, record["key"] + market.symbol, hm, realized)
    if score.n_scored == 0:
        st.warning(f"None of the {len(realized):,} liquidation(s) of {market.symbol} in the file can be scored "
                   f"against this period ({market.candles.index[0]:%d %b %Y} – {market.candles.index[-1]:%d %b %Y}): "
                   "load market data for the same days.", icon=":material/warning:")
        skipped_table(score)
        return
    st.caption(f"Model scored: {ctx.model_label} (the assumptions in the sidebar).")
    overlay_chart(hm, realized, view)
    score_section(score)

