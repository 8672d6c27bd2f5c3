"""Sections of the heatmap page (app_pages/heatmap.py): display controls, the map with its
liquidation profile, near-price figures, key levels and downloads."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core.charts import colour_legend, heatmap_chart, market_chart, profile_chart, render_raster
from core.charts import chart_png, grid_frame, to_csv_bytes
from core.format import format_price, format_usd
from core.grid import Heatmap, Profile
from core.grid import nearby_table
from core.model import ModelParams, describe_margin
from core.viewstate import View
from ui.context import PageContext
from ui.state import KEYS

# Sized to fit a 1440-pixel-wide window beside the sidebar.
HEATMAP_WIDTH, PROFILE_WIDTH = 620, 190
SIDE_LABELS = {"both": "Longs + shorts", "long": "Longs only", "short": "Shorts only"}
HOW_TO_READ = """
- **Bright bands** are prices where the model estimates many leveraged positions would be force-closed.
  Brighter = more USD. Dark = little or nothing.
- **Longs** are liquidated when price *falls* to their level, so long clusters sit **below** the price;
  **shorts** are liquidated when price *rises*, so they sit **above**.
- A band **ends** where price traded through it: those positions were liquidated (or the model assumes so).
- The **white line** is the price. The **bars on the right** are the liquidation map now: USD per price band,
  with dashed cumulative curves (how much a move to that price would liquidate in total).
- Price tends to be drawn to big clusters (liquidations are forced market orders that push price further),
  but this is an **estimate** built from open interest and assumed leverage, not exchange data.
  See *How it works* for the formulas.
"""


def controls(ctx: PageContext) -> None:
    """Side, brightness and zoom (bound to ``ui.state.VIEW``), and which assumptions draw the map."""
    with st.container(border=True):
        c1, c2, c3, c4 = st.columns([1.3, 1.2, 1.2, 2.7])
        c1.radio("Show", tuple(SIDE_LABELS), key=KEYS["side"], format_func=SIDE_LABELS.get, horizontal=False)
        c2.slider("Brightness (clip at percentile)", 80.0, 100.0, key=KEYS["clip"], step=0.5,
                  help="Colours saturate at this percentile of the non-empty cells: lower it to make clusters pop.")
        c3.slider("Price range shown (± % around the window)", 1.0, 25.0, key=KEYS["zoom"], step=0.5)
        c4.markdown(f"**Model:** {ctx.model_label}")
        c4.caption(f"Leverage {', '.join(f'{k}x {v:.0%}' for k, v in ctx.params.weights.items())}; long share "
                   f"{ctx.params.long_share:.0%}. Every assumption is in the sidebar, shared by all pages.")


def heatmap_and_profile(hm: Heatmap, profile: Profile, levels: pd.DataFrame, view: View,
                        price_range: tuple[float, float]) -> None:
    """The heatmap, the liquidation map of the last candle beside it, and the colour legend."""
    raster = render_raster(hm, view.side, view.clip, price_range)
    chart = alt.vconcat(
        alt.hconcat(
            heatmap_chart(hm, view.side, view.clip, price_range, levels=levels.head(4), raster=raster, width=HEATMAP_WIDTH),
            profile_chart(profile, price_range, width=PROFILE_WIDTH),
            spacing=6,
        ).resolve_scale(y="shared", color="independent"),
        colour_legend(raster.vmax, width=HEATMAP_WIDTH),
        spacing=4,
    ).resolve_scale(color="independent", x="independent")
    st.altair_chart(chart, key="heatmap_chart", width="content")


def near_price(profile: Profile) -> None:
    """USD within ±2/5/10% of the price, by side, and their imbalance."""
    near = nearby_table(profile)
    for col, row in zip(st.columns(len(near)), near.itertuples()):
        with col.container(border=True):
            pct = row.within.lstrip("±")
            a, b = st.columns(2)
            a.metric(f"Longs −{pct}", format_usd(row.long_usd), help=f"Estimated long USD a {pct} fall would liquidate")
            b.metric(f"Shorts +{pct}", format_usd(row.short_usd), help=f"Estimated short USD a {pct} rise would liquidate")
            heavier = "shorts" if row.imbalance > 0 else "longs"
            st.caption(f"Imbalance {row.imbalance:+.0%} ({heavier} heavier) · price {format_price(profile.price)}")


def levels_table(levels: pd.DataFrame) -> None:
    """The key levels: band, side, USD and distance from the price."""
    st.subheader("Key levels")
    table = levels.assign(
        band=[f"{format_price(a)} – {format_price(b)}" for a, b in zip(levels["price_low"], levels["price_high"])],
        side=levels["side"].map({"long": "Longs", "short": "Shorts"}),
        amount=[format_usd(u) for u in levels["usd"]],
    )[["band", "side", "amount", "distance_pct"]]
    st.dataframe(table, hide_index=True, column_config={
        "band": "Price band",
        "side": "Side",
        "amount": "Est. USD",
        "distance_pct": st.column_config.NumberColumn("From price", format="%+.2f%%"),
    })


def downloads(ctx: PageContext, hm: Heatmap, levels: pd.DataFrame, params: ModelParams,
              price_range: tuple[float, float]) -> None:
    """Key levels and the grid as CSV, the chart as PNG, and the model used."""
    view, market = ctx.view, ctx.market
    st.subheader("Downloads")
    st.download_button("Key levels (CSV)", lambda: to_csv_bytes(levels), "key_levels.csv", "text/csv",
                       icon=":material/table:", on_click="ignore")
    st.download_button("Heatmap grid (CSV)", lambda: to_csv_bytes(grid_frame(hm, price_range)), "heatmap_grid.csv",
                       "text/csv", icon=":material/grid_on:", on_click="ignore")
    title = f"{ctx.coin} {ctx.where} {market.timeframe} liquidation heatmap (model estimate)"
    st.download_button("Chart (PNG)", lambda: chart_png(hm, view.side, view.clip, price_range, levels.head(4), title=title),
                       "liquidation_heatmap.png", "image/png", icon=":material/image:", on_click="ignore")
    st.caption(f"Model: {', '.join(f'{k}x {v:.0%}' for k, v in params.weights.items())}; "
               f"long share {params.long_share:.0%}. {describe_margin(params, market.symbol)}")


def market_data(ctx: PageContext) -> None:
    """Price and open interest of the window, in an expander."""
    market = ctx.market
    if market.window_start is not None:  # draw the window, not the model's memory before it
        market = market.window(start=market.window_start)
    with st.expander("Market data: price and open interest"):
        st.altair_chart(market_chart(market, width=HEATMAP_WIDTH + PROFILE_WIDTH), width="content")
        st.caption(f"{len(market.candles):,} candles; open interest known for {market.open_interest.notna().mean():.0%} "
                   "of them. " + (market.provenance or ""))
    with st.expander("How to read this"):
        st.markdown(HOW_TO_READ)
