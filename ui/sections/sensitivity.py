"""Sections of the leverage-sensitivity page (app_pages/sensitivity.py): the figures of the shared
assumptions against the default model, the two maps and their difference, and the sweep of one
assumption (its choices are part of ``ui.state.MODEL``; the assumptions' editor is
ui/sections/assumptions.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.format import format_usd
from core.grid import Heatmap
from core.model import DEFAULT_PRESET, ModelParams
from core.charts import (
    compared_heatmap_chart,
    difference_chart,
    difference_legend,
    profile_comparison_chart,
    shared_legend,
    signed_usd,
    sweep_panels,
)
from core.sensitivity_state import WITHIN_CHOICES, SensitivityState, sweep_base
from core.sensitivity_sweeps import SWEEPS, current_value, sweep_values
from ui.cache import compared, sweep_metrics
from ui.charts import show, show_in
from ui.controls import highlight_slider
from ui.data import Loaded, exchange_label
from ui.state import MODEL

CHART_W, CHART_H = 440, 320  # two pictures side by side beside the sidebar at 1440 px
SWEEP_W = 390
LEGEND_H = 64
DEFAULT_TITLE = f"Default model: {DEFAULT_PRESET}"
HOW_TO_READ = f"""
- **{DEFAULT_TITLE}** is the app's default: leverage on a ladder from 2x to 125x (median 10x), entries
  spread over each candle's range, 10% of open interest turning over per hour, fitted to real liquidations
  (see "Where these assumptions come from" in the sidebar). **Your assumptions** is the same market under the
  settings in the sidebar; pick "Reference v1" there to compare MODEL.md's model with it.
- Brighter = more USD would be liquidated at that price. Both heatmaps use **one colour scale**;
  **Highlight** (shared with the heatmap page) lowers its top, so more of both maps reaches full brightness.
- **What changed**: magenta where your assumptions put *more* liquidations than the default model, green where
  they put *fewer*; dark means no change.
- **Liquidation map now**: coloured bars are yours (longs blue, below the price; shorts orange, above it);
  white outlines are the default model's.
- Higher leverage puts liquidation prices **closer to the price**: a 100x position is closed by a move of
  about 1%, a 5x position by about 20%.
