"""Altair chart builders of the heatmap page (no Streamlit): the heatmap raster with overlays, its
colour legend, the liquidation map (profile) and the data view.

The heatmap is drawn at the screen's resolution (``core.charts.raster``), and vector layers go on
top (price line, key levels, a coarse invisible grid that carries the hover tooltips). A 30-day 1m
window therefore sends one image of about 1200 x 400 pixels and a few thousand tooltip cells,
never 43,200 columns.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.charts.axes import AXIS_FONT, DOLLAR_LABEL
from core.charts.colours import ember_hex
from core.charts.raster import Raster, block_mean, default_view_range, group_edges, render_raster, visible_rows
from core.constants import LONG_COLOR, PRICE_COLOR, SHORT_COLOR, candle_length
from core.format import format_price, format_price_bands, format_usd
from core.grid.bands import HIGHLIGHT_DEFAULT
from core.grid.types import Heatmap, Profile

# Hover fields of the heatmap and their titles (field names without dots: Vega reads a dot as a path).
TOOLTIP_FIELDS = {"time_txt": "Time (UTC)", "band_txt": "Price band", "long_txt": "Longs (est.)", "short_txt": "Shorts (est.)"}


def tooltip_cells(
    hm: Heatmap, price_range: tuple[float, float] | None, n_time: int = 72, n_price: int = 48
) -> pd.DataFrame:
    """A coarse grid of hover cells: time span, price band, mean long and short USD in the cell."""
    rows = visible_rows(hm, price_range)
    edges = hm.price_edges[rows.start : rows.stop + 1]
    r_edges = group_edges(len(edges) - 1, n_price)
    c_edges = group_edges(len(hm.times), n_time)
    # Sum over the bands of a cell (USD in that price span), mean over its candles.
    longs = block_mean(hm.long[rows], r_edges, c_edges) * np.diff(r_edges)[:, None]
    shorts = block_mean(hm.short[rows], r_edges, c_edges) * np.diff(r_edges)[:, None]
    step = candle_length(hm.timeframe, hm.times)
    t_start = hm.times[c_edges[:-1]]
    t_end = hm.times[c_edges[1:] - 1] + step
    p_lo = edges[r_edges[:-1]]
    p_hi = edges[r_edges[1:]]
    ii, jj = np.meshgrid(np.arange(len(p_lo)), np.arange(len(t_start)), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    frame = pd.DataFrame(
        {
            "t0": t_start[jj],
            "t1": t_end[jj],
            "p0": p_lo[ii],
            "p1": p_hi[ii],
            "long_usd": longs[ii, jj],
            "short_usd": shorts[ii, jj],
        }
    )
    fmt = np.vectorize(format_usd, otypes=[object])
    # Each time span and price band is written once, then repeated for its cells.
    time_txt = np.array([f"{a:%d %b %H:%M} – {b:%H:%M}" for a, b in zip(t_start, t_end)], dtype=object)
    band_txt = np.array(format_price_bands(p_lo, p_hi), dtype=object)
    frame["time_txt"] = time_txt[jj]
    frame["band_txt"] = band_txt[ii]
    frame["long_txt"] = fmt(frame["long_usd"])
    frame["short_txt"] = fmt(frame["short_usd"])
    return frame


def price_path(hm: Heatmap, max_points: int = 1500) -> pd.DataFrame:
    """Close prices thinned to at most ``max_points`` (each kept point is a group's last close)."""
    edges = group_edges(len(hm.times), max_points)
    idx = edges[1:] - 1
    step = candle_length(hm.timeframe, hm.times)
    return pd.DataFrame({"time": hm.times[idx] + step, "close": hm.close[idx]})


def heatmap_chart(
    hm: Heatmap,
    side: str = "both",
    price_range: tuple[float, float] | None = None,
    levels: pd.DataFrame | None = None,
    *,
    highlight: float = HIGHLIGHT_DEFAULT,
    width: int = 760,
    height: int = 460,
    max_cols: int = 1200,
    raster: Raster | None = None,
) -> alt.LayerChart:
    """Time x price heatmap (raster), close-price line, key levels, and hover tooltips.

    Pass ``raster`` (from ``render_raster`` with the same arguments) to reuse one already drawn.
    """
    price_range = price_range or default_view_range(hm)
    raster = raster or render_raster(hm, side, price_range, highlight=highlight, max_cols=max_cols,
                                     max_rows=min(height, 500))
    x_scale = alt.Scale(domain=[raster.x0.isoformat(), raster.x1.isoformat()], nice=False)
    y_scale = alt.Scale(domain=[raster.y0, raster.y1], nice=False, zero=False)
    x_axis = alt.Axis(title=None, format="%d %b %H:%M", labelFontSize=AXIS_FONT, grid=False)
    y_axis = alt.Axis(title="Price (USD)", format=",.0f", labelFontSize=AXIS_FONT, grid=False)

    image = (
        alt.Chart(pd.DataFrame({"url": [raster.data_url], "t0": [raster.x0], "t1": [raster.x1],
                                "p0": [raster.y0], "p1": [raster.y1]}))
        .mark_image(aspect=False)
        .encode(
            x=alt.X("t0:T", scale=x_scale, axis=x_axis),
            x2=alt.X2("t1:T"),
            y=alt.Y("p0:Q", scale=y_scale, axis=y_axis),
            y2=alt.Y2("p1:Q"),
            url=alt.Url("url:N"),
        )
    )
    cells = tooltip_cells(hm, price_range)
    hover = (
        alt.Chart(cells[["t0", "t1", "p0", "p1", *TOOLTIP_FIELDS]])
        .mark_rect(opacity=0.0, fill="white")
        .encode(
            x=alt.X("t0:T", scale=x_scale),
            x2=alt.X2("t1:T"),
            y=alt.Y("p0:Q", scale=y_scale),
            y2=alt.Y2("p1:Q"),
            tooltip=[alt.Tooltip(f, title=t) for f, t in TOOLTIP_FIELDS.items()],
        )
    )
    line = (
        alt.Chart(price_path(hm))
        .mark_line(color=PRICE_COLOR, strokeWidth=1.3)
        .encode(x=alt.X("time:T", scale=x_scale), y=alt.Y("close:Q", scale=y_scale))
    )
    layers: list[alt.Chart] = [image, hover, line]
    if levels is not None and len(levels):
        lv = levels.assign(
            label=[f"{format_usd(u)} {s}s @ {format_price(p)}" for u, s, p in zip(levels["usd"], levels["side"], levels["price"])],
            color=[LONG_COLOR if s == "long" else SHORT_COLOR for s in levels["side"]],
        )
        lv = lv[(lv["price"] >= raster.y0) & (lv["price"] <= raster.y1)]
        rule = alt.Chart(lv).mark_rule(strokeDash=[4, 3], strokeWidth=1).encode(
            y=alt.Y("price:Q", scale=y_scale), color=alt.Color("color:N", scale=None)
        )
        text = alt.Chart(lv).mark_text(align="left", dx=4, dy=-6, fontSize=10).encode(
            x=alt.XValue(2), y=alt.Y("price:Q", scale=y_scale), text=alt.Text("label:N"),
            color=alt.Color("color:N", scale=None),
        )
        layers += [rule, text]
    return alt.layer(*layers, width=width, height=height)


def colour_legend(vmax: float, width: int = 760) -> alt.Chart:
    """A horizontal gradient bar: the ember scale from $0 to the top of the colour scale."""
    steps = np.linspace(0, vmax, 64)
    frame = pd.DataFrame({"usd": steps, "next": np.append(steps[1:], vmax * 1.0001)})
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("usd:Q", axis=alt.Axis(title="Estimated liquidation notional per band (USD); brightest = top of scale",
                                           format="$.2s", labelExpr=DOLLAR_LABEL, labelFontSize=AXIS_FONT)),
            x2=alt.X2("next:Q"),
            color=alt.Color("usd:Q", scale=alt.Scale(range=ember_hex(9), domain=[0, vmax]), legend=None),
        )
        .properties(width=width, height=14)
    )


