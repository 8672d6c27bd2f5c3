"""Charts for the cascade replay page (no Streamlit): the heatmap growing up to a replay time with
the liquidation map beside it, the model's liquidations and the real volume per period, detected
cascades, and the what-if cascade path.

A replay frame must be cheap, so the replay chart is split in two:

* a **template** (``replay_template``): the Vega-Lite spec, built once per data and view with
  Altair, whose layers read *named* datasets; every axis and scale is fixed to the whole window, so
  the heatmap visibly grows from left to right and bars never rescale while it plays;
* the **frame** (``replay_frame``): the few small tables those datasets hold at candle ``t`` (the
  raster of columns 0..t, the price path, the bars, the liquidation map at ``t``).

``replay_spec(template, frame)`` joins them. A frame costs a few milliseconds (one PNG of at most
``REPLAY_MAX_COLS`` x ``REPLAY_MAX_ROWS`` cells and a few hundred rows), and the browser only swaps
the data, not the chart. Times in the datasets are epoch milliseconds (UTC scales throughout).
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from core.cascade import CascadeResult
from core.charts import (
    AXIS_FONT, DOLLAR_LABEL, Raster, block_mean, colour_legend, ember_rgba, group_edges, profile_frame, raster_of,
    side_grid, visible_rows,
)
from core.constants import LONG_COLOR, PRICE_COLOR, SHORT_COLOR, timeframe_delta
from core.format import format_price, format_usd
from core.grid import Heatmap, Profile

#: Frame resolution: enough for a ~800 px wide chart, small enough to encode in a few ms.
REPLAY_MAX_COLS = 600
REPLAY_MAX_ROWS = 300
#: Most bars in the flow panels; the bar span is the shortest of ``BAR_SPANS`` that fits.
MAX_BARS = 200
BAR_SPANS: tuple[pd.Timedelta, ...] = tuple(
    pd.Timedelta(s) for s in ("1min", "5min", "15min", "30min", "1h", "2h", "4h", "12h", "1D")
)
#: Most points of the price path (each a group's last close).
PATH_POINTS = 600
#: Rows of the liquidation map beside the replay (as on the heatmap page).
PROFILE_ROWS = 120
CASCADE_FILL = "#e6e6e6"
REPLAY_COLOR = "#7cd992"  # the replay-time marker: green, apart from longs, shorts and the price
VOLUME_COLOR = "#9aa4b8"
KEPT_LONG, KEPT_SHORT = "#4a5670", "#6e5f50"  # levels the what-if cascade did not reach (muted)
STOP_COLOR = "#ff5c5c"
#: Vega label expression turning d3's SI "G" (giga) into the trader's "B" (billion).
#: The same without the minus sign (the liquidation panel draws longs below zero, in positive USD).
UNSIGNED_DOLLAR_LABEL = "replace(replace(datum.label, '−', ''), 'G', 'B')"
LEFT_AXIS = 70  # fixed y-axis width (px) so the stacked panels share one time axis
SIDE_NAMES = {"long": "Longs", "short": "Shorts"}
DATASETS: tuple[str, ...] = ("image", "path", "now", "flows", "volume", "map_bars", "map_cum", "map_price")


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def candle_step(hm: Heatmap) -> pd.Timedelta:
    """Length of one candle of ``hm`` (the median spacing when the timeframe is not a standard one)."""
    try:
        return timeframe_delta(hm.timeframe)
    except ValueError:
        if len(hm.times) < 2:
            return pd.Timedelta(minutes=1)
        return pd.Timedelta(int(np.median(np.diff(hm.times.as_unit("ns").asi8))))


def replay_index(times: pd.DatetimeIndex, moment) -> int:
    """Position of the last candle opening at or before ``moment`` (0 when it is before them all).

    ``moment`` may be naive (read as UTC, as a time slider returns it) or timezone-aware.
    """
    if len(times) == 0:
        raise ValueError("no candles")
    ts = pd.Timestamp(moment)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    pos = int(np.searchsorted(pd.DatetimeIndex(times).as_unit("ns").asi8, ts.as_unit("ns").value, side="right")) - 1
    return min(max(pos, 0), len(times) - 1)


def slider_time(times: pd.DatetimeIndex, t: int):
    """Candle ``t``'s open time as a naive UTC ``datetime`` (what a time slider holds)."""
    return times[t].tz_convert("UTC").tz_localize(None).to_pydatetime()


