"""Chart builders for the leverage-sensitivity page (Altair, no Streamlit).

* ``shared_rasters``: several heatmaps coloured on ONE ember scale (its top is set by the
  "Highlight" from the cells of all of them, ``core.charts.raster.colour_top``), so equal colours
  mean equal USD;
* ``difference_raster`` / ``difference_chart`` / ``difference_legend``: chosen minus default on
  a diverging scale with a dark middle (no change fades into the dark background). Its ends are
  green (less than the default) and magenta (more), ColorBrewer's colour-blind-safe PiYG pair:
  blue and orange already mean longs and shorts on every chart of the app;
* ``compared_pictures``: the rasters and hover cells of both maps and their difference, in one
  value (the page caches it);
* ``profile_comparison_chart``: the liquidation map now, chosen assumptions as bars, the
  default model as outlines on the same axes;
* ``sweep_chart``: USD at risk and distance to the nearest big cluster as one assumption sweeps
  its range, the current value marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import altair as alt
import numpy as np
import pandas as pd

from core.charts.axes import AXIS_FONT, dollar_axis
from core.charts.colours import diverging_hex, diverging_lut, ember_hex, ember_rgba
from core.charts.heatmap import TOOLTIP_FIELDS, price_path, profile_frame, tooltip_cells
from core.charts.raster import Raster, cells_of, colour_top, raster_of, side_grid, visible_rows
from core.constants import DEFAULT_OUTLINE, LONG_COLOR, PRICE_COLOR, SHORT_COLOR
from core.format import format_price, format_usd
from core.grid.bands import HIGHLIGHT_DEFAULT, highlight_top
from core.grid.types import Heatmap, Profile
from core.sensitivity_state import ENTRY_LABELS
from core.sensitivity_sweeps import SweepSpec

CHOICE_TICKS = {"hlc3": "Typical price", "close": "Close", "open": "Open", "ohlc4": "OHLC average"}  # sweep axis
DIFF_TOOLTIPS = {"time_txt": "Time (UTC)", "band_txt": "Price band", "dlong_txt": "Longs vs default",
                 "dshort_txt": "Shorts vs default"}


# --------------------------------------------------------------------------------------------
# Rasters
# --------------------------------------------------------------------------------------------


def shared_rasters(
    heatmaps: Sequence[Heatmap],
    side: str = "both",
    price_range: tuple[float, float] | None = None,
    *,
    highlight: float = HIGHLIGHT_DEFAULT,
    max_cols: int = 900,
    max_rows: int = 400,
) -> tuple[Raster, ...]:
    """Each heatmap coloured with the ember map over [0, vmax], vmax computed ONCE over all of them.

    vmax is the ``colour_top`` at ``highlight`` of the whole grids of every heatmap together (not
    only the price range shown), so the same USD gets the same colour in each picture.
    """
    grids = [side_grid(hm, side) for hm in heatmaps]
    vmax = colour_top(grids, highlight, max_rows, max_cols)
    rows = [visible_rows(hm, price_range) for hm in heatmaps]
    return tuple(raster_of(hm, r, ember_rgba(cells_of(g[r], max_rows, max_cols), vmax), vmax)
                 for hm, g, r in zip(heatmaps, grids, rows))


def _check_same_axes(chosen: Heatmap, default: Heatmap) -> None:
    if chosen.long.shape != default.long.shape or not np.array_equal(chosen.price_edges, default.price_edges):
        raise ValueError("the two heatmaps must share their price axis and candles")


def difference_raster(
    chosen: Heatmap,
    default: Heatmap,
    side: str = "both",
    price_range: tuple[float, float] | None = None,
    *,
    highlight: float = HIGHLIGHT_DEFAULT,
    max_cols: int = 900,
    max_rows: int = 400,
) -> Raster:
    """``chosen - default`` coloured on the diverging map over [-vmax, vmax].

    Both heatmaps must share their price axis and candles (compute them with one ``price_range``).
    vmax is the ``highlight_top`` of the non-zero absolute differences of the whole grids (at the
    raster's resolution), as ``colour_top`` does for a map. Cells with no difference are transparent.
    """
    _check_same_axes(chosen, default)
    rows = visible_rows(chosen, price_range)
    whole = side_grid(chosen, side) - side_grid(default, side)
    vmax = highlight_top(np.abs(cells_of(whole, max_rows, max_cols)), highlight)
    diff = cells_of(whole[rows], max_rows, max_cols)
    level = np.clip(diff / vmax, -1.0, 1.0)
    rgba = np.zeros(diff.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = diverging_lut(256)[np.round((level + 1.0) / 2.0 * 255).astype(int)]
    rgba[..., 3] = np.where(diff != 0, 255, 0)
    return raster_of(chosen, rows, rgba, vmax)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def signed_usd(value: float) -> str:
    """USD with an explicit ASCII sign (Streamlit's metric reads it): +$1.2M, -$300K, $0."""
    if value == 0 or not np.isfinite(value):
        return "$0"
    return ("+" if value > 0 else "-") + format_usd(abs(value))


HOVER_CELLS = (40, 28)  # (time, price) cells carrying the tooltips of a compared picture


def hover_cells(hm: Heatmap, price_range: tuple[float, float] | None) -> pd.DataFrame:
    """The coarse hover grid of a compared picture (``core.charts.tooltip_cells``, fewer cells)."""
    return tooltip_cells(hm, price_range, *HOVER_CELLS)


def difference_cells(chosen_cells: pd.DataFrame, default_cells: pd.DataFrame) -> pd.DataFrame:
    """Hover cells of the difference from both maps' ``hover_cells`` (same axes): the change in
    long and short USD of each cell."""
    if len(chosen_cells) != len(default_cells) or not np.array_equal(chosen_cells["p0"], default_cells["p0"]):
        raise ValueError("the two hover grids must share their cells")
    sign = np.vectorize(signed_usd, otypes=[object])
    return chosen_cells.assign(dlong_txt=sign(chosen_cells["long_usd"] - default_cells["long_usd"]),
                               dshort_txt=sign(chosen_cells["short_usd"] - default_cells["short_usd"]))


@dataclass(frozen=True)
class ComparedPictures:
    """Everything the page draws of two maps on one price axis except the charts themselves: both
    rasters on one colour scale (``shared_rasters``), their difference (``difference_raster``) and
    the hover cells of each (``hover_cells``, ``difference_cells``)."""

    rasters: tuple[Raster, Raster]
    difference: Raster
    cells: tuple[pd.DataFrame, pd.DataFrame]
    difference_cells: pd.DataFrame


def compared_pictures(default: Heatmap, chosen: Heatmap, price_range: tuple[float, float] | None, *,
                      highlight: float = HIGHLIGHT_DEFAULT, max_cols: int = 900, max_rows: int = 400) -> ComparedPictures:
    """The default and chosen maps' ``ComparedPictures`` (both sides, ``highlight`` as on the heatmap page)."""
    rasters = shared_rasters([default, chosen], "both", price_range, highlight=highlight,
                             max_cols=max_cols, max_rows=max_rows)
    cells = (hover_cells(default, price_range), hover_cells(chosen, price_range))
    diff = difference_raster(chosen, default, "both", price_range, highlight=highlight,
                             max_cols=max_cols, max_rows=max_rows)
    return ComparedPictures((rasters[0], rasters[1]), diff, cells, difference_cells(cells[1], cells[0]))


def _picture(hm: Heatmap, raster: Raster, cells: pd.DataFrame, tooltips: dict[str, str], width: int, height: int) -> alt.LayerChart:
    """A raster with hover cells (``tooltips``: field -> title) and the close-price line on top."""
    x_scale = alt.Scale(domain=[raster.x0.isoformat(), raster.x1.isoformat()], nice=False)
    y_scale = alt.Scale(domain=[raster.y0, raster.y1], nice=False, zero=False)
    frame = pd.DataFrame({"url": [raster.data_url], "t0": [raster.x0], "t1": [raster.x1], "p0": [raster.y0], "p1": [raster.y1]})
    image = alt.Chart(frame).mark_image(aspect=False).encode(
        x=alt.X("t0:T", scale=x_scale, axis=alt.Axis(title=None, format="%d %b %H:%M", labelFontSize=AXIS_FONT, grid=False)),
        x2=alt.X2("t1:T"),
        y=alt.Y("p0:Q", scale=y_scale, axis=alt.Axis(title="Price (USD)", format=",.0f", labelFontSize=AXIS_FONT, grid=False)),
        y2=alt.Y2("p1:Q"),
        url=alt.Url("url:N"),
    )
    hover = alt.Chart(cells[["t0", "t1", "p0", "p1", *tooltips]]).mark_rect(opacity=0.0, fill="white").encode(
        x=alt.X("t0:T", scale=x_scale), x2=alt.X2("t1:T"), y=alt.Y("p0:Q", scale=y_scale), y2=alt.Y2("p1:Q"),
        tooltip=[alt.Tooltip(f, title=t) for f, t in tooltips.items()],
    )
    line = alt.Chart(price_path(hm, max_points=width)).mark_line(color=PRICE_COLOR, strokeWidth=1.2).encode(
        x=alt.X("time:T", scale=x_scale), y=alt.Y("close:Q", scale=y_scale)
    )
    # A canvas (Streamlit picks SVG below 2,000 marks): one bitmap for the image and the hover grid.
    return alt.layer(image, hover, line, width=width, height=height, usermeta={"embedOptions": {"renderer": "canvas"}})


def compared_heatmap_chart(
    hm: Heatmap, raster: Raster, cells: pd.DataFrame, width: int = 440, height: int = 320
) -> alt.LayerChart:
    """One of the compared heatmaps: a raster of ``shared_rasters``, its ``hover_cells``, the price."""
    return _picture(hm, raster, cells, TOOLTIP_FIELDS, width, height)


def difference_chart(
    chosen: Heatmap, raster: Raster, cells: pd.DataFrame, width: int = 440, height: int = 320
) -> alt.LayerChart:
    """The difference raster (``difference_raster``) with its ``difference_cells`` and the price."""
    return _picture(chosen, raster, cells, DIFF_TOOLTIPS, width, height)


def gradient_legend(lo: float, hi: float, colours: Sequence[str], title: str, width: int = 470) -> alt.Chart:
    """A horizontal colour bar from ``lo`` to ``hi`` USD with an axis (draw it about 60 px tall)."""
    steps = np.linspace(lo, hi, 65)
    frame = pd.DataFrame({"usd": steps[:-1], "next": steps[1:]})
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("usd:Q", scale=alt.Scale(domain=[lo, hi], nice=False),
                    axis=dollar_axis(title=title, tickCount=5)),
            x2=alt.X2("next:Q"),
            y=alt.YValue(0),
            y2=alt.Y2Value(12),
            color=alt.Color("usd:Q", scale=alt.Scale(range=list(colours), domain=[lo, hi]), legend=None),
        )
        .properties(width=width, height=12)
    )


