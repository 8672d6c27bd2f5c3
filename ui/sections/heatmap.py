"""Sections of the heatmap page (app_pages/heatmap.py): the picture (heatmap, liquidation map and
colour legend, one canvas component restyled in the browser), near-price figures, key levels and
downloads. Every dollar figure of the page is USD per display band (``core.grid.bands``)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core.charts import market_chart, to_csv_bytes
from core.charts.canvas import ExportLabels, export_labels
from core.format import format_price, format_price_bands, format_usd
from core.grid import DisplayGrid, Heatmap, Profile, grid_table, nearby_table
from core.model import ModelParams, describe_leverage, describe_margin
from core.viewstate import SIDE_CHOICES
from ui.cache import PRICE_BINS, display_picture, picture_payload
from ui.charts import show
from ui.components.heatmap import heatmap_picture
from ui.context import PageContext
from ui.state import VIEW

# Width of the data view in the expander (the picture itself fits its container).
MARKET_WIDTH = 810
PICTURE_KEY = "heatmap_picture"
HOW_TO_READ_KEY = "heatmap_how_to_read"  # session key: the "How to read this" box is open
_SENT = "_heatmap_sent"  # session key: (identity of the grid, the bytes sent for it)
HOW_TO_READ = """
- **Bright bands** are prices where the model estimates many leveraged positions would be force-closed.
  Brighter = more USD. Dark = little or nothing. Every dollar figure on this page is **USD per price band**
  of the width the legend states (e.g. $100), so the colours, the crosshair, the bars and the key levels agree.
- **Longs** are liquidated when price *falls* to their level, so long clusters sit **below** the price;
  **shorts** are liquidated when price *rises*, so they sit **above**.
- A band **ends** where price traded through it: those positions were liquidated (or the model assumes so).
- The **white line** (or candles, when zoomed in) is the price. The **bars on the right** are the liquidation
  map now; the dotted lines add them up from the price outwards (what a move to that price would liquidate).
- **Highlight** lowers the top of the colour scale: more of the map reaches full brightness. The scale is
  computed from the whole window, so zooming never changes what a colour means.
- Scroll on the picture to zoom (on an axis: that axis only), drag to pan, double-click to reset.
- Price tends to be drawn to big clusters (liquidations are forced market orders that push price further),
  but this is an **estimate** built from open interest and assumed leverage, not exchange data.
  See *How it works* for the formulas.
"""


def display(ctx: PageContext, hm: Heatmap) -> tuple[DisplayGrid, pd.DataFrame]:
    """The page's one unit: the display grid and its key levels (cached per data and model)."""
    return display_picture(ctx.loaded.ids, ctx.params, PRICE_BINS, hm)


def _payload(ctx: PageContext, grid: DisplayGrid, levels: pd.DataFrame, price_range: tuple[float, float]) -> bytes:
    """The component's message. While the grid is unchanged the session resends the very same bytes
    (Streamlit's message cache then transfers nothing, and the browser keeps its zoom and styles);
    side and highlight inside it only seed a newly drawn picture."""
    ident = (ctx.loaded.ids, ctx.params, price_range)
    sent = st.session_state.get(_SENT)
    if sent is not None and sent[0] == ident:
        return sent[1]
    view = ctx.view
    blob = picture_payload(ctx.loaded.ids, ctx.params, PRICE_BINS, price_range, view.side, view.hl, grid, levels,
                           _labels(ctx, grid))
    st.session_state[_SENT] = (ident, blob)
    return blob


def _labels(ctx: PageContext, grid: DisplayGrid) -> ExportLabels:
    """Title and file name of the picture's PNG export (drawn by the component, in the browser)."""
    exchange = "all-exchanges" if len(ctx.loaded.markets) > 1 else ctx.market.exchange
    return export_labels(ctx.coin, ctx.where, ctx.market.symbol, exchange, ctx.market.timeframe, grid.starts,
                         ctx.model_label)


def reported_view(state: object) -> dict[str, object]:
    """The valid part of the component's report ``{"view": {"side": ..., "highlight": ...}}`` as
    view fields (``side``, ``hl``); anything else from the browser is dropped."""
    chosen = state.get("view") if hasattr(state, "get") else None
    if not isinstance(chosen, dict):
        return {}
    side, hl = chosen.get("side"), chosen.get("highlight")
    values: dict[str, object] = {}
    if isinstance(side, str) and side in SIDE_CHOICES:
        values["side"] = side
    if isinstance(hl, (int, float)) and not isinstance(hl, bool) and math.isfinite(hl):
        values["hl"] = float(min(max(hl, 0.0), 100.0))
    return values


