"""Heatmap page: where leveraged positions would be liquidated, over time and now."""

from __future__ import annotations

import altair as alt
import streamlit as st

from core.charts import (
    chart_png,
    colour_legend,
    default_view_range,
    grid_frame,
    heatmap_chart,
    market_chart,
    profile_chart,
    render_raster,
    to_csv_bytes,
)
from core.format import format_price, format_usd
from core.grid import key_levels, nearby_table, plain_reading
from core.model import LEVERAGE_MIXES, MIX_LABELS, describe_margin, mix_params
from ui import state
from ui.context import page_context
from ui.data import heatmap_for

# Sized to fit a 1440-pixel-wide window beside the sidebar.
HEATMAP_WIDTH, PROFILE_WIDTH = 620, 190
SIDE_LABELS = {"both": "Longs + shorts", "long": "Longs only", "short": "Shorts only"}

ctx = page_context()
loaded, market, view, coin, where = ctx.loaded, ctx.market, ctx.view, ctx.coin, ctx.where

st.title(f"{coin} liquidation heatmap")
st.caption(
    f"{where} · {market.timeframe} candles · {market.candles.index[0]:%d %b %H:%M} – "
    f"{market.candles.index[-1]:%d %b %H:%M} UTC · **a model estimate**: no exchange publishes where positions "
    "would be liquidated; this shows where the model puts them."
)

with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([1.3, 1.2, 1.2, 1.5, 1.2])
    c1.radio("Show", tuple(SIDE_LABELS), key=state.KEYS["side"], format_func=SIDE_LABELS.get, horizontal=False)
    c2.slider("Brightness (clip at percentile)", 80.0, 100.0, key=state.KEYS["clip"], step=0.5,
              help="Colours saturate at this percentile of the non-empty cells: lower it to make clusters pop.")
    c3.slider("Price range shown (± % around the window)", 1.0, 25.0, key=state.KEYS["zoom"], step=0.5)
    c4.selectbox("Leverage mix", tuple(LEVERAGE_MIXES), key=state.KEYS["mix"], format_func=MIX_LABELS.get,
                          help="How new positions are spread over 5x..100x leverage.")
    c5.slider("Long share of new positions", 0.0, 1.0, key=state.KEYS["ls"], step=0.05)

st.page_link("app_pages/sensitivity.py", label="Every other assumption (maintenance margin, entry price, decay…) "
             "and how much each one moves this picture: Leverage sensitivity", icon=":material/tune:")
params = mix_params(view.mix, long_share=view.ls)
hm = heatmap_for(loaded, params)
if hm.long.shape[1] == 0:
    st.warning("No candles in this window.")
    st.stop()
profile = hm.profile()
levels = key_levels(hm, 8)
lo, hi = default_view_range(hm, margin=view.zoom / 100)
price_range = (lo, hi)

for note in hm.notes:
    if "proxy" in note:
        st.info(note, icon=":material/info:")

reading = plain_reading(profile, levels)
st.markdown(f"**Reading:** {reading}")

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

near = nearby_table(profile)
for col, row in zip(st.columns(len(near)), near.itertuples()):
    with col.container(border=True):
        pct = row.within.lstrip("±")
        a, b = st.columns(2)
        a.metric(f"Longs −{pct}", format_usd(row.long_usd), help=f"Estimated long USD a {pct} fall would liquidate")
        b.metric(f"Shorts +{pct}", format_usd(row.short_usd), help=f"Estimated short USD a {pct} rise would liquidate")
        heavier = "shorts" if row.imbalance < 0 else "longs"
        st.caption(f"Imbalance {row.imbalance:+.0%} ({heavier} heavier) · price {format_price(profile.price)}")

left, right = st.columns([3, 2])
with left:
    st.subheader("Key levels")
    table = levels.assign(
        band=[f"{format_price(a)} – {format_price(b)}" for a, b in zip(levels["price_low"], levels["price_high"])],
        side=levels["side"].map({"long": "Longs", "short": "Shorts"}),
        amount=[format_usd(u) for u in levels["usd"]],
    )[["band", "side", "amount", "distance_pct"]]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "band": "Price band",
            "side": "Side",
            "amount": "Est. USD",
            "distance_pct": st.column_config.NumberColumn("From price", format="%+.2f%%"),
        },
    )
with right:
    st.subheader("Downloads")
    st.download_button("Key levels (CSV)", lambda: to_csv_bytes(levels), "key_levels.csv", "text/csv",
                       icon=":material/table:", on_click="ignore")
    st.download_button("Heatmap grid (CSV)", lambda: to_csv_bytes(grid_frame(hm, price_range)), "heatmap_grid.csv",
                       "text/csv", icon=":material/grid_on:", on_click="ignore")
    st.download_button("Chart (PNG)", lambda: chart_png(hm, view.side, view.clip, price_range, levels.head(4),
                                                        title=f"{coin} {where} {market.timeframe} liquidation heatmap (model estimate)"),
                       "liquidation_heatmap.png", "image/png", icon=":material/image:", on_click="ignore")
    st.caption(f"Model: {', '.join(f'{k}x {v:.0%}' for k, v in params.weights.items())}; "
               f"long share {params.long_share:.0%}. {describe_margin(params, market.symbol)}")

with st.expander("Market data: price and open interest"):
    st.altair_chart(market_chart(market, width=HEATMAP_WIDTH + PROFILE_WIDTH), width="content")
    st.caption(f"{len(market.candles):,} candles; open interest known for {market.open_interest.notna().mean():.0%} of them. "
               + (market.provenance or ""))

with st.expander("How to read this"):
    st.markdown(
        """
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
    )