def shared_legend(vmax: float, width: int = 470) -> alt.Chart:
    """The ember scale of ``shared_rasters`` from $0 to its top value."""
    return gradient_legend(0.0, vmax, ember_hex(9), "USD per price band (same scale in both pictures)", width)


def difference_legend(vmax: float, width: int = 470) -> alt.Chart:
    """The diverging scale of ``difference_raster``: -vmax (less than the default, green) to +vmax (more, magenta)."""
    return gradient_legend(-vmax, vmax, diverging_hex(11), "← fewer than default · more than default → (USD per band)", width)


def profile_comparison_chart(
    chosen: Profile,
    default: Profile,
    price_range: tuple[float, float] | None = None,
    width: int = 420,
    height: int = 330,
    max_rows: int = 120,
) -> alt.LayerChart:
    """The liquidation map now: chosen assumptions as bars (longs blue, shorts orange), the default
    model as white outlines of the same bands, on one USD axis."""
    if not np.array_equal(chosen.price_edges, default.price_edges):
        raise ValueError("the two profiles must share their price axis")
    lo, hi = price_range or (float(chosen.price_edges[0]), float(chosen.price_edges[-1]))
    y_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    mine, base = profile_frame(chosen, price_range, max_rows), profile_frame(default, price_range, max_rows)
    fprice = np.vectorize(format_price, otypes=[object])
    fusd = np.vectorize(format_usd, otypes=[object])
    rows = pd.DataFrame({
        "p0": mine["p0"], "p1": mine["p1"], "band": fprice(mine["p0"]) + " – " + fprice(mine["p1"]),
        "side": np.where(mine["long_usd"] >= mine["short_usd"], "Longs", "Shorts"),
        "usd": mine["long_usd"] + mine["short_usd"], "default_usd": base["long_usd"] + base["short_usd"],
    })
    rows = rows.assign(yours_txt=fusd(rows["usd"]), default_txt=fusd(rows["default_usd"]))
    y = alt.Y("p0:Q", scale=y_scale, axis=alt.Axis(title=None, format=",.0f", orient="right", labelFontSize=AXIS_FONT))
    tips = [alt.Tooltip("band:N", title="Price band"), alt.Tooltip("yours_txt:N", title="Your assumptions"),
            alt.Tooltip("default_txt:N", title="Default model")]
    colour = alt.Color("side:N", scale=alt.Scale(domain=["Longs", "Shorts"], range=[LONG_COLOR, SHORT_COLOR]),
                       legend=alt.Legend(orient="bottom", title=None))
    bars = alt.Chart(rows[rows["usd"] > 0]).mark_rect(opacity=0.9).encode(
        x=alt.X("usd:Q", title="USD per band: bars yours, white line default",
                axis=dollar_axis(tickCount=4)),
        x2=alt.X2Value(0), y=y, y2=alt.Y2("p1:Q"), color=colour, tooltip=tips,
    )
    # The default's outline: a step line through (USD, band bottom), closed at the last band's top.
    edge = pd.DataFrame({"default_usd": np.append(rows["default_usd"].to_numpy(), 0.0),
                         "p0": np.append(rows["p0"].to_numpy(), rows["p1"].to_numpy()[-1:])}) if len(rows) else rows
    outline = alt.Chart(edge).mark_line(interpolate="step-before", color=DEFAULT_OUTLINE, strokeWidth=1.1).encode(
        x=alt.X("default_usd:Q"), y=alt.Y("p0:Q", scale=y_scale), order=alt.Order("p0:Q")
    )
    price = alt.Chart(pd.DataFrame({"price": [chosen.price], "label": [f"now {format_price(chosen.price)}"]}))
    rule = price.mark_rule(color=PRICE_COLOR, strokeWidth=1.2, strokeDash=[4, 2]).encode(y=alt.Y("price:Q", scale=y_scale))
    label = price.mark_text(color=PRICE_COLOR, align="left", dx=4, dy=-6, fontSize=10).encode(
        x=alt.XValue(width * 0.55), y=alt.Y("price:Q", scale=y_scale), text=alt.Text("label:N")
    )
    return alt.layer(bars, outline, rule, label, width=width, height=height)


