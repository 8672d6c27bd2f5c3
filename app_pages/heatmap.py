"""Heatmap page: where leveraged positions would be liquidated, over time and now."""

from __future__ import annotations

import streamlit as st

from core.charts import default_view_range
from core.grid import key_levels
from core.grid import plain_reading
from ui.cache import heatmap
from ui.context import page_context
from ui.sections import heatmap as section

ctx = page_context()
view, market = ctx.view, ctx.market

st.title(f"{ctx.coin} liquidation heatmap")
st.caption(f"{ctx.where} · {market.timeframe} candles · {ctx.span} · **a model estimate**: no exchange publishes "
           "where positions would be liquidated; this shows where the model puts them.")
section.controls(ctx)
st.page_link("app_pages/sensitivity.py", label="How much each assumption moves this picture: "
             "Leverage sensitivity", icon=":material/tune:")

params = ctx.params
hm = heatmap(ctx.loaded.markets, params)
if hm.long.shape[1] == 0:
    st.warning("No candles in this window.")
    st.stop()
profile = hm.profile()
levels = key_levels(hm, 8)
price_range = default_view_range(hm, margin=view.zoom / 100)
for note in hm.notes:
    if "proxy" in note:
        st.info(note, icon=":material/info:")
st.markdown(f"**Reading:** {plain_reading(profile, levels)}")

section.heatmap_and_profile(hm, profile, levels, view, price_range)
section.near_price(profile)
left, right = st.columns([3, 2])
with left:
    section.levels_table(levels)
with right:
    section.downloads(ctx, hm, levels, params, price_range)
section.market_data(ctx)
