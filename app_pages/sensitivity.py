"""Leverage sensitivity: how much of the picture is the leverage assumption?

Every assumption of the model is a control in the sidebar; the page compares the map they give
with the default model's (the calibrated v2, ``DEFAULT_PRESET``): side by side on one colour scale,
as a difference, in numbers, and as one assumption sweeps its range. The state lives in the link (``ui.state.MODEL``).
"""

from __future__ import annotations

import streamlit as st

from core.charts import default_view_range
from core.model import DEFAULT_PRESET, model_params
from core.grid import comparison_axis, comparison_bins, describe_change, map_reach_pct, summary_deltas
from ui.cache import heatmap
from ui.context import page_context
from ui.sections import sensitivity as section

ctx = page_context()
loaded, market, view = ctx.loaded, ctx.market, ctx.view
chosen = ctx.model  # the shared assumptions, edited in the sidebar (app.py)

st.title("Leverage sensitivity")
st.markdown(
    "**What this page shows.** No exchange publishes where positions would be liquidated: every liquidation "
    "heatmap rests on assumptions, above all how much leverage traders use. Change them in the sidebar under "
    "**Model: Edit the assumptions** (on a phone: open the menu, top left; they are shared by every page) and "
    "compare your picture "
    f"with the default model's ({DEFAULT_PRESET}). If the big clusters barely move, the picture does not hang on that assumption; if "
    "they jump, read it with care."
)

params, default_params = chosen.to_model(), model_params(DEFAULT_PRESET)
axis = comparison_axis(loaded.markets, margin=view.zoom / 100)
bins = comparison_bins(max(len(m.candles) for m in loaded.markets))
default_hm = heatmap(loaded.markets, default_params, bins, axis)
chosen_hm = heatmap(loaded.markets, params, bins, axis)
if chosen.model == "v1" and chosen.shares is None:
    st.warning("All leverage weights are 0: the default leverage mix is used.", icon=":material/warning:")
if default_hm.oi_proxy:
    st.info("This market has no open-interest history: both models estimate new positions from traded volume.",
            icon=":material/info:")

deltas = summary_deltas(default_hm, chosen_hm)
st.markdown(f"**Your assumptions: {ctx.model_label}.** {describe_change(deltas)}")
section.metrics(deltas, map_reach_pct(chosen_hm))
section.pictures(loaded, default_params, params, bins, axis, default_hm, chosen_hm,
                 default_view_range(default_hm, margin=view.zoom / 100))
section.sweep_section(loaded, chosen, params, axis, bins)

with st.expander("How to read this page"):
    st.markdown(section.HOW_TO_READ)
st.caption(f"{ctx.where} · {market.timeframe} candles · {ctx.span} · a model estimate.")