# --------------------------------------------------------------------------------------------
# Sweep
# --------------------------------------------------------------------------------------------


def value_text(value: Any, unit: str) -> str:
    """A swept value in words: 35%, 0.50%, 12 h, $10.0K, off, Candle close."""
    if value is None or (unit == "hours" and value == 0):
        return "off"
    if unit == "share":
        return f"{float(value):.0%}"
    if unit == "rate":
        return f"{float(value):.2%}"
    if unit == "hours":
        return f"{float(value):g} h"
    if unit == "usd":
        return format_usd(float(value))
    if unit == "leverage":
        return f"{float(value):.3g}x"
    if unit == "number":
        return f"{float(value):.3g}"
    return ENTRY_LABELS.get(str(value), str(value))


def _same(a: Any, b: Any) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a == b)


def sweep_frame(frame: pd.DataFrame, spec: SweepSpec, within_pct: float, current: Any = None) -> pd.DataFrame:
    """Long form of a ``core.grid.sweeps.sweep`` result for plotting: one row per value and line.

    Columns: x (plotted value: percent for shares and rates, NaN for "off", else the value),
    x_txt, panel ("risk" or "cluster"), line, y, y_txt, current (the row of ``current``).
    """
    label = f"{float(within_pct):g}pct"
    lines = {
        ("risk", f"long_usd_{label}"): f"Longs within −{within_pct:g}%",
        ("risk", f"short_usd_{label}"): f"Shorts within +{within_pct:g}%",
        ("cluster", "cluster_below_pct"): "Nearest big cluster below",
        ("cluster", "cluster_above_pct"): "Nearest big cluster above",
    }
    scale = 100.0 if spec.unit in ("share", "rate") else 1.0
    values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in frame["value"]]  # NaN: "off"
    x = [CHOICE_TICKS.get(v, v) if spec.unit == "choice" else (np.nan if v is None else float(v) * scale) for v in values]
    parts = []
    for (panel, column), name in lines.items():
        y = frame[column].to_numpy(dtype="float64")
        text = [format_usd(v) if panel == "risk" else (f"{v:.2f}%" if np.isfinite(v) else "no big cluster on the map") for v in y]
        parts.append(pd.DataFrame({"x": x, "x_txt": [value_text(v, spec.unit) for v in values],
                                   "panel": panel, "line": name, "y": y, "y_txt": text,
                                   "current": [_same(v, current) for v in values]}))
    return pd.concat(parts, ignore_index=True)


