"""Realized liquidations beside the model (no Streamlit): markers over the heatmap, per-candle bars,
the score's calibration chart and its reading in plain words.

The markers are a separate layer (``realized_layer``) composed with ``core.charts.heatmap.heatmap_chart``'s
output by ``alt.layer``; they use scales with the same domains as the heatmap's (``raster_scales``),
so Vega-Lite merges them into one shared x and y scale and the markers sit on the heatmap's axes.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.accuracy.score import Score
from core.charts.axes import ABS_DOLLAR_LABEL, AXIS_FONT
from core.charts.raster import Raster, group_edges
from core.constants import LONG_COLOR, SHORT_COLOR, candle_length
from core.format import format_price, format_usd
from core.grid.types import Heatmap

SIDE_LABELS: dict[str, str] = {"long": "Longs liquidated", "short": "Shorts liquidated"}
SIDE_COLOURS: dict[str, str] = {"long": LONG_COLOR, "short": SHORT_COLOR}
SOURCE_LABELS: dict[str, str] = {"realized": "Realized", "model": "Model", "baseline": "Move x OI"}
MARKER_TOOLTIP: dict[str, str] = {"time_txt": "Time (UTC)", "price_txt": "Price", "side_txt": "Side", "usd_txt": "USD"}
MAX_MARKERS = 2_000
MAX_BARS = 360
MARKER_AREA = (16, 600)  # px^2 of the smallest and the largest marker


def _side_colour(title: str | None = None, orient: str = "bottom") -> alt.Color:
    labels = [SIDE_LABELS[s] for s in SIDE_LABELS]
    legend = alt.Legend(orient=orient, title=title, labelFontSize=AXIS_FONT)
    return alt.Color("side_txt:N", scale=alt.Scale(domain=labels, range=[SIDE_COLOURS[s] for s in SIDE_LABELS]),
                     legend=legend)


def raster_scales(raster: Raster) -> tuple[alt.Scale, alt.Scale]:
    """Time and price scales with the same domains as ``heatmap_chart`` uses for ``raster``."""
    x_scale = alt.Scale(domain=[raster.x0.isoformat(), raster.x1.isoformat()], nice=False)
    y_scale = alt.Scale(domain=[raster.y0, raster.y1], nice=False, zero=False)
    return x_scale, y_scale


def _domain(scale: alt.Scale) -> list:
    domain = scale.to_dict().get("domain")
    if not isinstance(domain, list) or len(domain) != 2:
        raise ValueError("the scale needs an explicit two-value domain")
    return domain


def realized_points(
    realized: pd.DataFrame,
    time_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    price_range: tuple[float, float] | None = None,
    max_points: int = MAX_MARKERS,
) -> pd.DataFrame:
    """Priced liquidations inside the window, the largest ``max_points`` of them, with hover text.

    Parameters
    ----------
    realized
        The realized-liquidation shape (``core.accuracy.realized.read_realized``); never modified.
    time_range, price_range
        Keep rows with ``t0 <= time < t1`` and ``p0 <= price <= p1`` (None: no limit).
    max_points
        At most this many rows (the largest by USD), so a busy file does not flood the chart.

    Returns
    -------
    pd.DataFrame
        Columns time, price, usd, side ("long"/"short"), side_txt, time_txt, price_txt, usd_txt;
        sorted by time. Rows without a price (per-minute totals) are left out.
    """
    frame = pd.DataFrame({
        "time": pd.DatetimeIndex(realized.index),
        "price": realized["price"].to_numpy(float),
        "usd": realized["usd"].to_numpy(float),
        "side": realized["side"].to_numpy(object),
    })
    keep = np.isfinite(frame["price"]) & np.isfinite(frame["usd"]) & (frame["usd"] > 0) & frame["side"].isin(SIDE_LABELS)
    if time_range is not None:
        t0, t1 = (pd.Timestamp(t) for t in time_range)
        keep &= (frame["time"] >= t0) & (frame["time"] < t1)
    if price_range is not None:
        keep &= frame["price"].between(*price_range)
    frame = frame.loc[keep]
    if len(frame) > max_points:
        frame = frame.nlargest(max_points, "usd")
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    return frame.assign(
        side_txt=frame["side"].map(SIDE_LABELS),
        time_txt=frame["time"].dt.strftime("%d %b %H:%M:%S"),
        price_txt=[format_price(p) for p in frame["price"]],
        usd_txt=[format_usd(u) for u in frame["usd"]],
    )


def realized_layer(realized: pd.DataFrame, x_scale: alt.Scale, y_scale: alt.Scale,
                   max_points: int = MAX_MARKERS) -> alt.Chart:
    """Realized liquidations as circles sized by USD (longs and shorts in their side colours).

    Only rows inside the scales' domains are drawn (``realized_points``); compose with the heatmap
    as ``alt.layer(heatmap_chart(...), realized_layer(...))`` using ``raster_scales(raster)``.
    """
    x0, x1 = _domain(x_scale)
    y0, y1 = _domain(y_scale)
    points = realized_points(realized, (pd.Timestamp(x0), pd.Timestamp(x1)), (float(y0), float(y1)), max_points)
    top = float(points["usd"].max()) if len(points) else 1.0
    return (
        alt.Chart(points[["time", "price", "usd", *MARKER_TOOLTIP]])
        .mark_circle(opacity=0.85, stroke="#ffffff", strokeWidth=0.6, clip=True)
        .encode(
            x=alt.X("time:T", scale=x_scale),
            y=alt.Y("price:Q", scale=y_scale),
            size=alt.Size("usd:Q", scale=alt.Scale(domain=[0, top], range=list(MARKER_AREA)), legend=None),
            color=_side_colour(),
            order=alt.Order("usd:Q", sort="descending"),  # small markers drawn last, on top
            tooltip=[alt.Tooltip(f, title=t) for f, t in MARKER_TOOLTIP.items()],
        )
    )


def per_candle_frame(hm: Heatmap, realized_candles: pd.DataFrame, max_bars: int = MAX_BARS,
                     baseline: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Realized and model liquidated USD per candle (summed into at most ``max_bars`` time groups).

    Parameters
    ----------
    hm
        The model's heatmap (its ``liquidated_long`` / ``liquidated_short``).
    realized_candles
        ``core.accuracy.realized.realized_per_candle(realized, hm.times, hm.timeframe)``.
    max_bars
        Consecutive candles are summed so that at most this many bars are drawn.
    baseline
        Optional (long, short) USD per candle of the move x OI baseline
        (``core.accuracy.per_candle.move_oi_baseline``), drawn as a third panel.

    Returns
    -------
    pd.DataFrame
        One row per (group, source, side): t0, t1, source, side_txt, usd, signed (longs negative,
        drawn below zero), usd_txt, time_txt.
    """
    n = len(hm.times)
    edges = group_edges(n, max_bars)
    step = candle_length(hm.timeframe, hm.times)
    t0 = hm.times[edges[:-1]] if n else pd.DatetimeIndex([], tz="UTC")
    t1 = hm.times[edges[1:] - 1] + step if n else pd.DatetimeIndex([], tz="UTC")
    series = {
        ("realized", "long"): realized_candles["long_usd"].to_numpy(float),
        ("realized", "short"): realized_candles["short_usd"].to_numpy(float),
        ("model", "long"): np.asarray(hm.liquidated_long, float),
        ("model", "short"): np.asarray(hm.liquidated_short, float),
    }
    if baseline is not None:
        series[("baseline", "long")] = np.asarray(baseline[0], float)
        series[("baseline", "short")] = np.asarray(baseline[1], float)
    rows = []
    for (source, side), values in series.items():
        sums = np.add.reduceat(np.nan_to_num(values), edges[:-1]) if n else np.array([])
        rows.append(pd.DataFrame({"t0": t0, "t1": t1, "source": SOURCE_LABELS[source], "side_txt": SIDE_LABELS[side],
                                  "usd": sums, "signed": -sums if side == "long" else sums}))
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.loc[frame["usd"] > 0].reset_index(drop=True)
    return frame.assign(
        usd_txt=[format_usd(u) for u in frame["usd"]],
        time_txt=frame["t0"].dt.strftime("%d %b %H:%M") + " – " + frame["t1"].dt.strftime("%H:%M"),
    )


