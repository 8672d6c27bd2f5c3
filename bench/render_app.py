"""A one-chart Streamlit app for bench_page.py: the same random grid drawn as Vega-Lite rects or as a raster.

Query parameters: mode=rect|raster, rows, cols.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core.charts import heatmap_chart
from core.grid import Heatmap

params = st.query_params
mode = params.get("mode", "raster")
rows = min(int(params.get("rows", "200")), 1000)
cols = min(int(params.get("cols", "288")), 5000)
rng = np.random.default_rng(0)
grid = rng.exponential(1.0, (rows, cols))
times = pd.date_range("2026-01-01", periods=cols, freq="5min", tz="UTC")
edges = np.linspace(80_000, 90_000, rows + 1)
if mode == "rect":
    t, p = np.meshgrid(np.arange(cols), np.arange(rows))
    frame = pd.DataFrame({"t0": times[t.ravel()], "t1": times[t.ravel()] + pd.Timedelta(minutes=5),
                          "p0": edges[p.ravel()], "p1": edges[p.ravel() + 1], "v": grid.ravel()})
    chart = alt.Chart(frame).mark_rect().encode(
        x="t0:T", x2="t1:T", y=alt.Y("p0:Q", scale=alt.Scale(zero=False)), y2="p1:Q",
        color=alt.Color("v:Q", scale=alt.Scale(scheme="inferno")), tooltip=["v:Q"],
    ).properties(width=760, height=460)
else:
    close = np.full(cols, 85_000.0)
    hm = Heatmap(times=times, price_edges=edges, long=grid, short=np.zeros_like(grid), liquidated_long=np.zeros(cols),
                 liquidated_short=np.zeros(cols), open=close, high=close + 10, low=close - 10, close=close,
                 volume=np.ones(cols), timeframe="5m")
    chart = heatmap_chart(hm, price_range=(80_000, 90_000))
alt.data_transformers.disable_max_rows()
st.altair_chart(chart, key="bench_chart")
st.caption("rendered")