def _x_encoding(spec: SweepSpec, xs: pd.Series) -> alt.X:
    """The sweep's x channel: names in order, a log axis for hours and USD, else linear."""
    title = spec.label + (" (%)" if spec.unit in ("share", "rate") else " (hours)" if spec.unit == "hours"
                          else " (x)" if spec.unit == "leverage" else "")
    if spec.unit == "choice":
        return alt.X("x:N", title=spec.label, sort=None, axis=alt.Axis(labelAngle=0, labelFontSize=AXIS_FONT))
    if spec.unit in ("hours", "usd", "leverage"):
        usd = spec.unit == "usd"
        domain = [float(xs.min()), float(xs.max())]
        return alt.X("x:Q", title=title, scale=alt.Scale(type="log", domain=domain, nice=False),
                     axis=dollar_axis() if usd else alt.Axis(format="~g", labelFontSize=AXIS_FONT))
    return alt.X("x:Q", title=title, axis=alt.Axis(labelFontSize=AXIS_FONT))


def _panel(data: pd.DataFrame, spec: SweepSpec, current: Any, title: str, y: alt.Y, colours: list[str],
           width: int, height: int, autosize: dict | None = None) -> alt.LayerChart:
    """One sweep panel: a line per metric, the current value's points and rule, and the "off"
    value (a half-life of none) as dashed levels labelled "no decay"; ``autosize``: Vega-Lite's."""
    domain = list(dict.fromkeys(data["line"]))
    colour = alt.Color("line:N", scale=alt.Scale(domain=domain, range=colours), legend=alt.Legend(orient="bottom", direction="vertical", title=None, labelLimit=0))
    tips = [alt.Tooltip("x_txt:N", title=spec.label), alt.Tooltip("line:N", title="Metric"), alt.Tooltip("y_txt:N", title="Value")]
    on_axis = data[data["x"].notna()] if spec.unit != "choice" else data
    x = _x_encoding(spec, on_axis["x"])
    layers: list[alt.Chart] = [
        alt.Chart(on_axis).mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=18)).encode(x=x, y=y, color=colour, tooltip=tips)
    ]
    off = data[data["x"].isna()] if spec.unit != "choice" else data.iloc[0:0]
    if len(off):
        width_off = 2.5 if current is None else 1.2
        layers.append(alt.Chart(off).mark_rule(strokeDash=[4, 3], strokeWidth=width_off).encode(y=y, color=colour, tooltip=tips))
        layers.append(alt.Chart(off).mark_text(align="right", dx=-2, dy=-6, fontSize=10).encode(
            x=alt.XValue(width), y=y, color=colour, text=alt.TextValue("no decay")))
    mark = data[data["current"]]
    if len(mark) and (spec.unit == "choice" or mark["x"].notna().all()):
        layers.append(alt.Chart(mark).mark_point(size=140, filled=True, stroke=PRICE_COLOR, strokeWidth=1.5)
                      .encode(x=x, y=y, color=colour, tooltip=tips))
        layers.append(alt.Chart(mark.head(1)).mark_rule(color=PRICE_COLOR, strokeDash=[2, 3], strokeWidth=1).encode(x=x))
    return alt.layer(*layers, width=width, height=height, title=title, **({"autosize": autosize} if autosize else {}))