"""


def metrics(deltas: pd.DataFrame, reach: dict[str, float]) -> None:
    """Near-price USD and the nearest big clusters under your assumptions, with the change vs default
    (``reach``: how far the map goes above and below the price, ``core.grid.map_reach_pct``)."""
    for col, pct in zip(st.columns(3), ("2", "5", "10")):
        with col.container(border=True):
            a, b = st.columns(2)
            for box, side, sign in ((a, "long", "−"), (b, "short", "+")):
                row = deltas.loc[f"{side}_usd_{pct}pct"]
                same = format_usd(row["b"]) == format_usd(row["a"])  # no change at the precision shown
                change = "no change" if same else f"{signed_usd(row['delta'])}" + (
                    f" ({row['delta_pct']:+.0f}%)" if pd.notna(row["delta_pct"]) else "")
                box.metric(f"{side.title()}s {sign}{pct}%", format_usd(row["b"]), change, delta_color="off",
                           delta_arrow="off" if same else "auto",
                           help=f"{side.title()}s within {sign}{pct}% of the price: estimated {side} USD a {pct}% "
                                f"{'fall' if side == 'long' else 'rise'} would liquidate "
                                f"(default model: {format_usd(row['a'])}).")
    c1, c2, c3 = st.columns(3)
    for box, side in ((c1, "above"), (c2, "below")):
        row = deltas.loc[f"cluster_{side}_pct"]
        value = f"{row['b']:.2f}%" if pd.notna(row["b"]) else f"none within {_reach(side, reach)}"
        change = f"{round(row['delta'], 2) + 0.0:+.2f} pts" if pd.notna(row["delta"]) else None  # no "-0.00"
        change = "no change" if change == "+0.00 pts" else change
        box.metric(f"Nearest big cluster {side}", value, change, delta_color="off", border=True,
                   delta_arrow="off" if change == "no change" else "auto",
                   help=f"Distance from the price to the nearest of the 10 biggest clusters {side} it "
                        f"(default model: {_distance(row['a'], side, reach)}).")
    imb = deltas.loc["imbalance_5pct"]
    points = round(imb["delta"] * 50) + 0
    c3.metric("Longs' share of USD within ±5%", f"{(1 + imb['b']) / 2:.0%}", f"{points:+d} pts" if points else "no change",
              delta_color="off", border=True, delta_arrow="auto" if points else "off",
              help="Above 50%: a fall would liquidate more than a rise.")


def _reach(side: str, reach: dict[str, float]) -> str:
    """How far the map goes on a side: "+30%" above, "−30%" below."""
    return f"{'+' if side == 'above' else '−'}{reach[side]:.0f}%"


def _distance(pct: float, side: str, reach: dict[str, float]) -> str:
    """A nearest-cluster distance in words: "3.42%", or "no big cluster above within +30%"."""
    return f"{pct:.2f}%" if pd.notna(pct) else f"no big cluster {side} within {_reach(side, reach)}"


def _differs(a: Heatmap, b: Heatmap) -> bool:
    """True when two maps on one price axis differ by a dollar or more in some band."""
    return any(float(np.max(np.abs(x - y), initial=0.0)) >= 1.0 for x, y in ((a.long, b.long), (a.short, b.short)))


def pictures(loaded: Loaded, default_params: ModelParams, params: ModelParams, bins: int, axis: tuple[float, float],
             default_hm: Heatmap, chosen_hm: Heatmap, price_range: tuple[float, float]) -> None:
    """The shared Highlight; default and chosen heatmaps (``default_params``, ``params`` on ``bins``
    bands over ``axis``) on one colour scale; the difference; the liquidation maps now."""
    highlight = highlight_slider(st.columns([1, 2])[0])
    drawn = compared(loaded.ids, default_params, params, bins, axis, price_range, highlight, (CHART_W, CHART_H),
                     default_hm, chosen_hm)
    left, right = st.columns(2)
    for col, hm, raster, hover, title in ((left, default_hm, drawn.rasters[0], drawn.cells[0], DEFAULT_TITLE),
                                          (right, chosen_hm, drawn.rasters[1], drawn.cells[1], "Your assumptions")):
        col.markdown(f"##### {title}")
        show_in(col, compared_heatmap_chart(hm, raster, hover, CHART_W, CHART_H), width="stretch")
    show(shared_legend(drawn.rasters[0].vmax, CHART_W), width="stretch", height=LEGEND_H)
    left, right = st.columns(2)
    left.markdown("##### What changed: yours minus default")
    show_in(left, difference_chart(chosen_hm, drawn.difference, drawn.difference_cells, CHART_W, CHART_H),
            width="stretch")
    if _differs(chosen_hm, default_hm):
        show_in(left, difference_legend(drawn.difference.vmax, CHART_W), width="stretch", height=LEGEND_H)
    else:
        left.caption("No change: your assumptions put the same USD in every band as the default model.")
    right.markdown("##### Liquidation map now")
    show_in(right, profile_comparison_chart(chosen_hm.profile(), default_hm.profile(), price_range,
                                                CHART_W - 60, CHART_H), width="stretch")


def sweep_section(loaded: Loaded, chosen: SensitivityState, params: ModelParams, axis: tuple[float, float],
                   bins: int) -> None:
    """Pick one assumption and a price move; plot the metrics across the assumption's range."""
    st.subheader("Sweep one assumption")
    st.caption("Keep everything else as set in the sidebar and move one assumption across its whole range: "
               "flat curves mean the picture does not depend on it. The ringed points are your current setting.")
    a, b = st.columns([2, 1])
    a.selectbox("Assumption to sweep", tuple(SWEEPS), key=MODEL.widget_keys["sw"], format_func=lambda k: SWEEPS[k].label)
    b.select_slider("Price move (±)", WITHIN_CHOICES, key=MODEL.widget_keys["sx"], format_func=lambda x: f"{x:g}%")
    base = sweep_base(chosen.sw, params)
    values = sweep_values(chosen.sw, base)
    frame = sweep_metrics(loaded.ids, base, SWEEPS[chosen.sw].field, values, float(chosen.sx), axis, bins, loaded.primary)
    # fit-x: the column stretches the panel's width, never squeezes its height (Streamlit's default "fit"
    # packs title, axes and the two-line legend into the height and left a plot a few pixels high).
    panels = sweep_panels(frame, SWEEPS[chosen.sw], current_value(chosen.sw, base), chosen.sx, width=SWEEP_W, height=240,
                          autosize={"type": "fit-x", "contains": "padding"})
    for column, panel in zip(st.columns(2), panels):
        show_in(column, panel, width="stretch")
    if base != params:
        st.caption("This sweep uses the flat rate." if chosen.sw == "mmr" else "This sweep uses the exchange bracket table.")
    if len(loaded.markets) > 1:
        st.caption(f"The sweep uses {exchange_label(loaded.primary.exchange)} only.")
