"""Heatmap page: where leveraged positions would be liquidated, over time and now."""

from __future__ import annotations

import streamlit as st

from core.charts import default_view_range
from core.grid import plain_reading
from core.model.levels import PROXY_NOTE_START
from ui.cache import heatmap
from ui.context import page_context
from ui.sections import heatmap as section

ctx = page_context()
view, market = ctx.view, ctx.market

st.title(f"{ctx.coin} liquidation heatmap")
st.caption(f"{ctx.where} · {market.timeframe} candles · {ctx.span} · model: {ctx.model_label} · **a model "
           "estimate**: no exchange publishes where positions would be liquidated; this shows where the model puts them.")

hm = heatmap(ctx.loaded.markets, ctx.params)
if hm.long.shape[1] == 0:
    st.warning("No candles in this window.")
    st.stop()
grid, levels = section.display(ctx, hm)
price_range = default_view_range(hm, margin=view.zoom / 100)
section.picture(ctx, grid, levels, price_range)

profile = grid.profile()
for note in hm.notes:  # one box: the model's own word on the volume proxy (the data notes say it too)
    if note.startswith(PROXY_NOTE_START):
        st.info(note, icon=":material/info:")
st.markdown(f"**Reading:** {plain_reading(profile, levels)}")
section.near_price(profile)
left, right = st.columns([3, 2])
with left:
    section.levels_table(levels, grid)
with right:
    section.downloads(ctx, grid, levels, ctx.params, price_range)
st.page_link("app_pages/sensitivity.py", label="How much each assumption moves this picture: "
             "Leverage sensitivity", icon=":material/tune:")
section.market_data(ctx)