def profile_frame(profile: Profile, price_range: tuple[float, float] | None = None, max_rows: int = 160) -> pd.DataFrame:
    """The liquidation map as rows (band, side, USD, cumulative), rebinned to at most ``max_rows``."""
    edges = profile.price_edges
    lo, hi = price_range or (edges[0], edges[-1])
    keep = (edges[1:] > lo) & (edges[:-1] < hi)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return pd.DataFrame(columns=["p0", "p1", "long_usd", "short_usd", "cum_long", "cum_short"])
    sl = slice(idx[0], idx[-1] + 1)
    r_edges = group_edges(idx.size, max_rows)
    sub_edges = edges[sl.start : sl.stop + 1]
    sums = lambda a: np.add.reduceat(a[sl], r_edges[:-1])  # noqa: E731 (USD in each coarse band)
    mids = (sub_edges[r_edges[:-1]] + sub_edges[r_edges[1:]]) / 2
    cum_l = np.interp(mids, profile.centers, profile.cum_long)
    cum_s = np.interp(mids, profile.centers, profile.cum_short)
    return pd.DataFrame(
        {
            "p0": sub_edges[r_edges[:-1]],
            "p1": sub_edges[r_edges[1:]],
            "long_usd": sums(profile.long),
            "short_usd": sums(profile.short),
            "cum_long": np.where(mids <= profile.price, cum_l, np.nan),
            "cum_short": np.where(mids >= profile.price, cum_s, np.nan),
        }
    )