def sweep_chart(
    frame: pd.DataFrame, spec: SweepSpec, current: Any, within_pct: float, width: int = 460, height: int = 250
) -> alt.HConcatChart:
    """USD at risk within +-``within_pct`` % and the distance to the nearest big cluster above and
    below, as ``spec``'s assumption sweeps its values; the current value is a large ringed point
    on each curve (for a half-life, "off" is drawn as a dashed level across the panel)."""
    risk, cluster = sweep_panels(frame, spec, current, within_pct, width, height)
    return alt.hconcat(risk, cluster, spacing=40, resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")))


def sweep_panels(
    frame: pd.DataFrame, spec: SweepSpec, current: Any, within_pct: float, width: int = 460, height: int = 250,
    autosize: dict | None = None,
) -> tuple[alt.LayerChart, alt.LayerChart]:
    """``sweep_chart``'s two panels as separate charts (each can fill its own column, or stack on a phone);
    ``autosize`` is Vega-Lite's, for both."""
    data = sweep_frame(frame, spec, within_pct, current)
    risk = _panel(data[data["panel"] == "risk"], spec, current, f"USD liquidated by a {within_pct:g}% move",
                  alt.Y("y:Q", title="USD (estimated)", axis=dollar_axis()),
                  [LONG_COLOR, SHORT_COLOR], width, height, autosize)
    cluster = _panel(data[data["panel"] == "cluster"], spec, current, "Distance to the nearest big cluster",
                     alt.Y("y:Q", title="% from the price", axis=alt.Axis(labelFontSize=AXIS_FONT)),
                     [LONG_COLOR, SHORT_COLOR], width, height, autosize)
    return risk, cluster