def per_candle_chart(frame: pd.DataFrame, time_range: tuple[pd.Timestamp, pd.Timestamp],
                     width: int = 760, height: int = 120) -> alt.VConcatChart:
    """Bar panels on one time axis: realized USD per candle above, the model's below (and the
    move x OI baseline's when the frame has it).

    Longs liquidated point down, shorts up. Each panel has its own USD axis: exchanges publish a
    sample of their liquidations, so only the timing and the long/short balance compare, not the size.
    """
    x_scale = alt.Scale(domain=[pd.Timestamp(t).isoformat() for t in time_range], nice=False)
    panels = []
    sources = [s for s in SOURCE_LABELS.values() if s != SOURCE_LABELS["baseline"] or (frame["source"] == s).any()]
    for i, source in enumerate(sources):
        last = i == len(sources) - 1
        part = frame.loc[frame["source"] == source]
        panels.append(
            alt.Chart(part if len(part) else frame.head(0))
            .mark_rect()
            .encode(
                x=alt.X("t0:T", scale=x_scale, axis=alt.Axis(title=None, format="%d %b %H:%M", labels=last, labelOverlap=True, tickCount=8,
                                                             ticks=last, labelFontSize=AXIS_FONT, grid=False)),
                x2=alt.X2("t1:T"),
                y=alt.Y("signed:Q", title=f"{source} (USD)", axis=alt.Axis(
                    labelExpr=ABS_DOLLAR_LABEL, tickCount=4, labelFontSize=AXIS_FONT,
                    titleFontSize=AXIS_FONT, titleFontWeight="normal")),
                y2=alt.Y2Datum(0),
                color=_side_colour(),
                tooltip=[alt.Tooltip("time_txt:N", title="Time (UTC)"), alt.Tooltip("side_txt:N", title="Side"),
                         alt.Tooltip("usd_txt:N", title="USD")],
            )
            .properties(width=width, height=height)
        )
    return alt.vconcat(*panels, spacing=12, resolve=alt.Resolve(scale=alt.ScaleResolveMap(x="shared", y="independent")))