def frame_step(step: pd.Timedelta, market_per_second: pd.Timedelta, fps: float) -> int:
    """Candles to advance per frame so that ``market_per_second`` of market time plays each second."""
    if fps <= 0 or step <= pd.Timedelta(0):
        raise ValueError("fps and the candle length must be positive")
    return max(1, int(round(market_per_second / step / fps)))


def bar_span(hm: Heatmap, max_bars: int = MAX_BARS) -> pd.Timedelta:
    """The shortest of ``BAR_SPANS`` (at least one candle) that splits the window into <= ``max_bars``."""
    step = candle_step(hm)
    window = (hm.times[-1] - hm.times[0]) + step if len(hm.times) else step
    for span in BAR_SPANS:
        if span >= step and window / span <= max_bars:
            return span
    return BAR_SPANS[-1]


def span_words(span: pd.Timedelta) -> str:
    """A bar span in words: "15 min", "1 h", "1 d"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


def _ms(times) -> np.ndarray:
    """Epoch milliseconds of UTC timestamps (what the datasets carry)."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8 // 1_000_000


# --------------------------------------------------------------------------------------------
# Frame data (pure numpy / pandas)
# --------------------------------------------------------------------------------------------


def replay_raster(
    hm: Heatmap,
    t: int,
    vmax: float,
    price_range: tuple[float, float] | None = None,
    side: str = "both",
    max_cols: int = REPLAY_MAX_COLS,
    max_rows: int = REPLAY_MAX_ROWS,
) -> Raster:
    """The heatmap's candles 0..``t`` coloured on a fixed scale [0, ``vmax``] into one PNG.

    Columns are grouped as for the whole window (``group_edges(T, max_cols)``) and cut at ``t``:
    the last group holds only the candles up to ``t`` (no look-ahead), and every earlier pixel
    column is the same in every frame. ``vmax`` should come from the whole window (e.g.
    ``render_raster(...).vmax``) so colours do not shift as the replay advances.
    """
    n = len(hm.times)
    if not 0 <= t < n:
        raise IndexError(f"candle {t} is out of range for {n} candles")
    rows = visible_rows(hm, price_range)
    grid = side_grid(hm, side)[rows, : t + 1]
    full = group_edges(n, max_cols)
    c_edges = np.append(full[full < t + 1], t + 1)
    r_edges = group_edges(grid.shape[0], max_rows)
    cells = block_mean(grid, r_edges, c_edges)
    return raster_of(hm, rows, ember_rgba(cells, vmax), vmax, upto=t)


def period_flows(hm: Heatmap, t: int | None = None, max_bars: int = MAX_BARS) -> pd.DataFrame:
    """Per period (``bar_span``) up to candle ``t`` (default: all): the model's liquidated long and
    short USD and the real traded volume in USD (volume x close), summed over the period's candles.

    Returns
    -------
    pandas.DataFrame
        Columns t0, t1 (period start and end, UTC; the last period ends at candle ``t``'s close),
        long_usd, short_usd, volume_usd.
    """
    last = len(hm.times) - 1 if t is None else t
    span = bar_span(hm, max_bars)
    times = hm.times[: last + 1].as_unit("ns")
    keys = times.floor(span).asi8
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    t0 = pd.DatetimeIndex(keys[starts]).tz_localize("UTC")
    t1 = np.minimum(t0 + span, times[-1] + candle_step(hm))

    def sums(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.nan_to_num(np.asarray(values[: last + 1], dtype=float)), starts)

    return pd.DataFrame({
        "t0": t0, "t1": t1,
        "long_usd": sums(hm.liquidated_long), "short_usd": sums(hm.liquidated_short),
        "volume_usd": sums(hm.volume * hm.close),
    })