def _remember_view() -> None:
    """Component callback: keep the side and highlight the user settled on, for the link."""
    VIEW.set(**reported_view(st.session_state.get(PICTURE_KEY)))


@st.fragment
def _picture(payload: bytes) -> None:
    """The component in a fragment: its report (side, highlight) reruns only this, to update the link."""
    heatmap_picture(payload, on_view=_remember_view, key=PICTURE_KEY)
    VIEW.sync_url(VIEW.current())


def picture(ctx: PageContext, grid: DisplayGrid, levels: pd.DataFrame, price_range: tuple[float, float]) -> None:
    """The heatmap, the liquidation map of the last candle and the colour legend (one component)."""
    _picture(_payload(ctx, grid, levels, price_range))


def near_price(profile: Profile) -> None:
    """USD within ±2/5/10% of the price, by side, and their imbalance."""
    near = nearby_table(profile)
    for col, row in zip(st.columns(len(near)), near.itertuples()):
        with col.container(border=True):
            pct = row.within.lstrip("±")
            a, b = st.columns(2)
            a.metric(f"Longs −{pct}", format_usd(row.long_usd), help=f"Estimated long USD a {pct} fall would liquidate")
            b.metric(f"Shorts +{pct}", format_usd(row.short_usd), help=f"Estimated short USD a {pct} rise would liquidate")
            # long_short_imbalance: (long - short) / total, positive when longs are heavier
            heavier = "longs heavier" if row.imbalance > 0 else "shorts heavier" if row.imbalance < 0 else "balanced"
            st.caption(f"Imbalance {row.imbalance:+.0%} ({heavier}) · price {format_price(profile.price)}")


def levels_table(levels: pd.DataFrame, grid: DisplayGrid) -> None:
    """The key levels of the last candle: the strongest band of each cluster, in the page's unit.

    A plain table (st.table): eight rows need no data-grid script, so the page paints sooner."""
    st.subheader("Key levels")
    table = pd.DataFrame({
        "Price band": format_price_bands(levels["price_low"], levels["price_high"]),
        "Side": levels["side"].map({"long": "Longs", "short": "Shorts"}),
        grid.unit: [format_usd(u) for u in levels["usd"]],
        "From price": [f"{d:+.2f}%" for d in levels["distance_pct"]],
        "Whole cluster": [f"{format_usd(u)} over {format_price(a)} – {format_price(b)}"
                          for u, a, b in zip(levels["cluster_usd"], levels["cluster_low"], levels["cluster_high"])],
    })
    st.table(table.set_index("Price band"))


def downloads(ctx: PageContext, grid: DisplayGrid, levels: pd.DataFrame, params: ModelParams,
              price_range: tuple[float, float]) -> None:
    """Key levels and the grid as CSV (both per display band) and the model used. The picture's
    PNG is the component's own "Download PNG" button: it draws what the user sees."""
    market = ctx.market
    st.subheader("Downloads")
    st.download_button("Key levels (CSV)", lambda: to_csv_bytes(levels), "key_levels.csv", "text/csv",
                       icon=":material/table:", on_click="ignore")
    st.download_button("Heatmap grid (CSV)", lambda: to_csv_bytes(grid_table(grid, price_range)), "heatmap_grid.csv",
                       "text/csv", icon=":material/grid_on:", on_click="ignore")
    st.caption("The picture as an image: **Download PNG** above it (what you see: side, highlight and zoom).")
    st.caption(f"Model: {ctx.model_label}; leverage {describe_leverage(params.weights)}; "
               f"long share {params.long_share:.0%}. {describe_margin(params, market.symbol)}")


def market_data(ctx: PageContext) -> None:
    """Price and open interest of the window (drawn on request: the chart library is not needed
    to read the heatmap, so the page does not load it up front), and how to read the page (written
    when its box is opened)."""
    market = ctx.market
    if market.window_start is not None:  # draw the window, not the model's memory before it
        market = market.window(start=market.window_start)
    if st.toggle("Show the market data: price and open interest", key="heatmap_market_data"):
        show(market_chart(market, width=MARKET_WIDTH), width="content")
    st.caption(f"{len(market.candles):,} candles; open interest known for {market.open_interest.notna().mean():.0%} "
               "of them. " + (market.provenance or ""))
    # Its text is built only while the box is open (opening it reruns the page): a long list the
    # browser would otherwise render, hidden, on every fresh page before the picture (issue 15).
    how = st.expander("How to read this", key=HOW_TO_READ_KEY, on_change="rerun")
    if how.open:
        how.markdown(HOW_TO_READ)