def calibration_frame(score: Score) -> pd.DataFrame:
    """The score's calibration as rows (decile, what, share) for a grouped bar chart."""
    cal = score.calibration
    frame = pd.concat([
        pd.DataFrame({"decile": cal["decile"], "what": "Realized USD", "share": cal["realized_share"]}),
        pd.DataFrame({"decile": cal["decile"], "what": "Model's own USD", "share": cal["model_share"]}),
    ], ignore_index=True)
    return frame.assign(share_txt=[f"{s:.1%}" if np.isfinite(s) else "–" for s in frame["share"]])


def calibration_chart(score: Score, width: int = 420, height: int = 260) -> alt.LayerChart:
    """Deciles of model density (1 dimmest .. 10 brightest) -> share of realized USD, beside the
    share of the model's own USD; the dashed line is what a map without information would get."""
    frame = calibration_frame(score)
    colour = alt.Color("what:N", scale=alt.Scale(domain=["Realized USD", "Model's own USD"],
                                                 range=["#e45756", "#9d9d9d"]),
                       legend=alt.Legend(orient="top", title=None, labelFontSize=AXIS_FONT))
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("decile:O", title="Decile of the map's USD in the window (10 = brightest bands)",
                axis=alt.Axis(labelAngle=0, labelFontSize=AXIS_FONT)),
        xOffset=alt.XOffset("what:N", sort=["Realized USD", "Model's own USD"]),
        y=alt.Y("share:Q", title="Share of USD", axis=alt.Axis(format="%", labelFontSize=AXIS_FONT)),
        color=colour,
        tooltip=[alt.Tooltip("decile:O", title="Decile"), alt.Tooltip("what:N", title="Series"),
                 alt.Tooltip("share_txt:N", title="Share")],
    )
    uniform = float(np.nanmean(score.calibration["band_share"])) if len(score.calibration) else 0.1
    rule = alt.Chart(pd.DataFrame({"share": [uniform]})).mark_rule(strokeDash=[4, 3], color="#cccccc").encode(
        y=alt.Y("share:Q"))
    return alt.layer(bars, rule, width=width, height=height)


def _pct(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "n/a"


def _times(value: float) -> str:
    return f"{value:.2f}×" if np.isfinite(value) else "n/a"


def score_reading(score: Score) -> str:
    """The score in one or two plain sentences (no markdown from data: numbers only)."""
    if score.n_scored == 0:
        return "No liquidation could be scored against this map (see the reasons below)."
    top = f"{score.top_share:.0%}"
    text = (f"The model put {_pct(score.hit_share)} of the realized USD in its brightest {top} of bands "
            f"(±{score.window_pct:g}% around the price): {_times(score.lift_uniform)} a uniform guess")
    if np.isfinite(score.lift_baseline):
        verdict = ("better than" if score.lift_baseline > 1.05 else
                   "worse than" if score.lift_baseline < 0.95 else "about as good as")
        text += (f", and {_times(score.lift_baseline)} a map that only knows the distance to the price "
                 f"(which scores {_pct(score.baseline_share)}): {verdict} distance alone.")
    else:
        text += "."
    return text


def skipped_frame(score: Score) -> pd.DataFrame:
    """Liquidations not scored, by reason (empty when every one was scored)."""
    return pd.DataFrame(list(score.skipped), columns=["reason", "count"])