def profile_chart(
    profile: Profile, price_range: tuple[float, float] | None = None, width: int = 240, height: int = 460
) -> alt.LayerChart:
    """Liquidation map at one candle: bars by price band (longs below, shorts above), cumulative curves."""
    frame = profile_frame(profile, price_range)
    lo, hi = price_range or (float(profile.price_edges[0]), float(profile.price_edges[-1]))
    y_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    fprice = np.vectorize(format_price, otypes=[object])
    fusd = np.vectorize(format_usd, otypes=[object])
    bars = frame.melt(id_vars=["p0", "p1"], value_vars=["long_usd", "short_usd"], var_name="side", value_name="usd")
    bars = bars[bars["usd"] > 0].assign(
        side=lambda f: f["side"].map({"long_usd": "Longs", "short_usd": "Shorts"}),
        band=lambda f: fprice(f["p0"]) + " – " + fprice(f["p1"]),
        amount=lambda f: fusd(f["usd"]),
    )
    colour = alt.Color("side:N", scale=alt.Scale(domain=["Longs", "Shorts"], range=[LONG_COLOR, SHORT_COLOR]),
                       legend=alt.Legend(orient="bottom", title=None))
    bar = alt.Chart(bars).mark_rect().encode(
        x=alt.X("usd:Q", title="USD per band", axis=alt.Axis(format="$.2s", labelExpr=DOLLAR_LABEL, labelFontSize=AXIS_FONT, tickCount=3)),
        x2=alt.X2Value(0),
        y=alt.Y("p0:Q", scale=y_scale, axis=alt.Axis(title=None, format=",.0f", orient="right", labelFontSize=AXIS_FONT)),
        y2=alt.Y2("p1:Q"),
        color=colour,
        tooltip=[alt.Tooltip("band:N", title="Price band"), alt.Tooltip("side:N", title="Side"),
                 alt.Tooltip("amount:N", title="USD (est.)")],
    )
    cum = frame.melt(id_vars=["p0", "p1"], value_vars=["cum_long", "cum_short"], var_name="side", value_name="cum")
    cum = cum.dropna().assign(
        mid=lambda f: (f["p0"] + f["p1"]) / 2,
        side=lambda f: f["side"].map({"cum_long": "Longs", "cum_short": "Shorts"}),
    )
    curve = alt.Chart(cum).mark_line(strokeWidth=1.5, strokeDash=[2, 2]).encode(
        x=alt.X("cum:Q", title="Cumulative USD (dashed)", axis=alt.Axis(format="$.2s", labelExpr=DOLLAR_LABEL, orient="top", labelFontSize=AXIS_FONT, tickCount=3)),
        y=alt.Y("mid:Q", scale=y_scale),
        color=colour,
        order=alt.Order("mid:Q"),
    )
    price = alt.Chart(pd.DataFrame({"price": [profile.price], "label": [f"now {format_price(profile.price)}"]}))
    rule = price.mark_rule(color=PRICE_COLOR, strokeWidth=1.2).encode(y=alt.Y("price:Q", scale=y_scale))
    label = price.mark_text(color=PRICE_COLOR, align="right", dx=-2, dy=-6, fontSize=10).encode(
        x=alt.XValue(width), y=alt.Y("price:Q", scale=y_scale), text=alt.Text("label:N")
    )
    return alt.layer(bar, curve, rule, label, width=width, height=height,
                     resolve=alt.Resolve(scale=alt.ScaleResolveMap(x="independent")))

