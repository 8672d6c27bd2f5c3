"""The data view: price candles over open interest (no Streamlit).

Open interest is drawn as a neutral line with a light area down to the bottom of its own range
(not filled from $0 in a side's colour: it is both sides' positions, and a fill from $0 squeezes
a 3% change into a flat line).
"""

from __future__ import annotations

import altair as alt
import numpy as np

from core.charts.axes import AXIS_FONT, DOLLAR_LABEL
from core.charts.raster import group_edges
from core.constants import PRICE_COLOR
from core.data.market import MarketData

OI_COLOR = "#9aa4b2"  # neutral grey-blue: neither the longs' blue nor the shorts' orange
MAX_POINTS = 1500


def oi_domain(oi: np.ndarray, pad: float = 0.1) -> list[float] | None:
    """[low, high] of the open interest padded by ``pad`` of its range (None when none is known)."""
    known = oi[np.isfinite(oi)]
    if known.size == 0:
        return None
    lo, hi = float(known.min()), float(known.max())
    spread = (hi - lo) or abs(hi) * 0.01 or 1.0
    return [max(lo - pad * spread, 0.0), hi + pad * spread]


def market_chart(market: MarketData, width: int | str = "container") -> alt.VConcatChart:
    """Price (close line with each period's high-low range) over open interest (USD), at most
    MAX_POINTS periods; ``width`` in pixels or "container"."""
    edges = group_edges(len(market.candles), MAX_POINTS)
    c = market.candles
    groups = np.repeat(np.arange(len(edges) - 1), np.diff(edges))
    thin = c.groupby(groups).agg(high=("high", "max"), low=("low", "min"), close=("close", "last"))
    thin["time"] = c.index[edges[1:] - 1]
    thin["oi"] = market.open_interest.groupby(groups).last().to_numpy()
    x = alt.X("time:T", title=None, axis=alt.Axis(format="%d %b %H:%M", labelFontSize=AXIS_FONT))
    band = alt.Chart(thin).mark_area(opacity=0.35, color=PRICE_COLOR).encode(
        x=x, y=alt.Y("low:Q", scale=alt.Scale(zero=False), title="Price (USD)"), y2=alt.Y2("high:Q"))
    close = alt.Chart(thin).mark_line(color=PRICE_COLOR, strokeWidth=1.2).encode(
        x=x, y=alt.Y("close:Q"),
        tooltip=[alt.Tooltip("time:T", format="%d %b %H:%M"), alt.Tooltip("close:Q", format=",.1f")])
    price = alt.layer(band, close, width=width, height=260, title="Price (close, with each period's high-low range)")
    known = thin.dropna(subset=["oi"])
    domain = oi_domain(known["oi"].to_numpy(dtype="float64"))
    y = alt.Y("oi:Q", title="Open interest (USD)",
              scale=alt.Scale(domain=domain, zero=False, nice=False) if domain else alt.Scale(zero=False),
              axis=alt.Axis(format="$.3s", labelExpr=DOLLAR_LABEL, labelFontSize=AXIS_FONT, tickCount=4))
    tips = [alt.Tooltip("time:T", format="%d %b %H:%M"), alt.Tooltip("oi:Q", format="$,.0f", title="Open interest")]
    base = alt.Chart(known).encode(x=x, y=y, tooltip=tips)
    oi_chart = alt.layer(
        base.mark_area(color=OI_COLOR, opacity=0.15, clip=True).encode(y2=alt.Y2Datum(domain[0] if domain else 0)),
        base.mark_line(color=OI_COLOR, strokeWidth=1.5),
        width=width, height=140, title="Open interest (both sides' open positions)",
    )
    return alt.vconcat(price, oi_chart)