def _flow_rows(flows: pd.DataFrame) -> pd.DataFrame:
    """Bars of the liquidation panel: longs drawn downwards (negative), shorts upwards."""
    parts = []
    for side, column, sign in (("Longs", "long_usd", -1.0), ("Shorts", "short_usd", 1.0)):
        f = flows[flows[column] > 0]
        parts.append(pd.DataFrame({
            "t0": _ms(f["t0"]), "t1": _ms(f["t1"]), "side": side, "signed": sign * f[column].to_numpy(),
            "when": f["t0"].dt.strftime("%d %b %H:%M").to_numpy(), "amount": [format_usd(v) for v in f[column]],
        }))
    return pd.concat(parts, ignore_index=True)


def _volume_rows(flows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "t0": _ms(flows["t0"]), "t1": _ms(flows["t1"]), "usd": flows["volume_usd"].to_numpy(),
        "when": flows["t0"].dt.strftime("%d %b %H:%M").to_numpy(),
        "amount": [format_usd(v) for v in flows["volume_usd"]],
    })


def _map_rows(profile: Profile, price_range: tuple[float, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bars and cumulative curves of the liquidation map (``core.charts.profile_frame``)."""
    frame = profile_frame(profile, price_range, max_rows=PROFILE_ROWS)
    bars = []
    cums = []
    for side, usd, cum in (("Longs", "long_usd", "cum_long"), ("Shorts", "short_usd", "cum_short")):
        b = frame[frame[usd] > 0]
        bars.append(pd.DataFrame({
            "p0": b["p0"].to_numpy(), "p1": b["p1"].to_numpy(), "side": side, "usd": b[usd].to_numpy(),
            "band": [f"{format_price(a)} – {format_price(c)}" for a, c in zip(b["p0"], b["p1"])],
            "amount": [format_usd(v) for v in b[usd]],
        }))
        c = frame.dropna(subset=[cum])
        cums.append(pd.DataFrame({"mid": ((c["p0"] + c["p1"]) / 2).to_numpy(), "side": side, "cum": c[cum].to_numpy()}))
    return pd.concat(bars, ignore_index=True), pd.concat(cums, ignore_index=True)


def moment_summary(hm: Heatmap, t: int) -> str:
    """One line about candle ``t``: price at its close, the move since the window began, and what
    the model liquidated in it and so far."""
    close_time = hm.times[t] + candle_step(hm)
    change = hm.close[t] / hm.open[0] - 1.0
    so_far_long = float(hm.liquidated_long[: t + 1].sum())
    so_far_short = float(hm.liquidated_short[: t + 1].sum())
    return (
        f"{close_time:%d %b %H:%M} UTC: price {format_price(hm.close[t])} ({change:+.1%} since the window began). "
        f"Liquidated in this candle (model): {format_usd(hm.liquidated_long[t])} longs, "
        f"{format_usd(hm.liquidated_short[t])} shorts; so far {format_usd(so_far_long)} / {format_usd(so_far_short)}"
    )


@dataclass(frozen=True)
class ReplayLayout:
    """What stays fixed while the replay plays: axes, scales, shading and sizes."""

    t_start: int  # epoch ms of the first open
    t_end: int  # epoch ms of the last close
    price_range: tuple[float, float]
    vmax: float
    span: pd.Timedelta
    liq_top: float  # largest long or short USD of one period
    volume_top: float
    map_top: float  # largest USD of one map band over the window
    cum_top: float  # largest cumulative USD of the map over the window
    windows: pd.DataFrame  # detected cascades: start, end (ms), rank, summary
    width: int = 640
    height: int = 380
    map_width: int = 210


def cascade_windows(cascades: pd.DataFrame) -> pd.DataFrame:
    """Detected cascades as shaded windows: start and end (epoch ms), rank label ("#1"), summary."""
    return pd.DataFrame({
        "start": _ms(cascades["start"]), "end": _ms(cascades["end"]),
        "rank": [f"#{i + 1}" for i in range(len(cascades))],
        "lane": [3 + 15 * (i % 2) for i in range(len(cascades))],  # pixel row of the label (neighbours apart)
        "summary": cascades["summary"].astype(str).to_numpy(),
    })


def replay_layout(
    hm: Heatmap,
    price_range: tuple[float, float],
    vmax: float,
    cascades: pd.DataFrame,
    width: int = 640,
    height: int = 380,
    max_bars: int = MAX_BARS,
) -> ReplayLayout:
    """The fixed frame of a replay of ``hm``: whole-window axes and the largest values of each panel."""
    flows = period_flows(hm, None, max_bars)
    rows = visible_rows(hm, price_range)
    r_edges = group_edges(rows.stop - rows.start, PROFILE_ROWS)
    band_usd = np.add.reduceat(np.maximum(hm.long[rows], hm.short[rows]), r_edges[:-1], axis=0)
    totals = np.maximum(hm.long[rows].sum(axis=0), hm.short[rows].sum(axis=0))
    return ReplayLayout(
        t_start=int(_ms(hm.times[:1])[0]),
        t_end=int(_ms(hm.times[-1:] + candle_step(hm))[0]),
        price_range=(float(price_range[0]), float(price_range[1])),
        vmax=float(vmax),
        span=bar_span(hm, max_bars),
        liq_top=float(max(flows["long_usd"].max(), flows["short_usd"].max(), 1.0)),
        volume_top=float(max(flows["volume_usd"].max(), 1.0)),
        map_top=float(max(band_usd.max(initial=0.0), 1.0)),
        cum_top=float(max(totals.max(initial=0.0), 1.0)),
        windows=cascade_windows(cascades),
        width=width,
        height=height,
    )


def replay_frame(hm: Heatmap, t: int, layout: ReplayLayout, max_bars: int = MAX_BARS) -> dict[str, pd.DataFrame]:
    """The datasets of the replay chart at candle ``t`` (see ``DATASETS``): only what is known at
    the close of candle ``t``."""
    step = candle_step(hm)
    raster = replay_raster(hm, t, layout.vmax, layout.price_range)
    image = pd.DataFrame({"url": [raster.data_url], "t0": _ms(hm.times[:1]), "t1": _ms(hm.times[t : t + 1] + step),
                          "p0": [raster.y0], "p1": [raster.y1]})
    idx = group_edges(t + 1, PATH_POINTS)[1:] - 1
    path = pd.DataFrame({"time": _ms(hm.times[idx] + step), "close": hm.close[idx]})
    close_time = hm.times[t] + step
    now = pd.DataFrame({"time": _ms(hm.times[t : t + 1] + step), "close": [float(hm.close[t])],
                        "label": [format_price(hm.close[t])], "when": [f"{close_time:%d %b %H:%M} UTC"]})
    flows = period_flows(hm, t, max_bars)
    map_bars, map_cum = _map_rows(hm.profile(t), layout.price_range)
    return {
        "image": image, "path": path, "now": now, "flows": _flow_rows(flows), "volume": _volume_rows(flows),
        "map_bars": map_bars, "map_cum": map_cum,
        "map_price": pd.DataFrame({"price": [float(hm.close[t])], "label": [f"price {format_price(hm.close[t])}"]}),
    }


def replay_spec(template: dict, frame: dict[str, pd.DataFrame]) -> dict:
    """The template with this frame's datasets added to its own (the template is not modified)."""
    return {**template, "datasets": {**template.get("datasets", {}), **frame}}


# --------------------------------------------------------------------------------------------
# The replay template (Altair, built once per data and view)
# --------------------------------------------------------------------------------------------


def _x(layout: ReplayLayout, field: str = "t0", axis: bool | None = None) -> alt.X:
    """The shared time channel: ``axis`` True draws the time axis with labels, False without labels,
    None leaves the axis and the scale to the one layer of the panel that sets them."""
    if axis is None:
        return alt.X(f"{field}:T")
    scale = alt.Scale(type="utc", domain=[layout.t_start, layout.t_end], nice=False)
    return alt.X(f"{field}:T", scale=scale, axis=alt.Axis(title=None, format="%d %b %H:%M", labelFontSize=AXIS_FONT,
                                                           grid=False, labelOverlap=True, labels=axis, ticks=axis))


def _left_axis(title: str, fmt: str, **kw) -> alt.Axis:
    return alt.Axis(title=title, format=fmt, labelFontSize=AXIS_FONT, minExtent=LEFT_AXIS, maxExtent=LEFT_AXIS, **kw)


def _shading(layout: ReplayLayout, labels: bool) -> list[alt.Chart]:
    if layout.windows.empty:
        return []
    base = alt.Chart(layout.windows)
    layers: list[alt.Chart] = [
        base.mark_rect(color=CASCADE_FILL, opacity=0.12).encode(
            x=_x(layout, "start"), x2="end:T",
            tooltip=[alt.Tooltip("rank:N", title="Detected cascade"), alt.Tooltip("summary:N", title="What happened")],
        )
    ]
    if labels:
        layers.append(
            base.mark_text(color=CASCADE_FILL, align="left", baseline="top", dx=3, fontSize=12, fontWeight="bold")
            .encode(x=_x(layout, "start"), y=alt.Y("lane:Q", scale=None), text="rank:N")
        )
    return layers


def _side_colour() -> alt.Color:
    """Longs blue, shorts orange (no legend: the panels say it in words)."""
    return alt.Color("side:N", scale=alt.Scale(domain=["Longs", "Shorts"], range=[LONG_COLOR, SHORT_COLOR]),
                     legend=None)


def _replay_rule(layout: ReplayLayout) -> alt.Chart:
    return alt.Chart(alt.NamedData("now")).mark_rule(color=REPLAY_COLOR, strokeWidth=1.5).encode(x=_x(layout, "time"))


def _heatmap_panel(layout: ReplayLayout) -> alt.LayerChart:
    y = alt.Scale(domain=list(layout.price_range), nice=False, zero=False)
    image = alt.Chart(alt.NamedData("image")).mark_image(aspect=False).encode(
        x=_x(layout, "t0", axis=True), x2="t1:T",
        y=alt.Y("p0:Q", scale=y, axis=_left_axis("Price (USD)", ",.0f", grid=False)), y2="p1:Q",
        url="url:N",
    )
    line = alt.Chart(alt.NamedData("path")).mark_line(color=PRICE_COLOR, strokeWidth=1.4).encode(
        x=_x(layout, "time"), y=alt.Y("close:Q", scale=y)
    )
    now = alt.Chart(alt.NamedData("now"))
    dot = now.mark_point(color=PRICE_COLOR, filled=True, size=50, opacity=1).encode(
        x=_x(layout, "time"), y=alt.Y("close:Q", scale=y),
        tooltip=[alt.Tooltip("when:N", title="Replay time"), alt.Tooltip("label:N", title="Price")],
    )
    label = now.mark_text(color=PRICE_COLOR, align="left", dx=7, dy=-9, fontSize=12, fontWeight="bold").encode(
        x=_x(layout, "time"), y=alt.Y("close:Q", scale=y), text="label:N"
    )
    layers = [image, *_shading(layout, labels=True), line, _replay_rule(layout), dot, label]
    return alt.layer(*layers).properties(
        width=layout.width, height=layout.height,
        title=alt.TitleParams("Liquidation heatmap up to the replay time (model estimate)", anchor="start", fontSize=13),
    )


def _map_panel(layout: ReplayLayout) -> alt.LayerChart:
    y = alt.Scale(domain=list(layout.price_range), nice=False, zero=False)
    colour = _side_colour()
    bars = alt.Chart(alt.NamedData("map_bars")).mark_rect().encode(
        x=alt.X("usd:Q", title="USD per band", scale=alt.Scale(domain=[0, layout.map_top]),
                axis=alt.Axis(format="$.2s", labelFontSize=AXIS_FONT, tickCount=3, labelExpr=DOLLAR_LABEL)),
        x2=alt.datum(0),
        y=alt.Y("p0:Q", scale=y, axis=alt.Axis(title=None, format=",.0f", orient="right", labelFontSize=AXIS_FONT)),
        y2="p1:Q", color=colour,
        tooltip=[alt.Tooltip("band:N", title="Price band"), alt.Tooltip("side:N", title="Side"),
                 alt.Tooltip("amount:N", title="USD (est.)")],
    )
    cum = alt.Chart(alt.NamedData("map_cum")).mark_line(strokeWidth=1.5, strokeDash=[2, 2]).encode(
        x=alt.X("cum:Q", title="Cumulative (dashed)", scale=alt.Scale(domain=[0, layout.cum_top]),
                axis=alt.Axis(format="$.2s", orient="top", labelFontSize=AXIS_FONT, tickCount=3,
                              labelExpr=DOLLAR_LABEL)),
        y=alt.Y("mid:Q", scale=y), color=colour, order="mid:Q",
    )
    price = alt.Chart(alt.NamedData("map_price"))
    rule = price.mark_rule(color=PRICE_COLOR, strokeWidth=1.2).encode(y=alt.Y("price:Q", scale=y))
    label = price.mark_text(color=PRICE_COLOR, align="right", dx=-2, dy=-7, fontSize=11).encode(
        x=alt.value(layout.map_width), y=alt.Y("price:Q", scale=y), text="label:N"
    )
    return alt.layer(bars, cum, rule, label).resolve_scale(x="independent").properties(
        width=layout.map_width, height=layout.height,
        title=alt.TitleParams("Liquidation map at the replay time", anchor="start", fontSize=13,
                              subtitle="orange: shorts · blue: longs", subtitleColor="#aaa"),
    )


def _flows_panel(layout: ReplayLayout) -> alt.LayerChart:
    top = layout.liq_top * 1.08
    y = alt.Scale(domain=[-top, top], nice=False)
    colour = _side_colour()
    bars = alt.Chart(alt.NamedData("flows")).mark_rect().encode(
        x=_x(layout, "t0", axis=False), x2="t1:T",
        y=alt.Y("signed:Q", scale=y, axis=_left_axis(f"Liquidated / {span_words(layout.span)}", "$.2s", tickCount=4,
                                                      labelExpr=UNSIGNED_DOLLAR_LABEL)),
        y2=alt.datum(0), color=colour,
        tooltip=[alt.Tooltip("when:N", title="Period from (UTC)"), alt.Tooltip("side:N", title="Liquidated (model)"),
                 alt.Tooltip("amount:N", title="USD (est.)")],
    )
    notes = alt.Chart(pd.DataFrame({"y": [top * 0.8, -top * 0.8], "side": ["Shorts", "Longs"],
                                    "text": ["▲ shorts liquidated (price up)", "▼ longs liquidated (price down)"]}))
    text = notes.mark_text(align="left", baseline="middle", dx=6, fontSize=10).encode(
        x=alt.value(0), y=alt.Y("y:Q", scale=y), text="text:N", color=colour
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#777", strokeWidth=0.6).encode(
        y=alt.Y("y:Q", scale=y)
    )
    layers = [*_shading(layout, labels=False), bars, zero, text, _replay_rule(layout)]
    return alt.layer(*layers).properties(
        width=layout.width, height=130,
        title=alt.TitleParams("Model: positions liquidated (longs down, shorts up)", anchor="start", fontSize=12),
    )


def _volume_panel(layout: ReplayLayout) -> alt.LayerChart:
    y = alt.Scale(domain=[0, layout.volume_top * 1.05], nice=False)
    bars = alt.Chart(alt.NamedData("volume")).mark_rect(color=VOLUME_COLOR, opacity=0.85).encode(
        x=_x(layout, "t0", axis=True), x2="t1:T",
        y=alt.Y("usd:Q", scale=y, axis=_left_axis(f"Traded / {span_words(layout.span)}", "$.2s", tickCount=3,
                                                   labelExpr=DOLLAR_LABEL)),
        y2=alt.datum(0),
        tooltip=[alt.Tooltip("when:N", title="Period from (UTC)"), alt.Tooltip("amount:N", title="Traded (real)")],
    )
    layers = [*_shading(layout, labels=False), bars, _replay_rule(layout)]
    return alt.layer(*layers).properties(
        width=layout.width, height=80,
        title=alt.TitleParams("Real traded volume (volume × price), for comparison", anchor="start", fontSize=12),
    )


def replay_template(layout: ReplayLayout) -> dict:
    """The replay chart's Vega-Lite spec without its frame data (fill it with ``replay_spec``).

    Top: the heatmap up to the replay time (price path, replay-time line, shaded detected
    cascades) with the liquidation map at the replay time beside it; below, on the same time axis,
    the model's liquidated USD per period (longs down, shorts up) and the real traded volume.
    """
    top = alt.hconcat(_heatmap_panel(layout), _map_panel(layout), spacing=12)
    legend = colour_legend(layout.vmax, width=layout.width).properties(height=10)
    chart = alt.vconcat(top, legend, _flows_panel(layout), _volume_panel(layout), spacing=14)
    return chart.resolve_scale(color="independent").configure_view(strokeWidth=0).to_dict()


# --------------------------------------------------------------------------------------------
# What-if
# --------------------------------------------------------------------------------------------


def whatif_range(result: CascadeResult, margin_pct: float = 1.5) -> tuple[float, float]:
    """Price range that frames the start, every step and the final price, plus ``margin_pct``."""
    prices = [result.start_price, result.final_price, *result.steps["price"].tolist()]
    lo, hi = min(prices), max(prices)
    return lo * (1 - margin_pct / 100), hi * (1 + margin_pct / 100)


def swept_frame(
    profile: Profile, result: CascadeResult, price_range: tuple[float, float], max_rows: int = 120
) -> pd.DataFrame:
    """The liquidation map's bands in ``price_range`` (rebinned to at most ``max_rows``), split into
    what the cascade liquidated and what it left.

    Returns columns p0, p1, side ("Longs" / "Shorts"), swept_usd, kept_usd.
    """
    edges = profile.price_edges
    lo, hi = price_range
    idx = np.flatnonzero((edges[1:] > lo) & (edges[:-1] < hi))
    if idx.size == 0:
        return pd.DataFrame(columns=["p0", "p1", "side", "swept_usd", "kept_usd"])
    sl = slice(idx[0], idx[-1] + 1)
    r_edges = group_edges(idx.size, max_rows)
    sub = edges[sl.start : sl.stop + 1]
    parts = []
    for side, before, after in (("Longs", profile.long, result.remaining_long),
                                ("Shorts", profile.short, result.remaining_short)):
        after = np.asarray(after, dtype=float)
        parts.append(pd.DataFrame({
            "p0": sub[r_edges[:-1]], "p1": sub[r_edges[1:]], "side": side,
            "swept_usd": np.add.reduceat((before - after)[sl], r_edges[:-1]),
            "kept_usd": np.add.reduceat(after[sl], r_edges[:-1]),
        }))
    return pd.concat(parts, ignore_index=True)


def step_label(liquidated_usd: float, total_move_pct: float, step: int) -> str:
    """What one step of the cascade did, in a few words."""
    head = "shock" if step == 0 else f"step {step}"
    if liquidated_usd > 0:
        return f"{head}: {total_move_pct:+.1f}%, {format_usd(liquidated_usd)} liquidated"
    return f"{head}: {total_move_pct:+.1f}%, nothing new"


def whatif_chart(profile: Profile, result: CascadeResult, height: int = 360) -> alt.HConcatChart:
    """The cascade path on the price axis, beside the liquidation map it ran through.

    Left: the map at the chosen moment; levels the cascade liquidated in full colour, the rest
    muted. Right: the price after each step (start, the shock, then each round of forced orders),
    labelled with the USD liquidated. Dashed lines: where the price starts and where it stops.
    """
    price_range = whatif_range(result)
    y = alt.Scale(domain=list(price_range), nice=False, zero=False)
    y_axis = alt.Axis(title="Price (USD)", format=",.0f", labelFontSize=AXIS_FONT)
    swept = swept_frame(profile, result, price_range)
    bars = swept.melt(id_vars=["p0", "p1", "side"], value_vars=["swept_usd", "kept_usd"], var_name="state",
                      value_name="usd")
    bars = bars[bars["usd"] > 0]
    bars = bars.assign(
        kind=np.where(bars["state"] == "swept_usd", bars["side"] + " liquidated", bars["side"] + " not reached"),
        band=[f"{format_price(a)} – {format_price(b)}" for a, b in zip(bars["p0"], bars["p1"])],
        amount=[format_usd(v) for v in bars["usd"]],
    )
    kinds = ["Longs liquidated", "Shorts liquidated", "Longs not reached", "Shorts not reached"]
    colour = alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=[LONG_COLOR, SHORT_COLOR, KEPT_LONG, KEPT_SHORT]),
                       legend=alt.Legend(orient="bottom", title=None, columns=2))
    profile_bars = alt.Chart(bars).mark_bar().encode(
        x=alt.X("sum(usd):Q", title="Liquidation levels, USD per band (model)",
                axis=alt.Axis(format="$.2s", labelFontSize=AXIS_FONT, tickCount=4, labelExpr=DOLLAR_LABEL)),
        y=alt.Y("p0:Q", scale=y, axis=y_axis), y2="p1:Q",
        color=colour, order=alt.Order("state:N", sort="descending"),
        tooltip=[alt.Tooltip("band:N", title="Price band"), alt.Tooltip("kind:N", title="Levels"),
                 alt.Tooltip("amount:N", title="USD (est.)")],
    )
    marks = pd.DataFrame({
        "price": [result.start_price, result.final_price],
        "label": [f"start {format_price(result.start_price)}", f"stops at {format_price(result.final_price)}"],
        "colour": [PRICE_COLOR, STOP_COLOR],
    })
    rules = alt.Chart(marks).mark_rule(strokeDash=[5, 3], strokeWidth=1.2).encode(
        y=alt.Y("price:Q", scale=y), color=alt.Color("colour:N", scale=None)
    )
    left = alt.layer(profile_bars, rules).properties(width=320, height=height,
                                                     title=alt.TitleParams("Levels swept", anchor="start", fontSize=13))

    n = len(result.steps)
    liquidated = (result.steps["liquidated_long_usd"] + result.steps["liquidated_short_usd"]).to_numpy()
    path = pd.DataFrame({
        "x": np.arange(-1, n),
        "price": [result.start_price, *result.steps["price"]],
        "label": ["start " + format_price(result.start_price)] + [
            step_label(usd, move, step)
            for usd, move, step in zip(liquidated, result.steps["total_move_pct"], result.steps["step"])
        ],
    })
    path["price_txt"] = [format_price(p) for p in path["price"]]
    # Written beside the path: the start, the shock and the steps that liquidated 15% of the total or
    # more (the small tail of steps bunches up near the stop; hovering a point says what it did).
    big = np.r_[True, True, liquidated[1:] >= 0.15 * max(liquidated.sum(), 1e-9)]
    above = path["x"].to_numpy() % 2 == 0  # labels alternate above and below the path, so neighbours never collide
    path["above"] = np.where(big & above, path["label"], "")
    path["below"] = np.where(big & ~above, path["label"], "")
    x = alt.X("x:Q", title="Start, the shock, then each round of forced orders",
              scale=alt.Scale(domain=[-1.4, max(n - 1, 1) + 1.6], nice=False),
              axis=alt.Axis(values=list(range(-1, n)), labelFontSize=AXIS_FONT, grid=False,
                            labelExpr="datum.value < 0 ? 'start' : datum.value == 0 ? 'shock' : 'step ' + datum.value"))
    base = alt.Chart(path).encode(x=x, y=alt.Y("price:Q", scale=y, axis=y_axis))
    line = base.mark_line(color=PRICE_COLOR, interpolate="step-after", strokeWidth=1.6)
    dots = base.mark_point(filled=True, size=70, color=PRICE_COLOR, opacity=1).encode(
        tooltip=[alt.Tooltip("label:N", title="What happens"), alt.Tooltip("price_txt:N", title="Price")]
    )
    text_above = base.mark_text(align="left", dx=8, dy=-10, fontSize=11, color="#d8d8d8").encode(text="above:N")
    text_below = base.mark_text(align="left", dx=8, dy=13, fontSize=11, color="#d8d8d8").encode(text="below:N")
    stop_text = alt.Chart(marks.iloc[1:]).mark_text(align="right", dy=-6, fontSize=11, color=STOP_COLOR).encode(
        x=alt.value(440), y=alt.Y("price:Q", scale=y), text="label:N"
    )
    right = alt.layer(rules, line, dots, text_above, text_below, stop_text).properties(
        width=440, height=height, title=alt.TitleParams("Cascade path", anchor="start", fontSize=13)
    )
    return alt.hconcat(left, right, spacing=14).resolve_scale(color="independent").configure_view(strokeWidth=0)
